"""``heradecode residuals`` with two ephemerides 1 Hz apart, on a decoded simulated recording (end to end)."""

import json

import numpy as np
import pytest

from heradecode.cli import main
from heradecode.ephem.predict import DopplerRequest, predict
from heradecode.sim import SimParams, simulate
from tests.ephem.ephem_synthetic import NAIF_ID, UNIX_TO_ET

START = "2024-10-07T16:23:59Z"  # one second before a UTC minute: whole 60 s intervals
T0 = float(np.datetime64(START.rstrip("Z"), "ns").astype(np.int64)) / 1e9
DURATION_S = 243.0
C = 299_792_458.0
F_DOWN = 8435.75e6


@pytest.fixture(autouse=True)
def _astropy_offline():
    from astropy.utils import iers

    with iers.conf.set_temp("auto_download", False):
        yield


def straight_line_spk(path, dv_los_m_s=0.0):
    """A target 0.02 au away on a straight line at ~4 km/s; ``dv_los_m_s`` added along the line of sight."""
    import spiceypy

    et0, et1 = T0 - 3600 + UNIX_TO_ET, T0 + 3600 + UNIX_TO_ET
    epochs = np.linspace(et0, et1, 121)
    p0 = np.array([-1.2e9, 2.6e9, 0.9e9])
    vel = np.array([2.0e3, -3.0e3, 1.5e3]) + dv_los_m_s * p0 / np.linalg.norm(p0)
    states = np.hstack([p0 + np.outer(epochs - et0, vel), np.tile(vel, (epochs.size, 1))]) / 1e3
    handle = spiceypy.spkopn(str(path), "straight line", 0)
    spiceypy.spkw13(handle, NAIF_ID, 399, "J2000", float(et0), float(et1), "straight line", 3, epochs.size,
                    states.tolist(), epochs.tolist())
    spiceypy.spkcls(handle)
    return path


def injected_error_hz(t):
    """What the ephemeris gets wrong (Hz): an offset and a slow drift."""
    return 0.25 + 1e-3 * (np.asarray(t) - T0)


@pytest.mark.slow
def test_two_ephemerides_one_hertz_apart_are_told_apart(tmp_path, capsys):
    a = straight_line_spk(tmp_path / "a.bsp")
    b = straight_line_spk(tmp_path / "b.bsp", dv_los_m_s=-C / F_DOWN)  # receding 3.55 cm/s less: about +1 Hz
    t = T0 - 4.0 + 2.0 * np.arange(int((DURATION_S + 8) / 2))
    pred_a = predict(DopplerRequest(rx="ATA", kernels=(str(a),)), t).freq_hz
    pred_b = predict(DopplerRequest(rx="ATA", kernels=(str(b),)), t).freq_hz
    assert 0.9 < np.mean(pred_b - pred_a) < 1.1  # the two ephemerides are 1 Hz apart
    truth = pred_a + injected_error_hz(t)  # the spacecraft flies ephemeris A, plus an error
    params = SimParams.preset("low", samp_rate=256e3, duration_s=DURATION_S, start_time=START, ebn0_db=8.0,
                              doppler=list(zip(t.tolist(), truth.tolist())), datatype="ci16_le", seed=9)
    simulate(params, tmp_path / "rec")
    dop = tmp_path / "used.txt"
    dop.write_text("".join(f"{u:.3f} {f + 3.0:.6f}\n" for u, f in zip(t, pred_a)))  # decoder's profile: 3 Hz off
    out = tmp_path / "dec"
    main(["decode", str(tmp_path / "rec.sigmf-meta"), "--mode", "low", "--doppler", str(dop), "--out", str(out),
          "--quiet"])
    capsys.readouterr()
    assert main(["residuals", str(out), "--interval-s", "60", "--rx", "ATA", "--ephemeris", f"A={a}",
                 "--ephemeris", f"B={b}"]) == 0
    printed = capsys.readouterr().out
    assert "smallest rms: A" in printed
    res_a = np.genfromtxt(out / "residuals_A.csv", delimiter=",", names=True)
    res_b = np.genfromtxt(out / "residuals_B.csv", delimiter=",", names=True)
    good = res_a["locked"] == 1
    assert good.sum() >= 3
    # the injected error is recovered to < 0.02 Hz rms at 60 s integration
    err = res_a["residual_hz"][good] - injected_error_hz(res_a["unix_time"][good])
    assert np.sqrt(np.mean(err ** 2)) < 0.02
    # and ephemeris B shows the same error 1 Hz further: told apart
    diff = res_a["residual_hz"][good] - res_b["residual_hz"][good]
    assert np.all(np.abs(diff - np.interp(res_a["unix_time"][good], t, pred_b - pred_a)) < 0.02)
    png = (out / "doppler_residuals_compare.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    doc = json.loads((out / "radio_science.json").read_text())
    assert doc["intervals"]["60s"]["good"] >= 3

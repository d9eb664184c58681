"""Issue 6 end to end: the recording's Doppler comes from one trajectory, the decoder is given another;
``heradecode decode`` still locks and its residuals recover the ephemeris error."""

import csv

import numpy as np

from heradecode.cli import main
from heradecode.ephem.predict import DopplerRequest, predict
from heradecode.sim import SimParams, simulate, simulated_frames
from tests.ephem.ephem_synthetic import ET_PERIGEE, UNIX_TO_ET, write_spk

T0 = 1728315000.0  # 2024-10-07T15:30:00 UTC, 35 min after the synthetic perigee
DURATION_S = 6.0


def _spk(path, perigee_shift_s):
    et0 = T0 + UNIX_TO_ET
    return write_spk(path, et0 - 3600, et0 + 3600, et_perigee=ET_PERIGEE + perigee_shift_s)


def test_residuals_recover_an_injected_ephemeris_error(tmp_path):
    true_spk = _spk(tmp_path / "true.bsp", 0.0)
    wrong_spk = _spk(tmp_path / "wrong.bsp", 120.0)  # the decoder's trajectory: perigee 2 min late
    times = np.arange(T0 - 2, T0 + DURATION_S + 3, 1.0)
    req = dict(rx="ATA", tx="DSS-24", mode="three-way")
    true = predict(DopplerRequest(kernels=(str(true_spk),), **req), times)
    wrong = predict(DopplerRequest(kernels=(str(wrong_spk),), **req), times)
    injected = wrong.freq_hz - true.freq_hz
    assert 100 < np.min(np.abs(injected)) and np.max(np.abs(injected)) < 5000  # hundreds of Hz to kHz
    assert np.ptp(injected) > 5.0  # and drifting (about 1 Hz/s)

    start = np.datetime_as_string(np.datetime64(int(T0 * 1e9), "ns"), unit="s") + "Z"
    params = SimParams.preset("high", samp_rate=1.536e6, duration_s=DURATION_S, start_time=start,
                              doppler=list(zip(times.tolist(), true.freq_hz.tolist())), ebn0_db=4.0,
                              pol_angle_deg=40.0, seed=5)
    simulate(params, tmp_path / "rec")
    out = tmp_path / "decoded"
    rc = main(["decode", str(tmp_path / "rec.sigmf-meta"), "--mode", "high", "--out", str(out), "--quiet",
               "--kernels", str(wrong_spk), "--rx", "ATA", "--tx", "DSS-24", "--doppler-mode", "three-way"])
    assert rc == 0
    frames = (out / "frames.u8").read_bytes()
    assert len(frames) == 1113 * len(simulated_frames(params))
    rows = list(csv.DictReader(open(out / "residuals.csv")))
    t = np.array([float(r["unix_time"]) for r in rows])
    res = np.array([float(r["residual_hz"]) for r in rows])
    locked = np.array([r["locked"] == "1" for r in rows])
    assert locked.sum() >= DURATION_S - 2
    expected = -np.interp(t, times, injected)  # observed (true) minus predicted (wrong)
    err = (res - expected)[locked]
    assert np.sqrt(np.mean(err ** 2)) < 0.1, err
    assert (out / "doppler_residuals.png").stat().st_size > 10_000

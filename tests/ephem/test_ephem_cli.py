"""``heradecode doppler`` and ``heradecode residuals`` end to end (through heradecode.cli.main)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from .ephem_synthetic import START_UNIX
from heradecode.cli import main
from heradecode.cli.doppler import (add_ephemeris_arguments, load_request, parse_utc, profile_from_args,
                                    request_from_args, save_request)
from heradecode.products.carrier import CarrierObservable, write_carrier_csv
from heradecode.ephem.predict import DopplerRequest, predict
from heradecode.io.dopplerfile import read_doppler_profile


def _png_ok(path):
    data = path.read_bytes()
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_doppler_command_writes_profile_and_plot(outbound_spk, tmp_path, capsys):
    out, png, table = tmp_path / "doppler.txt", tmp_path / "doppler.png", tmp_path / "table.csv"
    code = main(["doppler", "--spacecraft", "HERA", "--rx", "ATA", "--tx", "DSS-24", "--start", "2024-10-07T16:24:00",
                 "--duration", "600", "--step", "1", "--downlink-mhz", "8435.75", "--kernels", str(outbound_spk),
                 "--mode", "three-way", "-o", str(out), "--plot", str(png), "--table", str(table)])
    assert code == 0
    prof = read_doppler_profile(out)
    assert prof.unix_time.size == 601 and prof.start == START_UNIX and prof.end == START_UNIX + 600
    ref = predict(DopplerRequest(rx="ATA", tx="DSS-24", kernels=(str(outbound_spk),)), prof.unix_time)
    np.testing.assert_allclose(prof.freq_hz, ref.freq_hz, atol=1e-6)
    assert _png_ok(png)
    rows = table.read_text().splitlines()
    assert rows[0].startswith("unix_time,freq_hz,range_rate_down_m_s") and len(rows) == 602
    assert "three-way Doppler DSS-24 -> ATA" in capsys.readouterr().out


def test_doppler_command_defaults_and_one_way(outbound_spk, tmp_path):
    out = tmp_path / "one.txt"
    assert main(["doppler", "--rx", "dss24", "--start", "1728318240", "--duration", "10", "--kernels",
                 str(outbound_spk), "-o", str(out)]) == 0
    prof = read_doppler_profile(out)
    ref = predict(DopplerRequest(rx="DSS-24", mode="one-way", kernels=(str(outbound_spk),)), prof.unix_time)
    np.testing.assert_allclose(prof.freq_hz, ref.freq_hz, atol=1e-6)


@pytest.mark.parametrize("argv,message", [
    (["--rx", "DSS-99"], "unknown station 'DSS-99'"),
    (["--rx", "ATA", "--tx", "Jodrell"], "unknown station 'Jodrell'"),
    (["--rx", "ATA", "--start", "yesterday"], "bad time 'yesterday'"),
    (["--rx", "ATA", "--turnaround", "x/y"], "bad turnaround ratio"),
    (["--rx", "ATA", "--start", "2025-10-07T16:24:00"], "cover HERA (NAIF ID -91) only over"),
    (["--rx", "ATA", "--spacecraft", "-92"], "no trajectory for -92"),
])
def test_doppler_command_bad_input(outbound_spk, tmp_path, capsys, argv, message):
    base = ["doppler", "--start", "2024-10-07T16:24:00", "--duration", "10", "--kernels", str(outbound_spk),
            "-o", str(tmp_path / "x.txt")]
    # later options win: put the case's options last
    code = main(base + argv)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_doppler_command_needs_a_source(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("HERADECODE_KERNELS", raising=False)
    code = main(["doppler", "--rx", "ATA", "--start", "2024-10-07T16:24:00", "--duration", "10",
                 "-o", str(tmp_path / "x.txt")])
    assert code == 2 and "give --kernels" in capsys.readouterr().err


def test_helpers_for_other_commands(outbound_spk):
    parser = argparse.ArgumentParser()
    parser.add_argument("--other")
    add_ephemeris_arguments(parser, rx_default="ATA")
    args = parser.parse_args(["--tx", "DSS-24", "--kernels", str(outbound_spk), "--other", "1"])
    req = request_from_args(args)
    assert req.stations()[0].name == "ATA" and req.backend == "spice"
    prof = profile_from_args(args, START_UNIX, 30.0, 1.0)
    assert prof.unix_time.size == 31
    ref = predict(req, prof.unix_time)
    np.testing.assert_allclose(prof.freq_hz, ref.freq_hz, atol=1e-9)
    assert parse_utc("2024-10-07T16:24:00Z") == START_UNIX == parse_utc("2024-10-07 16:24:00+00:00")
    # a command with its own --mode renames ours
    other = argparse.ArgumentParser()
    other.add_argument("--mode", choices=["low", "high"])
    add_ephemeris_arguments(other, mode_flag="--doppler-mode")
    args = other.parse_args(["--mode", "low", "--doppler-mode", "two-way", "--rx", "DSS-24", "--horizons"])
    req = request_from_args(args)
    assert args.mode == "low" and req.mode == "two-way" and req.backend == "horizons"


def _decode_dir(tmp_path, spk, drift_fn, *, seed=1, with_json=True):
    """A decode directory whose carrier is the prediction from ``spk`` plus an injected drift."""
    rng = np.random.default_rng(seed)
    t = START_UNIX + np.arange(0.0, 900.0)
    request = DopplerRequest(rx="ATA", tx="DSS-24", kernels=(str(spk),))
    truth = predict(request, t).freq_hz + drift_fn(t - t[0])
    observed = truth + rng.normal(0.0, 0.05, t.size)
    locked = np.ones(t.size, bool)
    locked[:20] = False  # acquisition
    observed[:20] = rng.uniform(-5e3, 5e3, 20)
    cn0 = np.where(locked, 48.0, 30.0) + rng.normal(0, 0.5, t.size)
    d = tmp_path / "decode"
    d.mkdir()
    write_carrier_csv(d / "carrier.csv", CarrierObservable(t, observed, cn0, locked))
    if with_json:
        save_request(d / "doppler.json", request)
    return d, t, locked


def test_residuals_command_recovers_an_injected_drift(outbound_spk, tmp_path, capsys):
    def drift(dt):
        return 180.0 + 0.4 * dt / 60.0 + 2.0 * np.sin(dt / 200.0)  # a few hundred Hz, drifting

    d, t, locked = _decode_dir(tmp_path, outbound_spk, drift)
    assert main(["residuals", str(d)]) == 0
    res = np.genfromtxt(d / "residuals.csv", delimiter=",", names=True)
    assert res.dtype.names == ("unix_time", "observed_hz", "predicted_hz", "residual_hz", "cn0_dbhz", "locked")
    ok = res["locked"] == 1
    np.testing.assert_array_equal(ok, locked)
    err = res["residual_hz"][ok] - drift(t[ok] - t[0])
    assert np.sqrt(np.mean(err**2)) < 0.1  # better than 0.1 Hz rms on 1 s points
    assert _png_ok(d / "doppler_residuals.png")
    assert "880 locked of 900 points" in capsys.readouterr().out


def test_residuals_command_against_another_ephemeris(outbound_spk, shifted_spk, tmp_path):
    """A decode made with one kernel, recomputed against another: the residual shows the kernel error."""
    d, t, locked = _decode_dir(tmp_path, outbound_spk, lambda dt: np.zeros_like(dt))
    out_dir = tmp_path / "vs_shifted"
    assert main(["residuals", str(d), "--kernels", str(shifted_spk), "-o", str(out_dir)]) == 0
    res = np.genfromtxt(out_dir / "residuals.csv", delimiter=",", names=True)
    ok = res["locked"] == 1
    shifted = predict(DopplerRequest(rx="ATA", tx="DSS-24", kernels=(str(shifted_spk),)), t).freq_hz
    good = predict(DopplerRequest(rx="ATA", tx="DSS-24", kernels=(str(outbound_spk),)), t).freq_hz
    np.testing.assert_allclose(res["residual_hz"][ok], (good - shifted)[ok], atol=0.3)
    assert np.min(np.abs(good - shifted)) > 20.0  # a 20 s perigee error is tens of Hz
    assert (out_dir / "doppler_residuals.png").is_file()


def test_residuals_command_without_json(outbound_spk, tmp_path, capsys):
    d, _, _ = _decode_dir(tmp_path, outbound_spk, lambda dt: np.full_like(dt, 50.0), with_json=False)
    assert main(["residuals", str(d)]) == 2
    assert "no prediction" in capsys.readouterr().err
    assert main(["residuals", str(d), "--rx", "ATA", "--tx", "DSS-24", "--kernels", str(outbound_spk)]) == 0
    res = np.genfromtxt(d / "residuals.csv", delimiter=",", names=True)
    ok = res["locked"] == 1
    assert np.abs(np.mean(res["residual_hz"][ok]) - 50.0) < 0.02
    # or a Doppler file as the prediction
    prof = predict(DopplerRequest(rx="ATA", tx="DSS-24", kernels=(str(outbound_spk),)),
                   START_UNIX + np.arange(-5.0, 905.0)).to_profile()
    prof.write(tmp_path / "pred.txt")
    assert main(["residuals", str(d), "--doppler", str(tmp_path / "pred.txt")]) == 0
    res = np.genfromtxt(d / "residuals.csv", delimiter=",", names=True)
    assert np.abs(np.mean(res["residual_hz"][res["locked"] == 1]) - 50.0) < 0.02


def test_doppler_json_schema(tmp_path):
    req = DopplerRequest(rx="ATA", tx="itrf:-2354906.711,-4646840.095,3669242.325", kernels=("hera.tm",),
                         uplink_hz=7.16e9)
    save_request(tmp_path / "doppler.json", req, doppler_file="doppler.txt")
    data = json.loads((tmp_path / "doppler.json").read_text())
    assert data["schema"] == "heradecode.doppler/1"
    assert data["rx"] == {"name": "ATA"} and data["tx"]["itrf_m"][0] == -2354906.711
    assert data["doppler_file"] == "doppler.txt" and data["kernels"] == ["hera.tm"]
    back, dfile = load_request(tmp_path / "doppler.json")
    assert back.stations() == req.stations() and back.uplink_hz == 7.16e9 and dfile == "doppler.txt"
    (tmp_path / "bad.json").write_text("{not json")
    from heradecode.errors import UserError

    with pytest.raises(UserError, match="not valid JSON"):
        load_request(tmp_path / "bad.json")

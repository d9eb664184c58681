"""One error path and one warning path for every command (issue 11 findings 1, 6, 7, 10).

Every test runs the real CLI, in a subprocess where the exit code and the whole of stderr matter
(a traceback, a second line from a warning), in-process where the behaviour is enough.
"""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from heradecode.cli import main
from heradecode.io import sigmf_write
from tests.helpers import HERA_DOPPLER, HIGH, SIM_DIR


def _cli(*argv, env=None):
    return subprocess.run([sys.executable, "-m", "heradecode", *map(str, argv)], capture_output=True, text=True,
                          env=env)


def _one_line(stderr: str, command: str) -> str:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr, stderr
    assert all(ln.startswith(f"heradecode {command}:") for ln in lines), stderr
    return stderr


def _sigmf(tmp_path, name, data: np.ndarray, *, samp_rate=384000, datatype="ci16_le", channels=2):
    """A SigMF recording of ``data`` (raw components, already in the file's dtype)."""
    data.tofile(tmp_path / f"{name}.sigmf-data")
    sigmf_write.write_meta(tmp_path / f"{name}.sigmf-meta", datatype=datatype, samp_rate=samp_rate, num_channels=channels,
                  center_freq_hz=8435.75e6, start_time="2024-10-07T16:24:20Z",
                  num_samples=data.size // (2 * channels))
    return tmp_path / f"{name}.sigmf-meta"


# ----------------------------------------------------------------------------- finding 1: OSError on outputs
def test_output_below_a_regular_file_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "some_file"
    blocker.write_text("not a directory")
    assert main(["frames", str(HIGH), "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "heradecode frames: error:" in err and str(blocker / "sub") in err
    soft = tmp_path / "soft.f32"
    np.zeros(1000, np.float32).tofile(soft)
    assert main(["turbo-decode", str(soft), "--out", str(blocker / "x.u8")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "heradecode turbo-decode: error:" in err and "x.u8" in err


def test_unwritable_output_is_one_line(tmp_path):
    blocker = tmp_path / "f"
    blocker.write_text("")
    r = _cli("decode", SIM_DIR / "hera_low_sim.sigmf-meta", "--mode", "low", "--doppler", HERA_DOPPLER,
             "--out", blocker / "deeper" / "out", "--quiet")
    assert r.returncode == 2, r.stderr
    assert len(_one_line(r.stderr, "decode").strip().splitlines()) == 1


# ----------------------------------------------------------------------------- findings 6 and 7: exit codes, one line each
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["zeros", "random"])
def test_no_signal_exits_1_with_one_line_each(tmp_path, kind):
    rng = np.random.default_rng(11)
    n = 384000 * 3
    data = (np.zeros(4 * n, np.int16) if kind == "zeros"
            else rng.integers(-32768, 32767, 4 * n, dtype=np.int16, endpoint=True))
    meta = _sigmf(tmp_path, kind, data)
    r = _cli("decode", meta, "--out", tmp_path / "out", "--quiet")
    assert r.returncode == 1, r.stderr
    _one_line(r.stderr, "decode")
    assert "nothing decoded" in r.stderr or "no frames decoded" in r.stderr
    assert "RuntimeWarning" not in r.stderr and "warnings.warn" not in r.stderr


@pytest.mark.slow
def test_wrong_sample_rate_exits_1(tmp_path):
    """The archived low-rate recording labelled 200 ksps: too slow for either mode, so no signal is found."""
    meta = json.loads((SIM_DIR / "hera_low_sim.sigmf-meta").read_text())
    meta["global"]["core:sample_rate"] = 200000
    (tmp_path / "r.sigmf-meta").write_text(json.dumps(meta))
    shutil.copy(SIM_DIR / "hera_low_sim.sigmf-data", tmp_path / "r.sigmf-data")
    r = _cli("decode", tmp_path / "r.sigmf-meta", "--out", tmp_path / "out", "--quiet")
    assert r.returncode == 1, r.stderr
    lines = _one_line(r.stderr, "decode").strip().splitlines()
    assert [ln for ln in lines if "info:" not in ln] == [lines[-1]] and "nothing decoded" in lines[-1]


def test_numpy_runtime_warnings_become_one_line(tmp_path, capsys):
    """A numerical warning raised inside a command prints one line, without its source line."""
    import heradecode.cli.frames as frames_cmd

    def noisy(args):
        np.log(np.zeros(3))  # RuntimeWarning: divide by zero
        np.log(np.zeros(3))  # the same warning again: printed once
        import warnings
        warnings.warn("a library warning\nwith a second line")
        return 0

    orig = frames_cmd.run
    frames_cmd.run = noisy
    try:
        assert main(["frames", str(HIGH)]) == 0
    finally:
        frames_cmd.run = orig
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(ln.startswith("heradecode frames: warning: ") for ln in err), err
    assert "divide by zero" in err[0] and "np.log" not in err[0]
    assert err[1].endswith("a library warning with a second line")


def test_plot_warnings_are_one_line(tmp_path):
    """plot on a lone _0x recording (no _0y partner) and a Doppler profile that misses the span."""
    for ext in ("sigmf-meta", "sigmf-data"):
        shutil.copy(SIM_DIR / f"hera_high_sim_0x.{ext}", tmp_path / f"hera_high_sim_0x.{ext}")
    short = tmp_path / "short.txt"
    short.write_text("0 0\n1 0\n")
    r = _cli("plot", tmp_path / "hera_high_sim_0x.sigmf-meta", "--doppler", short, "--out", tmp_path / "p",
             "--which", "spectrum")
    assert r.returncode == 0, r.stderr
    lines = _one_line(r.stderr, "plot").strip().splitlines()
    assert len(lines) >= 2 and all("warning:" in ln for ln in lines)
    assert any("Doppler profile" in ln for ln in lines)


# ----------------------------------------------------------------------------- finding 10: first contact
def test_ephemeris_request_without_a_source_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("HERADECODE_KERNELS", raising=False)
    r = _cli("decode", SIM_DIR / "hera_low_sim.sigmf-meta", "--rx", "ATA", "--tx", "DSS-24",
             "--out", tmp_path / "o", "--quiet")
    assert r.returncode == 2
    err = _one_line(r.stderr, "decode")
    assert len(err.strip().splitlines()) == 1 and "--rx --tx" in err and "give --kernels" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_demo_residual_reads_against_the_stated_receiver_offset(tmp_path):
    """The demo recording states its -20 kHz receiver offset; without it, a large residual is explained."""
    r = _cli("decode", SIM_DIR / "hera_high_sim_0x.sigmf-meta", "--doppler", HERA_DOPPLER,
             "--out", tmp_path / "a", "--quiet")
    assert r.returncode == 0, r.stderr
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("Doppler residual"))
    assert "receiver offset of -20000 Hz" in line
    mean = float(line.split("mean ")[1].split(" Hz")[0])
    assert abs(mean) < 30.0, line
    assert "constant residual this large" not in r.stdout
    # the same recording without the stated offset: the residual is the offset, and it is explained
    for pol in ("0x", "0y"):
        meta = json.loads((SIM_DIR / f"hera_high_sim_{pol}.sigmf-meta").read_text())
        del meta["global"]["heradecode:carrier_offset_hz"]
        (tmp_path / f"h_{pol}.sigmf-meta").write_text(json.dumps(meta))
        shutil.copy(SIM_DIR / f"hera_high_sim_{pol}.sigmf-data", tmp_path / f"h_{pol}.sigmf-data")
    r = _cli("decode", tmp_path / "h_0x.sigmf-meta", "--doppler", HERA_DOPPLER, "--out", tmp_path / "b", "--quiet")
    assert r.returncode == 0, r.stderr
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("Doppler residual"))
    assert abs(float(line.split("mean ")[1].split(" Hz")[0]) + 20000.0) < 30.0
    assert "constant residual this large is the receiver's frequency error" in r.stdout

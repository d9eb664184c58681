"""``heradecode decode`` on bad input: a clear message, partial results kept, no false frames."""

import hashlib
import json
import shutil
import subprocess
import sys

import numpy as np

from heradecode.cli import main
from heradecode.io import open_recording
from heradecode.receiver import ReceiverConfig, decode_recording
from heradecode.sim import SimParams, simulate
from tests.helpers import HERA_DOPPLER
from tests.helpers import golden
from tests.receiver.helpers import SIM, doppler_of


def _cli(*argv):
    return subprocess.run([sys.executable, "-m", "heradecode", "decode", *map(str, argv), "--quiet"],
                          capture_output=True, text=True)


def test_pure_noise_gives_no_frame(tmp_path):
    params = SimParams.preset("high", samp_rate=1.536e6, duration_s=20.0, ebn0_db=3.0, seed=2,
                              fades=[(0.0, float("-inf")), (20.0, float("-inf"))])
    simulate(params, tmp_path / "noise")
    rec = open_recording(tmp_path / "noise.sigmf-meta")
    cbs = [cb for batch, _ in decode_recording(rec, ReceiverConfig(mode="high")) for cb in batch]
    assert not any(cb.crc_ok for cb in cbs)
    r = _cli(tmp_path / "noise.sigmf-meta", "--mode", "high", "--out", tmp_path / "out")
    assert r.returncode == 1 and "no frames decoded: no carrier found" in r.stderr
    assert "Traceback" not in r.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["frames_total"] == 0
    assert json.loads((tmp_path / "out" / "decode.json").read_text())["codeblocks"] == []


def test_wrong_mode_is_explained(tmp_path):
    r = _cli(SIM / "hera_low_sim.sigmf-meta", "--mode", "high", "--out", tmp_path / "a")
    assert r.returncode == 2 and "wrong --mode?" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    dop = tmp_path / "d.txt"
    doppler_of("hera_high_sim").write(dop)
    r = _cli(SIM / "hera_high_sim_0x.sigmf-meta", "--mode", "low", "--doppler", dop, "--out", tmp_path / "b")
    assert r.returncode == 1 and "wrong mode?" in r.stderr and "Traceback" not in r.stderr


def test_doppler_file_not_covering_the_recording_is_reported(tmp_path):
    prof = doppler_of("hera_low_sim")
    short = tmp_path / "short.txt"
    rec = open_recording(SIM / "hera_low_sim.sigmf-meta")
    t0 = rec.sample_unix_time(0)
    keep = prof.unix_time < t0 + 1.0
    short.write_text("".join(f"{t} {f}\n" for t, f in zip(prof.unix_time[keep], prof.freq_hz[keep])))
    r = _cli(SIM / "hera_low_sim.sigmf-meta", "--doppler", short, "--out", tmp_path / "o")
    assert "the Doppler file covers" in r.stderr and "end values are held" in r.stderr
    assert r.returncode == 0  # the carrier loop follows the small remaining drift


def test_truncated_data_file_decodes_what_is_there(tmp_path):
    shutil.copy(SIM / "hera_low_sim.sigmf-meta", tmp_path / "cut.sigmf-meta")
    data = (SIM / "hera_low_sim.sigmf-data").read_bytes()
    (tmp_path / "cut.sigmf-data").write_bytes(data[: int(len(data) * 0.62) // 4 * 4])
    dop = tmp_path / "d.txt"
    doppler_of("hera_low_sim").write(dop)
    r = _cli(tmp_path / "cut.sigmf-meta", "--doppler", dop, "--out", tmp_path / "o")
    assert r.returncode == 0 and "is truncated" in r.stderr and "reading the" in r.stderr
    got = (tmp_path / "o" / "frames.u8").read_bytes()
    frames = [hashlib.sha256(got[i:i + 1113]).hexdigest() for i in range(0, len(got), 1113)]
    assert 1 <= len(frames) < len(golden("hera_low_sim")) and frames == golden("hera_low_sim")[: len(frames)]


def test_missing_recording_is_one_line(tmp_path):
    r = _cli(tmp_path / "nothing.sigmf-meta")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_ephemeris_and_doppler_file_together_are_refused(tmp_path):
    r = _cli(SIM / "hera_low_sim.sigmf-meta", "--doppler", HERA_DOPPLER, "--kernels", "x.bsp", "--rx", "ATA",
             "--out", tmp_path / "o")
    assert r.returncode == 2 and "not both" in r.stderr



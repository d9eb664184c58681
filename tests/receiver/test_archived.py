"""CI regression: every archived recording decodes to exactly its golden frame list."""

import json

import numpy as np
import pytest

import heradecode

from heradecode.cli import main
from heradecode.io import open_recording
from heradecode.io.sigmf_read import check_metadata
from heradecode.receiver import ReceiverConfig, decode_recording, detect_mode
from tests.helpers import frame_hashes, golden
from tests.receiver.helpers import ARCHIVED, SIM, doppler_of




@pytest.mark.parametrize("name,meta,mode", ARCHIVED)
def test_library_decode_equals_golden(name, meta, mode):
    rec = open_recording(SIM / meta)
    frames = b""
    for cbs, _ in decode_recording(rec, ReceiverConfig(mode=mode), doppler=doppler_of(name)):
        frames += b"".join(cb.frame for cb in cbs if cb.crc_ok)
    assert frame_hashes(frames) == golden(name)


@pytest.mark.parametrize("name,meta,mode", ARCHIVED)
def test_mode_is_detected(name, meta, mode):
    assert detect_mode(open_recording(SIM / meta), doppler=doppler_of(name)) == mode


@pytest.mark.parametrize("name,meta,mode", ARCHIVED)
def test_cli_decode_equals_golden(name, meta, mode, tmp_path, capsys):
    dop = tmp_path / "doppler.txt"
    doppler_of(name).write(dop)
    out = tmp_path / "out"
    assert main(["decode", str(SIM / meta), "--doppler", str(dop), "--out", str(out), "--quiet"]) == 0
    hashes = frame_hashes((out / "frames.u8").read_bytes())
    assert hashes == golden(name)
    log = json.loads((out / "decode.json").read_text())
    assert log["mode"] == mode and len(log["codeblocks"]) == len(hashes)
    assert log["heradecode_version"] == heradecode.__version__ and log["mission"] == "hera"
    truth = json.loads((SIM / f"{name}.truth.json").read_text())
    starts = [row[2] for row in truth["codeblocks"]]
    assert [cb["start_sample"] for cb in log["codeblocks"]] == pytest.approx(starts, abs=2)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames_total"] == len(hashes) and summary["spacecraft_ids"] == {"181": len(hashes)}
    carrier = (out / "carrier.csv").read_text().splitlines()
    assert carrier[0] == "unix_time,doppler_hz,cn0_dbhz,locked" and len(carrier) >= 2
    meta_out = json.loads(next(out.glob("*.decoded.sigmf-meta")).read_text())
    assert sum("heradecode codeblock ok" == a["core:label"] for a in meta_out["annotations"]) == len(hashes)
    check_metadata(meta_out)  # valid SigMF (its schema first), metadata only, naming the recording's data file
    assert meta_out["global"]["core:metadata_only"] is True
    assert meta_out["global"]["heradecode:source_dataset"] == str((SIM / meta).with_suffix(".sigmf-data").resolve())
    printed = capsys.readouterr().out
    assert "codeblocks: " in printed and "1 worker)" in printed  # the default is one worker


@pytest.mark.parametrize("name,meta,mode", ARCHIVED)
def test_receiver_stages_exist_from_init_and_process_alone_decodes(name, meta, mode):
    """A live user feeds chunks to process() without run(): the stages are built by the constructor."""
    from heradecode.receiver import Receiver

    rec = open_recording(SIM / meta)
    rx = Receiver(rec, ReceiverConfig(mode=mode), doppler=doppler_of(name))
    assert rx.demod is not None and rx.pll is None  # the PLL starts once the carrier is acquired
    cbs = []
    step = int(0.05 * rec.samp_rate)
    for a in range(0, rec.num_samples, step):
        cbs += rx.process(rec.read(a, min(step, rec.num_samples - a)))
    cbs += rx.finish()
    assert rx.pll is not None and rx.pll.locked
    assert frame_hashes(b"".join(cb.frame for cb in cbs if cb.crc_ok)) == golden(name)


def test_a_mission_without_a_known_downlink_decodes_and_tracks_phase():
    """No downlink frequency in the profile (JUICE's case): the nominal is the recording's centre, phases stay finite."""
    rec = open_recording(SIM / "hera_high_sim_0x.sigmf-meta")
    cfg = ReceiverConfig(mode="high", downlink_freq_hz=None)
    cbs, tracks = [], []
    for batch, track in decode_recording(rec, cfg, doppler=doppler_of("hera_high_sim")):
        cbs += batch
        tracks.append(track)
    assert frame_hashes(b"".join(cb.frame for cb in cbs if cb.crc_ok)) == golden("hera_high_sim")
    phase = np.concatenate(tracks)["carrier_phase_cycles"]
    assert phase.size and np.all(np.isfinite(phase))

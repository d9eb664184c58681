"""Archived simulated recordings (recordings/sim): regenerated bit for bit, golden lists, decodable.

If a simulator change alters these bytes, the test fails: re-archive on purpose with
``python -m heradecode.sim.archive`` (see recordings/sim/README.md) and commit the new files.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from heradecode.fec.crc import crc16
from heradecode.io import open_recording
from heradecode.sim import read_truth
from heradecode.sim.archive import ARCHIVE_DIR, ARCHIVE_SPECS, read_golden, regenerate

from tests.helpers import REPO
from tests.sim.helpers import check_recording

NAMES = [s.name for s in ARCHIVE_SPECS]


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", NAMES)
def test_regenerates_bit_for_bit(tmp_path, name):
    pairs = regenerate(ARCHIVE_DIR / f"{name}.truth.json", tmp_path)
    assert pairs
    for archived, new in pairs:
        assert archived.stat().st_size == new.stat().st_size, f"{archived.name}: length changed"
        assert _sha(archived) == _sha(new), (
            f"{archived.name} is no longer what the simulator makes from its parameters; "
            "re-archive deliberately with 'python -m heradecode.sim.archive'"
        )
    # the metadata (annotations = truth) are regenerated identically too (the SigMF version may differ)
    for archived, new in pairs:
        old_meta, new_meta = (json.loads(p.with_name(p.name.replace(".sigmf-data", ".sigmf-meta")).read_text())
                              for p in (archived, new))
        for m in (old_meta, new_meta):
            m["global"].pop("core:version")
        assert old_meta == new_meta


@pytest.mark.parametrize("name", NAMES)
def test_golden_list_matches_frames_and_annotations(name):
    truth = read_truth(ARCHIVE_DIR / f"{name}.truth.json")
    golden = read_golden(ARCHIVE_DIR / f"{name}.golden.txt")
    frames = np.fromfile(ARCHIVE_DIR / f"{name}.frames.u8", dtype=np.uint8).reshape(-1, 1113)
    assert len(golden) == len(frames) == truth.num_codeblocks
    for (i, crc, sha), f, row in zip(golden, frames, truth.codeblocks):
        assert i == row["index"] and crc == crc16(f.tobytes()) == row["crc16"]
        assert sha == hashlib.sha256(f.tobytes()).hexdigest()
    layout = truth.params.layout
    rec = open_recording(ARCHIVE_DIR / (f"{name}.sigmf-meta" if layout == "interleaved" else f"{name}.sigmf-collection"))
    assert [a.fields["heradecode:frame_crc16"] for a in rec.annotations] == [g[1] for g in golden]
    assert rec.datatype == "ci8" and rec.num_channels == 2
    assert truth.params.doppler and truth.params.pol_rotation_deg_s != 0  # Doppler and polarization effects


@pytest.mark.parametrize("name", NAMES)
def test_archived_recording_decodes_completely(name):
    truth = read_truth(ARCHIVE_DIR / f"{name}.truth.json")
    frames = np.fromfile(ARCHIVE_DIR / f"{name}.frames.u8", dtype=np.uint8).reshape(-1, 1113)
    rec = open_recording(ARCHIVE_DIR / (name if truth.params.layout == "interleaved" else f"{name}_0x"))
    check_recording(truth, rec, frames, asm_exact=False)


def test_recordings_folder_stays_small():
    total = sum(p.stat().st_size for p in (REPO / "recordings").rglob("*") if p.is_file())
    assert total < 25 * 1024 * 1024

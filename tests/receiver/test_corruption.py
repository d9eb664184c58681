"""A corrupted stretch of an archived recording costs only the codeblocks it overlaps (issue #11).

The archived simulated recordings (ci8, with one SigMF annotation per codeblock giving its sample
range) are copied to a temporary folder and corrupted over 20-50 ms, on one or both channels: a
burst of full-scale samples (random signs, or a constant rail) in the ci8 data or in a ci16
conversion, or a run of NaN in a cf32 conversion (each with a new .sigmf-meta).  Every golden frame
whose codeblock does not overlap the stretch must still be decoded, and no other frame may appear.
The Doppler profile is the one the simulator applied (the launch-day profile, from the truth file).
"""

import json
from pathlib import Path

import numpy as np
import pytest

from heradecode.io import open_recording
from heradecode.receiver import ReceiverConfig, decode_recording
from tests.helpers import SIM_DIR, frame_hashes, golden
from tests.receiver.helpers import doppler_of

RECORDINGS = {"hera_low_sim": ("low", ["hera_low_sim"]),
              "hera_high_sim": ("high", ["hera_high_sim_0x", "hera_high_sim_0y"])}


def _corrupted_copy(tmp_path: Path, name: str, kind: str, where: tuple[int, float], ms: float,
                    channels: tuple[int, ...]) -> tuple[Path, tuple[int, int]]:
    """Copy recording `name` to tmp_path with samples [a, b) corrupted; returns (meta path, (a, b)).

    `where` = (codeblock index, fraction of its length) for the start of the stretch, or
    (codeblock index, -ms) for a stretch that ends that many ms before the codeblock starts.
    `channels` are stream indices across the files (low: 0 = X, 1 = Y in one file; high: one per file).
    `kind`: "burst" (ci8 samples of +-127, random signs), "rail" (ci8 I = Q = 127), "burst16" (the data
    converted to ci16, samples of -32768/32767) or "nan" (the data converted to cf32, NaN samples).
    """
    _, stems = RECORDINGS[name]
    meta0 = json.loads((SIM_DIR / f"{stems[0]}.sigmf-meta").read_text())
    fs = meta0["global"]["core:sample_rate"]
    ann = meta0["annotations"]
    n = int(round(ms * 1e-3 * fs))
    cb, frac = where
    if frac >= 0:
        a = ann[cb]["core:sample_start"] + int(frac * ann[cb]["core:sample_count"])
    else:
        a = ann[cb]["core:sample_start"] - int(round(-frac * 1e-3 * fs)) - n
    b = a + n
    rng = np.random.default_rng(11)
    ch = 0
    for stem in stems:
        meta = json.loads((SIM_DIR / f"{stem}.sigmf-meta").read_text())
        nch = meta["global"]["core:num_channels"]
        raw = np.fromfile(SIM_DIR / f"{stem}.sigmf-data", np.int8).reshape(-1, nch, 2)
        hit = [c for c in range(nch) if ch + c in channels]
        if kind == "nan":
            data = raw.astype(np.float32) / 128.0  # as SigMF readers scale ci8
            data[a:b, hit] = np.nan
            meta["global"]["core:datatype"] = "cf32_le"
        elif kind == "burst16":  # the same recording as ci16, full-scale samples of random signs
            data = raw.astype(np.int16) * 256
            data[a:b, hit] = rng.choice(np.array([-32768, 32767], np.int16), size=(n, len(hit), 2))
            meta["global"]["core:datatype"] = "ci16_le"
        else:
            data = raw.copy()
            full = rng.choice(np.array([-127, 127], np.int8), size=(n, len(hit), 2)) if kind == "burst" else 127
            data[a:b, hit] = full
        data.tofile(tmp_path / f"{stem}.sigmf-data")
        (tmp_path / f"{stem}.sigmf-meta").write_text(json.dumps(meta))
        ch += nch
    return tmp_path / f"{stems[0]}.sigmf-meta", (a, b)


def _spared(name: str, a: int, b: int) -> list[str]:
    """Golden frames whose codeblock (annotated sample range) does not overlap [a, b)."""
    ann = json.loads((SIM_DIR / f"{RECORDINGS[name][1][0]}.sigmf-meta").read_text())["annotations"]
    gold = golden(name)
    assert len(ann) == len(gold)
    keep = []
    for h, an in zip(gold, ann):
        lo, hi = an["core:sample_start"], an["core:sample_start"] + an["core:sample_count"]
        if hi <= a or lo >= b:
            keep.append(h)
    return keep


CASES = [
    # name, kind, (codeblock, fraction | -ms before it), ms, channels
    ("hera_low_sim", "burst", (2, 0.5), 30.0, (0, 1)),
    ("hera_low_sim", "burst", (3, -1.0), 50.0, (0, 1)),
    ("hera_low_sim", "rail", (1, 0.8), 50.0, (0, 1)),
    ("hera_low_sim", "burst", (2, 0.4), 40.0, (0,)),
    ("hera_low_sim", "nan", (2, 0.5), 30.0, (0, 1)),
    ("hera_low_sim", "nan", (3, -1.0), 50.0, (1,)),
    ("hera_high_sim", "burst", (3, 0.5), 30.0, (0, 1)),
    ("hera_high_sim", "burst", (4, 0.3), 50.0, (0,)),
    ("hera_high_sim", "nan", (3, 0.5), 30.0, (0, 1)),
    ("hera_high_sim", "nan", (5, -1.0), 50.0, (1,)),
    ("hera_high_sim", "burst16", (2, 0.6), 40.0, (0, 1)),
    ("hera_low_sim", "burst16", (4, -0.5), 30.0, (1,)),
]

# Corruption inside the first carrier search (the first 0.25 s and the wide search's first second): a
# rail there is a strong spectral line that the searches take for the carrier unless bursts are blanked
# before them (Nco(blank_factor=BLANK_FACTOR) as the receiver's first stage after decimation).
EARLY = [
    ("hera_low_sim", "rail", (0, 0.21), 50.0, (0,)),
    ("hera_low_sim", "burst", (0, 0.1), 50.0, (0, 1)),
    ("hera_high_sim", "rail", (0, 0.3), 30.0, (0, 1)),
    ("hera_high_sim", "nan", (0, 0.5), 50.0, (0, 1)),
]


def _decode_and_check(tmp_path, name, kind, where, ms, channels):
    meta, (a, b) = _corrupted_copy(tmp_path, name, kind, where, ms, channels)
    mode = RECORDINGS[name][0]
    frames = b""
    for cbs, _ in decode_recording(open_recording(meta), ReceiverConfig(mode=mode), doppler=doppler_of(name)):
        frames += b"".join(cb.frame for cb in cbs if cb.crc_ok)
    got = frame_hashes(frames)
    spared = _spared(name, a, b)
    assert len(spared) >= len(golden(name)) - 2
    assert set(got) <= set(golden(name))  # nothing false
    assert [h for h in got if h in spared] == spared  # every codeblock outside the stretch, in order


@pytest.mark.parametrize("name, kind, where, ms, channels", CASES)
def test_corrupted_stretch_costs_only_the_codeblocks_it_overlaps(tmp_path, name, kind, where, ms, channels):
    _decode_and_check(tmp_path, name, kind, where, ms, channels)


@pytest.mark.parametrize("name, kind, where, ms, channels", EARLY)
def test_corruption_in_the_first_carrier_search(tmp_path, name, kind, where, ms, channels):
    # the receiver's Nco blanks bursts (blank_factor=BLANK_FACTOR) before the searches see them
    _decode_and_check(tmp_path, name, kind, where, ms, channels)


@pytest.mark.parametrize("kind, counter", [("nan", "nonfinite_samples"), ("burst", "blanked_samples")])
def test_decode_reports_the_corrupt_samples_it_skipped(tmp_path, capsys, kind, counter):
    """`heradecode decode` says what it skipped, on stdout and in decode.json, and still decodes the rest."""
    from heradecode.cli import main

    meta, (a, b) = _corrupted_copy(tmp_path, "hera_low_sim", kind, (2, 0.5), 30.0, (0, 1))
    doppler_of("hera_low_sim").write(tmp_path / "d.txt")
    out = tmp_path / "out"
    assert main(["decode", str(meta), "--mode", "low", "--doppler", str(tmp_path / "d.txt"), "--out", str(out),
                 "--quiet"]) == 0
    assert "corrupt input skipped: " in capsys.readouterr().out
    doc = json.loads((out / "decode.json").read_text())
    assert doc[counter] >= (b - a) // 2
    assert doc["sync_attempts"] >= doc["sync_confirmed"] >= 0  # weak markers decided by decoding, counted
    assert frame_hashes((out / "frames.u8").read_bytes()) == _spared("hera_low_sim", a, b)

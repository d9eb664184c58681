"""The ``heradecode turbo-decode`` command on synthetic soft-symbol files made from real Hera frames."""

import json

import numpy as np
import pytest

from heradecode.cli import main
from heradecode.fec.asm import asm_bits
from heradecode.fec.crc import append_fecf
from heradecode.fec.randomizer import randomize_bits
from heradecode.fec.turbo import encode
from tests.fec.helpers import real_frames, soft_file

FRAME_LEN = 1113






@pytest.fixture(scope="module")
def frames():
    return real_frames(6)


def test_float_file_decodes_to_the_input_frames(tmp_path, frames, capsys):
    soft = soft_file(tmp_path / "soft.f32", frames)
    out = tmp_path / "frames.u8"
    assert main(["turbo-decode", str(soft), "--out", str(out)]) == 0
    assert out.read_bytes() == b"".join(frames)
    text = capsys.readouterr().out
    assert "6 codeblocks found (0 inverted), 6 decoded, 0 failed CRC" in text
    assert "Hera telemetry: 6 frames read, 6 accepted" in text


def test_json_counts_negative_polarity_and_log_map(tmp_path, frames, capsys):
    soft = soft_file(tmp_path / "soft.f32", frames[:4], polarity=-1, amplitude=0.01, seed=1)
    out = tmp_path / "frames.u8"
    assert main(["turbo-decode", str(soft), "--json", "--out", str(out), "--algorithm", "log-map"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["codeblocks_found"] == 4 and d["codeblocks_inverted"] == 4
    assert d["decoded"] == 4 and d["failed"] == 0 and d["frames_written"] == 4
    assert 1 <= d["mean_iterations"] <= 10
    assert d["telemetry"]["frames_total"] == 4 and d["telemetry"]["spacecraft_ids"] == {"181": 4}
    assert out.read_bytes() == b"".join(frames[:4])


def test_int8_file(tmp_path, frames, capsys):
    soft = soft_file(tmp_path / "soft.i8", frames[:3], fmt="i8", amplitude=20.0, seed=2)
    out = tmp_path / "frames.u8"
    args = ["turbo-decode", str(soft), "--format", "i8", "--out", str(out), "--json", "--algorithm", "max-log"]
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["codeblocks_found"], d["decoded"], d["failed"]) == (3, 3, 0)
    assert out.read_bytes() == b"".join(frames[:3])


def test_corrupted_codeblock_counted_as_failed(tmp_path, frames, capsys):
    soft, starts = soft_file(tmp_path / "soft.f32", frames[:3], seed=3, return_starts=True)
    y = np.fromfile(soft, dtype=np.float32)
    # replace most of the second codeblock (its marker kept) by noise of the same power
    rng = np.random.default_rng(9)
    lo, hi = starts[1] + 128 + 2000, starts[1] + 128 + 35696
    y[lo:hi] = (rng.standard_normal(hi - lo) * y[lo:hi].std()).astype(np.float32)
    y.tofile(soft)
    out = tmp_path / "frames.u8"
    assert main(["turbo-decode", str(soft), "--json", "--out", str(out), "--iterations", "4"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["codeblocks_found"], d["decoded"], d["failed"]) == (3, 2, 1)
    assert out.read_bytes() == frames[0] + frames[2]


def test_empty_and_bad_files(tmp_path, capsys):
    empty = tmp_path / "empty.f32"
    empty.write_bytes(b"")
    assert main(["turbo-decode", str(empty), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["codeblocks_found"] == 0 and d["decoded"] == 0
    odd = tmp_path / "odd.f32"
    odd.write_bytes(b"\x00" * 7)  # one f32 sample and 3 stray bytes: read up to them, and reported
    assert main(["turbo-decode", str(odd), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["trailing_bytes"] == 3
    assert "the last 3 byte(s) make no whole f32 sample" in captured.err
    assert main(["turbo-decode", str(tmp_path / "missing.f32")]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["turbo-decode", str(empty), "--rate", "1/5"])
    assert main(["turbo-decode", str(empty), "--iterations", "0"]) == 2


def test_unfinished_packets_at_the_end_are_counted(tmp_path, frames, capsys):
    """turbo-decode ends the telemetry stream: octets of the last, unfinished packets are counted as partial."""
    soft = soft_file(tmp_path / "soft.f32", frames)
    assert main(["turbo-decode", str(soft), "--json"]) == 0
    tele = json.loads(capsys.readouterr().out)["telemetry"]
    (tmp_path / "f.u8").write_bytes(b"".join(frames))
    assert main(["frames", str(tmp_path / "f.u8"), "--json"]) == 0
    ref = json.loads(capsys.readouterr().out)
    assert tele["data_field_octets"]["in_progress"] == 0
    assert tele["partial_octets_at_end"] == ref["partial_octets_at_end"] and sum(ref["partial_octets_at_end"].values())


# ---------------------------------------------------------------- issue #12 item 3: sync confirmed by decoding

EBN0_TO_ESN0_DB = 10 * np.log10(8920 / 35696)  # rate 1/4 (k = 8920): Es/N0 = Eb/N0 + 10 log10(k / n)


def _gapped_soft_file(path, frames, *, ebn0_db, seed, gap=(300, 20000)):
    """Isolated CADUs (GNU Radio convention) between noise gaps of random length, random polarity each.

    Returns (path, [(asm start, polarity)]).  No gap is shorter than the tolerance of the pair rule, so
    no marker can be confirmed by the one before it: each is on its own, as after a fade.
    """
    rng = np.random.default_rng(seed)
    sigma = np.sqrt(1.0 / (2.0 * 10 ** ((ebn0_db + EBN0_TO_ESN0_DB) / 10)))
    parts, truth, pos = [], [], 0
    for frame in frames:
        g = int(rng.integers(*gap))
        pol = int(rng.choice([-1, 1]))
        parts.append(np.zeros(g))
        truth.append((pos + g, pol))
        pos += g + 128 + 35696
        bits = np.unpackbits(np.frombuffer(append_fecf(frame), dtype=np.uint8))
        cadu = np.concatenate([asm_bits(4), randomize_bits(encode(bits, 4))])
        parts.append(pol * (2.0 * cadu - 1.0))
    parts.append(np.zeros(int(rng.integers(*gap))))
    clean = np.concatenate(parts)
    (clean + sigma * rng.standard_normal(clean.size)).astype(np.float32).tofile(path)
    return path, truth


@pytest.mark.slow
def test_d_every_isolated_codeblock_found_at_1db(tmp_path, capsys):
    """Issue #12 test (d): 40 isolated codeblocks at Eb/N0 1.0 dB (noise gaps, random polarity) all decoded.

    Before sync confirmation by decoding, markers under 6 sigma were lost (3 of 40 here).
    """
    frames = real_frames(40)
    soft, truth = _gapped_soft_file(tmp_path / "soft.f32", frames, ebn0_db=1.0, seed=1212)
    out = tmp_path / "frames.u8"
    assert main(["turbo-decode", str(soft), "--json", "--out", str(out)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["decoded"] == 40 and d["failed"] == 0 and d["codeblocks_found"] == 40
    assert d["codeblocks_inverted"] == sum(p < 0 for _, p in truth)
    assert out.read_bytes() == b"".join(frames)
    assert d["sync"]["confirmed"] >= 1 and d["sync"]["decode_attempts"] >= d["sync"]["confirmed"]

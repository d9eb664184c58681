"""The ``heradecode frames`` command."""

import contextlib
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.cli import main
from tests.helpers import HIGH, LOW_1, LOW_2


def test_text_summary_of_real_file(capsys):
    assert main(["frames", str(LOW_1)]) == 0
    out = capsys.readouterr().out
    assert "56 frames read, 56 accepted" in out
    assert "181 (0x0B5): 56" in out
    assert "real time" in out and "idle" in out
    assert "3/25" in out


def test_json_summary_of_two_files(capsys):
    assert main(["frames", str(LOW_1), str(LOW_2), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["frames_total"] == 56 + 581
    assert d["spacecraft_ids"] == {"181": 637}
    assert d["frames_by_vc"] == {"1": 46 + 456, "7": 10 + 125}


def test_out_dir_products(tmp_path, capsys):
    out = tmp_path / "products"
    assert main(["frames", str(HIGH), "--out", str(out), "--vc", "1", "3"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames_total"] == 2402
    assert (out / "vc1.u8").stat().st_size == 1113 * summary["frames_by_vc"]["1"]
    assert (out / "vc3.u8").stat().st_size == 1113 * summary["frames_by_vc"]["3"]
    assert not (out / "vc7.u8").exists()
    assert (out / "packets.csv").read_text().count("\n") == 1 + sum(summary["packets_by_apid"].values())


def test_trailing_bytes_warned_and_counted(tmp_path, capsys):
    cut = tmp_path / "cut.u8"
    cut.write_bytes(LOW_1.read_bytes()[: 1113 * 10 + 77])
    assert main(["frames", str(cut), "--json"]) == 0
    cap = capsys.readouterr()
    assert json.loads(cap.out)["frames_total"] == 10
    assert json.loads(cap.out)["trailing_bytes"] == 77
    assert "77 trailing octets" in cap.err


def test_with_fecf_frame_length(tmp_path, capsys):
    from heradecode.fec.crc import append_fecf
    data = LOW_1.read_bytes()
    frames = [append_fecf(data[i:i + 1113]) for i in range(0, len(data), 1113)]
    bad = bytearray(frames[5])
    bad[100] ^= 4
    frames[5] = bytes(bad)
    path = tmp_path / "fecf.bin"
    path.write_bytes(b"".join(frames))
    assert main(["frames", str(path), "--frame-length", "1115", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["crc_failures"] == 1 and d["frames_accepted"] == 55


def test_user_errors_are_one_line(tmp_path):
    cases = [
        ["frames", str(tmp_path / "missing.u8")],
        ["frames", str(LOW_1), "--frame-length", "1000"],
        ["frames", str(tmp_path)],
    ]
    (tmp_path / "afile").write_text("x")
    cases.append(["frames", str(LOW_1), "--out", str(tmp_path / "afile")])
    for argv in cases:
        r = subprocess.run([sys.executable, "-m", "heradecode", *argv], capture_output=True, text=True)
        assert r.returncode == 2, argv
        assert "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "error" in r.stderr


def test_bad_scid_option_is_rejected(capsys):
    r = subprocess.run([sys.executable, "-m", "heradecode", "frames", str(LOW_1), "--scid", "xyz"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "not a spacecraft ID" in r.stderr


def test_duplicates_and_unfinished_packets_are_reported(tmp_path, capsys):
    # issue #11 findings 3 and 4: a frame repeated by a merge, and the packets cut by the end of the file
    data = HIGH.read_bytes()
    frames = [data[i:i + 1113] for i in range(0, 1113 * 100, 1113)]
    path = tmp_path / "merged.u8"
    path.write_bytes(b"".join(frames[:60] + frames[58:60] + frames[60:]))
    assert main(["frames", str(path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["duplicate_frames"] == 2 and sum(d["duplicate_frames_by_vc"].values()) == 2
    assert d["partial_packets_at_end"] and sum(d["partial_octets_at_end"].values()) > 0
    o = d["data_field_octets"]
    assert o["in_progress"] == 0
    assert o["total"] == o["in_packets"] + o["idle"] + o["lost"] + o["skipped"] + o["partial_at_end"]
    assert main(["frames", str(HIGH)]) == 0
    out = capsys.readouterr().out
    assert "unfinished at end: VC 1: 1 packet (191 octets), VC 3: 1 packet (105 octets)" in out


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2300), st.integers(1, 60), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 7)),
                                                        max_size=20), st.integers(0, 1112), st.booleans())
def test_mutated_frame_files(start, n_frames, flips, tail, repeat):
    # bit flips anywhere (headers included), a repeated block of frames, a cut last frame: always exit 0
    data = bytearray(HIGH.read_bytes()[1113 * start:1113 * (start + n_frames)])
    for pos, bit in flips:
        data[pos % len(data)] ^= 1 << bit
    if repeat:
        data += data[-1113 * 3:]
    data += bytes(data[:tail])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mutated.u8"
        path.write_bytes(bytes(data))
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            assert main(["frames", str(path), "--json", "--scid", "any"]) == 0
    d = json.loads(out.getvalue())
    assert d["frames_total"] == len(data) // 1113 and d["trailing_bytes"] == len(data) % 1113
    o = d["data_field_octets"]
    assert o["in_progress"] == 0
    assert o["total"] == o["in_packets"] + o["idle"] + o["lost"] + o["skipped"] + o["partial_at_end"]

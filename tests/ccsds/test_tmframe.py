"""TM transfer frame parsing (CCSDS 132.0-B) on the real Hera frames and on built frames."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.ccsds.framer import build_frame
from heradecode.ccsds.tmframe import (
    FHP_IDLE_ONLY,
    FrameError,
    FrameFile,
    parse_frame,
    read_frames,
)
from heradecode.fec.crc import append_fecf
from tests.helpers import HIGH, LOW_1, REAL_FRAME_FILES


def _headers(path):
    """Header fields decoded with numpy bit operations, independently of the parser."""
    a = np.fromfile(path, dtype=np.uint8).reshape(-1, 1113).astype(np.int64)
    return {
        "version": a[:, 0] >> 6,
        "scid": ((a[:, 0] & 0x3F) << 4) | (a[:, 1] >> 4),
        "vcid": (a[:, 1] >> 1) & 7,
        "ocf": a[:, 1] & 1,
        "mc": a[:, 2],
        "vc": a[:, 3],
        "fhp": ((a[:, 4] << 8) | a[:, 5]) & 0x7FF,
    }


@pytest.mark.parametrize("path", REAL_FRAME_FILES, ids=lambda p: p.name[17:])
def test_real_frames_parse_like_numpy_decode(path):
    frames = read_frames(path)
    h = _headers(path)
    assert len(frames) == len(h["scid"]) == path.stat().st_size // 1113
    assert all(f.scid == 181 for f in frames)
    assert all(f.version == 0 for f in frames)
    assert [f.vcid for f in frames] == h["vcid"].tolist()
    assert [f.mc_count for f in frames] == h["mc"].tolist()
    assert [f.vc_count for f in frames] == h["vc"].tolist()
    assert [f.first_header_pointer for f in frames] == h["fhp"].tolist()
    assert [f.index for f in frames] == list(range(len(frames)))
    for f in frames:
        assert f.ocf_flag and len(f.ocf) == 4
        assert len(f.data) == 1113 - 6 - 4
        assert f.fecf is None and f.crc_ok is None
        assert f.raw[6:6 + len(f.data)] == f.data


def test_real_frames_idle_vc_has_idle_pointer():
    frames = read_frames(LOW_1)
    idle = [f for f in frames if f.vcid == 7]
    assert idle and all(f.first_header_pointer == FHP_IDLE_ONLY and f.idle_only for f in idle)


def test_clcw_fields_from_real_frame():
    frame = read_frames(LOW_1)[0]
    assert frame.ocf == bytes.fromhex("01042200")
    clcw = frame.clcw
    # 0x01042200 = 0000 0001 | 0000 0100 | 0010 0010 | 0000 0000:
    # type 0, version 0, status 0, COP 1, VCID 000001, no-RF 0, no-bit-lock 0, lockout 1, wait 0,
    # retransmit 0, FARM-B 01, report 0
    assert clcw.control_word_type == 0
    assert clcw.cop_in_effect == 1
    assert clcw.vcid == 1
    assert clcw.farm_b_counter == 1
    assert clcw.report_value == 0
    assert clcw.lockout
    assert not (clcw.no_rf_available or clcw.no_bit_lock or clcw.wait or clcw.retransmit)


def test_fecf_checked_on_1115_octet_frames():
    raw = HIGH.read_bytes()[:1113]
    good = parse_frame(append_fecf(raw), has_fecf=True)
    assert good.crc_ok is True
    assert good.data == parse_frame(raw, has_fecf=False).data
    bad = bytearray(append_fecf(raw))
    bad[500] ^= 0x10
    assert parse_frame(bytes(bad), has_fecf=True).crc_ok is False


def test_build_frame_round_trip():
    data = bytes(range(256)) * 4 + bytes(1103 - 1024)
    raw = build_frame(data, scid=181, vcid=3, mc_count=200, vc_count=17, first_header_pointer=42,
                      ocf=b"\x01\x02\x03\x04", with_fecf=True)
    assert len(raw) == 1115
    f = parse_frame(raw, has_fecf=True)
    assert (f.scid, f.vcid, f.mc_count, f.vc_count, f.first_header_pointer) == (181, 3, 200, 17, 42)
    assert f.crc_ok and f.data == data and f.ocf == b"\x01\x02\x03\x04"


def test_secondary_header_is_split_from_data():
    body = bytearray(build_frame(bytes(50), scid=181, vcid=1, mc_count=0, vc_count=0, first_header_pointer=0))
    body[4] |= 0x80  # secondary header flag
    body[6] = 0x02  # version 0, length field 2 -> 3 octets
    f = parse_frame(bytes(body), has_fecf=False)
    assert f.secondary_header_flag and len(f.secondary_header) == 3 and len(f.data) == 47


def test_too_short_is_a_frame_error():
    with pytest.raises(FrameError):
        parse_frame(b"\x0b\x53\x00", has_fecf=False)


def test_frame_file_reports_trailing_bytes(tmp_path):
    path = tmp_path / "cut.u8"
    path.write_bytes(LOW_1.read_bytes()[: 1113 * 3 + 100])
    ff = FrameFile(path)
    assert len(ff) == 3 and ff.trailing_bytes == 100
    assert len(list(ff)) == 3
    with pytest.warns(UserWarning, match="100 trailing octets"):
        assert len(read_frames(path)) == 3


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=1200), st.booleans())
def test_parse_arbitrary_bytes_never_raises_anything_but_frame_error(raw, has_fecf):
    try:
        f = parse_frame(raw, has_fecf=has_fecf)
    except FrameError:
        return
    assert 0 <= f.scid < 1024 and 0 <= f.vcid < 8 and 0 <= f.first_header_pointer < 2048
    assert len(f.data) <= len(raw)

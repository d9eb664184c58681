"""AOS transfer frames (CCSDS 732.0-B): parser properties against frames built here with struct."""

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.ccsds.aosframe import AOSFrame, parse_aos_frame, parse_transfer_frame
from heradecode.ccsds.tmframe import FrameError
from heradecode.missions import load_mission
from heradecode.products.telemetry import process_frames
from tests.missions.helpers import EUROPA_CLIPPER, FRAME_LENGTH, crc16_ccitt


def aos_frame(*, scid, vcid, count, replay=False, usage=False, cycle=0, fhec=None, insert=b"", fhp=0,
              spare=0, zone=b"", ocf=None, fecf=True) -> bytes:
    head = struct.pack(">H", (1 << 14) | (scid << 6) | vcid) + count.to_bytes(3, "big")
    head += bytes([(replay << 7) | (usage << 6) | (cycle & 0xF)])
    body = head + (fhec or b"") + insert + struct.pack(">H", (spare << 11) | fhp) + zone + (ocf or b"")
    return body + (struct.pack(">H", crc16_ccitt(body)) if fecf else b"")


fields = st.fixed_dictionaries({
    "scid": st.integers(0, 255), "vcid": st.integers(0, 63), "count": st.integers(0, 2**24 - 1),
    "replay": st.booleans(), "usage": st.booleans(), "cycle": st.integers(0, 15),
    "fhec": st.one_of(st.none(), st.binary(min_size=2, max_size=2)), "insert": st.binary(max_size=12),
    "fhp": st.integers(0, 0x7FF), "spare": st.integers(0, 31), "zone": st.binary(min_size=1, max_size=300),
    "ocf": st.one_of(st.none(), st.binary(min_size=4, max_size=4)), "fecf": st.booleans(),
})


@settings(max_examples=300, deadline=None)
@given(fields)
def test_fields_round_trip(f):
    raw = aos_frame(**f)
    fr = parse_aos_frame(raw, has_fecf=f["fecf"], has_ocf=f["ocf"] is not None, insert_zone_octets=len(f["insert"]),
                         has_fhec=f["fhec"] is not None, index=7)
    assert (fr.version, fr.scid, fr.vcid, fr.index) == (1, f["scid"], f["vcid"], 7)
    assert fr.vc_count == (f["cycle"] << 24 | f["count"] if f["usage"] else f["count"])
    assert fr.vc_count_modulo == (1 << 28 if f["usage"] else 1 << 24)
    assert (fr.replay_flag, fr.vc_count_usage_flag, fr.vc_count_cycle) == (f["replay"], f["usage"], f["cycle"])
    assert fr.fhec == f["fhec"] and fr.insert_zone == f["insert"] and fr.ocf == f["ocf"]
    assert fr.first_header_pointer == f["fhp"] and fr.data == f["zone"] and fr.raw == raw
    assert fr.mc_count is None
    assert fr.crc_ok is (True if f["fecf"] else None)
    assert fr.idle_only == (f["fhp"] == 0x7FE) and fr.no_packet_start == (f["fhp"] == 0x7FF)


@settings(max_examples=200, deadline=None)
@given(fields, st.data())
def test_any_bit_flip_fails_the_fecf(f, data):
    f["fecf"] = True
    raw = bytearray(aos_frame(**f))
    bit = data.draw(st.integers(0, 8 * len(raw) - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    fr = parse_aos_frame(bytes(raw), has_fecf=True, has_ocf=f["ocf"] is not None,
                         insert_zone_octets=len(f["insert"]), has_fhec=f["fhec"] is not None)
    assert fr.crc_ok is False


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.booleans(), st.booleans(), st.integers(0, 20), st.booleans())
def test_arbitrary_octets_parse_or_raise_frame_error(raw, has_fecf, has_ocf, insert, has_fhec):
    try:
        fr = parse_aos_frame(raw, has_fecf=has_fecf, has_ocf=has_ocf, insert_zone_octets=insert, has_fhec=has_fhec)
    except FrameError:
        assert len(raw) < 6 + 2 * has_fhec + insert + 2 + 1 + 2 * has_fecf + 4 * has_ocf
        return
    trailer = 2 * has_fecf + 4 * has_ocf
    assert len(fr.data) == len(raw) - 6 - 2 * has_fhec - insert - 2 - trailer >= 1


def _packet(apid: int, payload: bytes) -> bytes:
    return struct.pack(">HHH", (1 << 11) | apid, 0xC000, len(payload) - 1) + payload


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 0x7FE), st.binary(min_size=1, max_size=700)), min_size=1, max_size=25),
       st.integers(0, 2**24 - 40))
def test_packets_through_europa_clipper_frames_come_back(packets, first_count):
    # pack packets into Europa Clipper's AOS frames (VC 32), as its spacecraft would, then read them back
    mission = load_mission("europa-clipper")
    zone_len = mission.frame_length_no_fecf - 8
    stream, starts = b"", []
    for apid, payload in packets:
        starts.append(len(stream))
        stream += _packet(apid, payload)
    n_frames = -(-len(stream) // zone_len)
    stream += b"\x55" * (n_frames * zone_len - len(stream))  # the last frame padded (an unfinished packet)
    frames = []
    for i in range(n_frames):
        inside = [s - i * zone_len for s in starts if i * zone_len <= s < (i + 1) * zone_len]
        fhp = inside[0] if inside else 0x7FF
        frames.append(aos_frame(scid=0x9F, vcid=32, count=first_count + i, fhp=fhp,
                                zone=stream[i * zone_len:(i + 1) * zone_len], fecf=False))
    s = process_frames(frames, mission=mission, keep_packets=True)
    assert s.frames_accepted == n_frames and s.length_mismatches == 0
    # every packet that ends before the padding comes back, with its APID
    assert sum(s.packets_by_apid.values()) == len(packets)
    assert dict(s.packets_by_apid) == {a: sum(1 for p, _ in packets if p == a) for a in {p for p, _ in packets}}


def test_dispatch_by_profile():
    raw = aos_frame(scid=0x31, vcid=63, count=5, fhp=0x7FE, zone=bytes(1105), fecf=False)
    fr = parse_transfer_frame(raw, load_mission("lucy").frames, has_fecf=False)
    assert isinstance(fr, AOSFrame) and fr.scid == 0x31 and fr.idle_only
    with pytest.raises(FrameError):
        parse_aos_frame(raw[:9], has_fecf=True)


_EC = load_mission("europa-clipper")


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 390), st.integers(1, 10),
       st.lists(st.tuples(st.integers(0, 10**5), st.integers(0, 7)), max_size=12), st.booleans(), st.integers(0, 1112))
def test_mutated_real_aos_frames_are_counted_never_fatal(start, n, flips, repeat, cut):
    data = bytearray(EUROPA_CLIPPER.read_bytes()[FRAME_LENGTH * start:FRAME_LENGTH * (start + n)])
    for pos, bit in flips:
        data[pos % len(data)] ^= 1 << bit
    frames = [bytes(data[i:i + FRAME_LENGTH]) for i in range(0, len(data), FRAME_LENGTH)]
    if repeat:
        frames += frames[-2:]  # exact copies: duplicates, no packet twice
    frames.append(frames[0][:cut])  # a short frame: malformed
    s = process_frames(frames, mission=_EC)
    assert s.frames_total == len(frames)
    assert s.frames_total == (s.frames_accepted + s.duplicate_frames + s.crc_failures + s.wrong_scid
                              + s.bad_version + s.malformed_frames)
    assert s.frames_accepted == sum(s.frames_by_vc.values()) and s.malformed_frames >= 1
    o = s.data_field_octets
    assert o["in_progress"] == 0
    assert o["total"] == o["in_packets"] + o["idle"] + o["lost"] + o["skipped"] + o["partial_at_end"]

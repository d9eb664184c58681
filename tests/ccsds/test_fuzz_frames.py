"""Fuzzing the frame -> VC -> packet -> PUS layer with mutated real Hera frames (issue #11).

Mutations of windows of the real high-rate frames: bit flips, truncation and
extension, random header octets, swapped (reordered) frames, exact repeats.
Documented exceptions only: ``parse_frame`` raises FrameError, nothing else
raises.  Invariants checked on every input:

* frame accounting: frames_total = accepted + duplicates + rejects of each kind,
  and accepted = sum of frames per VC;
* octet accounting: every data-field octet given to reassembly is in a packet,
  idle, lost, skipped or unfinished at the end (nothing in progress after finish);
* every emitted packet has the length its header declares;
* exact repeats change nothing but the duplicate counters: a stream with
  repeats of recent frames inserted gives the same packets and the same summary
  as the stream without them (so no packet is ever emitted twice for them).

The in-process entry point a fuzz benchmark calls per input is
``heradecode.products.telemetry.process_frames(frames, **options)``.
"""

import dataclasses

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from heradecode.ccsds.framer import build_frame
from heradecode.ccsds.mission import PusTmLayout
from heradecode.ccsds.pus import parse_pus_tm, parse_time_packet, pec_ok
from heradecode.ccsds.spacepacket import PacketAssembler, parse_packet_header
from heradecode.ccsds.tmframe import FrameError, TMFrame, parse_frame
from heradecode.fec.crc import append_fecf
from heradecode.products.telemetry import TelemetryProcessor, process_frames
from tests.helpers import HIGH

FRAME_LEN = 1113
_DATA = HIGH.read_bytes()
REAL = [_DATA[i:i + FRAME_LEN] for i in range(0, len(_DATA) - FRAME_LEN + 1, FRAME_LEN)]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# One mutation: (kind, position, a number, an octet value)
_mutation = st.tuples(st.sampled_from(["flip", "truncate", "extend", "header", "swap"]),
                      st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 255))


def _window(start, length, with_fecf):
    frames = REAL[start % len(REAL):][:length]
    return [append_fecf(f) for f in frames] if with_fecf else list(frames)


def _mutate(frames, mutations):
    frames = [bytearray(f) for f in frames]
    for kind, pos, num, octet in mutations:
        if not frames:
            break
        i = pos % len(frames)
        f = frames[i]
        if kind == "flip" and f:
            f[num % len(f)] ^= 1 << (octet % 8)
        elif kind == "truncate":
            del f[num % (len(f) + 1):]
        elif kind == "extend":
            f.extend(bytes([octet]) * (num % 5 + 1))
        elif kind == "header" and f:
            f[num % min(6, len(f))] = octet
        elif kind == "swap":
            j = num % len(frames)
            frames[i], frames[j] = frames[j], frames[i]
    return [bytes(f) for f in frames]


def _insert_repeats(frames, repeats):
    """Insert exact copies of frames after their originals, at most a few frames later."""
    out = list(frames)
    for src, delay in repeats:
        if not out:
            break
        i = src % len(out)
        out.insert(min(len(out), i + 1 + delay), out[i])
    return out


def _check_summary(d, n_frames, packets=None):
    assert d["frames_total"] == n_frames
    assert d["frames_total"] == (d["frames_accepted"] + d["duplicate_frames"] + d["crc_failures"]
                                 + d["wrong_scid"] + d["bad_version"] + d["malformed_frames"])
    assert sum(d["frames_by_vc"].values()) == d["frames_accepted"]
    assert sum(d["duplicate_frames_by_vc"].values()) == d["duplicate_frames"]
    for key, value in d.items():
        if isinstance(value, int) and not isinstance(value, bool):
            assert value >= 0, key
        elif isinstance(value, dict) and key != "last_clcw":
            assert all(v >= 0 for v in value.values()), key
    o = d["data_field_octets"]
    assert o["in_progress"] == 0
    assert o["total"] == o["in_packets"] + o["idle"] + o["lost"] + o["skipped"] + o["partial_at_end"]
    assert sum(d["partial_octets_at_end"].values()) == o["partial_at_end"]
    assert set(d["partial_packets_at_end"]) == set(d["partial_octets_at_end"])
    if packets is not None:
        assert sum(d["packets_by_apid"].values()) == len(packets)
        assert o["in_packets"] == sum(p.packet.length for p in packets)
        for p in packets:
            assert p.packet.length == parse_packet_header(p.packet.raw).packet_length


@FUZZ
@given(st.integers(0, len(REAL)), st.integers(1, 40), st.booleans(), st.lists(_mutation, max_size=12),
       st.lists(st.tuples(st.integers(0, 100), st.integers(0, 6)), max_size=6))
def test_mutated_real_streams_keep_the_books(start, length, with_fecf, mutations, repeats):
    base = _mutate(_window(start, length, with_fecf), mutations)
    stream = _insert_repeats(base, repeats)
    tp = TelemetryProcessor(frame_length=1115 if with_fecf else 1113, keep_packets=True)
    tp.feed_many(stream)
    tp.finish()
    d = tp.summary().to_dict()
    _check_summary(d, len(stream), tp.packets)
    # The repeats were exact copies of recent frames: they change nothing but the duplicate counters.
    ref = TelemetryProcessor(frame_length=1115 if with_fecf else 1113, keep_packets=True)
    ref.feed_many(base)
    ref.finish()
    r = ref.summary().to_dict()
    assert [(p.packet.vcid, p.packet.raw) for p in tp.packets] == [(p.packet.vcid, p.packet.raw) for p in ref.packets]
    # Each inserted copy is counted once more, as a duplicate or (a copy of a rejected frame) as rejected.
    extra = {k: d.pop(k) - r.pop(k) for k in ("frames_total", "duplicate_frames", "crc_failures", "wrong_scid",
                                              "bad_version", "malformed_frames")}
    assert all(v >= 0 for v in extra.values())
    assert extra.pop("frames_total") == sum(extra.values()) == len(stream) - len(base)
    for key in ("duplicate_frames_by_vc", "spacecraft_ids"):  # SCIDs are counted before duplicates are found
        d.pop(key), r.pop(key)
    assert d == r


@FUZZ
@given(st.lists(st.binary(max_size=1200), max_size=20), st.sampled_from([1113, 1115]), st.booleans())
def test_arbitrary_bytes_through_the_processor(chunks, frame_length, any_scid):
    summary = process_frames(chunks, frame_length=frame_length, scid=None if any_scid else "mission")
    _check_summary(summary.to_dict(), len(chunks))


@FUZZ
@given(st.integers(0, len(REAL) - 1), st.lists(_mutation, max_size=6), st.booleans())
def test_parse_frame_raises_only_frame_error(index, mutations, has_fecf):
    raw = REAL[index] if not has_fecf else append_fecf(REAL[index])
    (mutated,) = _mutate([raw], [m for m in mutations if m[0] != "swap"]) or [b""]
    try:
        f = parse_frame(mutated, has_fecf=has_fecf, index=index)
    except FrameError:
        return
    assert isinstance(f, TMFrame) and f.raw == mutated
    assert 0 <= f.vcid < 8 and 0 <= f.scid < 1024 and 0 <= f.first_header_pointer < 2048
    assert f.data in mutated
    assert (f.crc_ok is None) == (not has_fecf)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 255), st.sampled_from([0, 1, 5, 100, 600, 1097, 1102, 0x7FE, 0x7FF, 1500]),
                          st.binary(min_size=0, max_size=1103), st.booleans()), max_size=15),
       st.integers(7, 70_000))
def test_packet_assembler_on_arbitrary_frames(specs, max_len):
    a = PacketAssembler(vcid=1, max_packet_length=max_len)
    packets = []
    for i, (count, fhp, data, gap) in enumerate(specs):
        frame = parse_frame(build_frame(data.ljust(20, b"\0"), scid=181, vcid=1, mc_count=i, vc_count=count,
                                        first_header_pointer=fhp), has_fecf=False, index=i)
        packets += a.feed(frame, discontinuity=gap)
        assert a.unaccounted_octets == 0
    a.flush()
    s = a.stats
    assert a.in_progress == 0 and a.unaccounted_octets == 0
    assert all(v >= 0 for v in dataclasses.asdict(s).values())
    assert s.packets == len(packets) and s.packet_octets == sum(p.length for p in packets)
    for p in packets:
        assert p.length == parse_packet_header(p.raw).packet_length <= max_len and p.version == 0


_LAYOUTS = [PusTmLayout(), PusTmLayout(has_pfield=True), PusTmLayout(has_pfield=True, spare_octets=2),
            PusTmLayout(message_counter_octets=1, destination_id_octets=1, cuc_fine_octets=0)]


@FUZZ
@given(st.one_of(st.binary(max_size=40),
                 st.tuples(st.integers(0, len(REAL) - 1), st.integers(0, 60), st.integers(0, 7))),
       st.sampled_from(_LAYOUTS))
# found by this test: a P-field announcing 4+3 time octets left no room for the layout's spare octets
@example(bytes([0x08, 0, 0, 0, 0, 15, 0x20, 3, 25, 0, 0, 0, 0, 0x2F]) + bytes(8), _LAYOUTS[2])
def test_pus_and_time_parsers_never_raise(source, layout):
    if isinstance(source, bytes):
        raw = source
    else:  # a real packet's start with one bit flipped, cut short
        index, cut, bit = source
        data = parse_frame(REAL[index], has_fecf=False).data
        raw = bytearray(data[:cut])
        if raw:
            raw[cut % len(raw)] ^= 1 << bit
        raw = bytes(raw)
    h = parse_pus_tm(raw, layout)
    if h is not None:
        assert 6 + h.header_length <= len(raw)
        assert h.obt_s >= 0 and 0 <= h.service < 256 and 0 <= h.subtype < 256
    t = parse_time_packet(raw)
    if t is not None:
        assert t.obt_s >= 0
    assert pec_ok(raw) in (True, False)


@pytest.mark.parametrize("between", [0, 3, 63, 64])
def test_process_frames_entry_point_drops_exact_repeats(between):
    base = REAL[100:200]
    stream = base[:11 + between] + [base[10]] + base[11 + between:]  # frame 10 again, `between` frames later
    d = process_frames(stream).to_dict()
    r = process_frames(base).to_dict()
    if between < 64:  # within the window of the last 64 distinct frames
        assert d["duplicate_frames"] == 1 and r["duplicate_frames"] == 0
        assert d["packets_by_apid"] == r["packets_by_apid"] and d["packets_lost"] == r["packets_lost"]
        assert d["mc_counter_gaps"] == r["mc_counter_gaps"]
    else:  # too late to be recognized: an out-of-sequence frame, with the gaps that costs
        assert d["duplicate_frames"] == 0 and d["mc_counter_gaps"] > r["mc_counter_gaps"]

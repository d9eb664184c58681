"""Space packet reassembly (CCSDS 133.0-B) on real Hera frames and on built frame streams."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.ccsds.framer import PacketFramer, build_frame
from heradecode.ccsds.pus import build_pus_tm, pec_ok
from heradecode.ccsds.spacepacket import PacketAssembler, build_packet, parse_packet_header
from heradecode.ccsds.tmframe import parse_frame, read_frames
from heradecode.ccsds.vcdemux import VirtualChannelDemux
from tests.helpers import REAL_FRAME_FILES


def _reassemble(frames):
    demux, asms, packets = VirtualChannelDemux(), {}, []
    for f in frames:
        ev = demux.feed(f)
        a = asms.setdefault(f.vcid, PacketAssembler(vcid=f.vcid))
        packets += a.feed(f, discontinuity=ev.discontinuity)
    return demux, asms, packets


def _parse(raws):
    return [parse_frame(r, has_fecf=False, index=i) for i, r in enumerate(raws)]


@pytest.mark.parametrize("path", REAL_FRAME_FILES, ids=lambda p: p.name[17:])
def test_real_packets_are_consistent(path):
    frames = read_frames(path)
    demux, asms, packets = _reassemble(frames)
    assert packets
    stats = {v: a.stats for v, a in asms.items()}
    assert all(s.length_mismatches == 0 for s in stats.values())
    assert all(s.bad_first_header_pointers == 0 and s.bad_packet_headers == 0 for s in stats.values())
    # Packets are lost only at counter gaps, at most one per gap.
    for v, s in stats.items():
        assert s.packets_lost <= demux.vc_gaps[v] + demux.vc_repeats[v]
    # The idle VC carries idle data only.
    assert 7 not in {p.vcid for p in packets}
    assert stats[7].idle_frames == demux.frames_by_vc[7]
    # Every PUS packet's own CRC (packet error control) checks: reassembly put the right octets together.
    pus = [p for p in packets if p.secondary_header_flag]
    assert pus and all(pec_ok(p) for p in pus)
    # Every first header pointer starts a packet we emitted, unless a counter gap follows within
    # the next frames of that VC (the packet was then discarded as lost).
    starts = {(p.frame_index, p.vcid) for p in packets}
    by_vc = {}
    for f in frames:
        by_vc.setdefault(f.vcid, []).append(f)
    for vc, fs in by_vc.items():
        if vc == 7:
            continue
        for i, f in enumerate(fs):
            if f.first_header_pointer >= 0x7FE or (f.index, vc) in starts:
                continue
            after = fs[i:i + 4]
            assert any((b.vc_count - a.vc_count) % 256 != 1 for a, b in zip(after, after[1:])), f.index
    # Sequence counts rise within an APID between packets of consecutive frames of one VC.
    by_apid = {}
    for p in packets:
        by_apid.setdefault(p.apid, []).append(p.sequence_count)
    hk = by_apid[260]
    rises = sum(1 for a, b in zip(hk, hk[1:]) if (b - a) % 16384 == 1)
    assert rises >= 0.8 * (len(hk) - 1)


def test_packets_split_across_frames_round_trip():
    rng = random.Random(1)
    pkts = [build_packet(300 + i % 5, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))),
                         sequence_count=i) for i in range(60)]
    framer = PacketFramer(vcid=1)
    raws = list(framer.frames(pkts)) + list(framer.flush())
    _, asms, out = _reassemble(_parse(raws))
    got = [p.raw for p in out if not p.is_idle]
    assert got == pkts
    assert asms[1].stats.packets_lost == 0 and asms[1].stats.length_mismatches == 0


def test_first_frame_continuation_is_not_a_packet():
    pkts = [build_packet(256, bytes(2000), sequence_count=i) for i in range(5)]
    framer = PacketFramer(vcid=1)
    raws = list(framer.frames(pkts)) + list(framer.flush())
    _, asms, out = _reassemble(_parse(raws)[1:])  # join mid-packet: frame 1 starts inside packet 0
    assert [p.sequence_count for p in out if not p.is_idle] == [1, 2, 3, 4]
    assert asms[1].stats.packets_lost == 0 and asms[1].stats.length_mismatches == 0


def test_gap_discards_packet_in_progress():
    pkts = [build_packet(256, bytes([i]) * 1500, sequence_count=i) for i in range(8)]
    framer = PacketFramer(vcid=1)
    raws = list(framer.frames(pkts)) + list(framer.flush())
    frames = _parse(raws)
    dropped = 3
    kept = frames[:dropped] + frames[dropped + 1:]
    _, asms, out = _reassemble(kept)
    assert asms[1].stats.packets_lost == 1
    got = {p.sequence_count for p in out if not p.is_idle}
    # the packets touching the dropped frame are missing, every other one is there and intact
    lo, hi = dropped * 1103, (dropped + 1) * 1103
    offs, touched = 0, set()
    for p in pkts:
        h = parse_packet_header(p)
        if offs < hi and offs + len(p) > lo:
            touched.add(h.sequence_count)
        offs += len(p)
    assert got == set(range(8)) - touched
    assert all(p.raw == pkts[p.sequence_count] for p in out if not p.is_idle)


def test_length_mismatch_resyncs_at_pointer():
    # Packet 257 declares 2006 octets, but the next frame's pointer says it ended 20 octets in.
    data1 = build_packet(256, bytes(80)) + build_packet(257, bytes(2000))[:1103 - 86]
    f1 = build_frame(data1, scid=181, vcid=1, mc_count=0, vc_count=0, first_header_pointer=0)
    nxt = build_packet(258, bytes(40))
    data2 = bytes(20) + nxt + build_packet(259, bytes(1103 - 20 - 46 - 6))
    f2 = build_frame(data2, scid=181, vcid=1, mc_count=1, vc_count=1, first_header_pointer=20)
    _, asms, out = _reassemble(_parse([f1, f2]))
    assert asms[1].stats.length_mismatches == 1
    assert [p.apid for p in out] == [256, 258, 259]


def test_impossible_pointer_and_bad_header_are_counted():
    bad_ptr = build_frame(bytes(1103), scid=181, vcid=1, mc_count=0, vc_count=0, first_header_pointer=1500)
    bad_hdr = build_frame(b"\xe0" + bytes(1102), scid=181, vcid=1, mc_count=1, vc_count=1, first_header_pointer=0)
    good = build_frame(build_packet(300, bytes(1097)), scid=181, vcid=1, mc_count=2, vc_count=2,
                       first_header_pointer=0)
    _, asms, out = _reassemble(_parse([bad_ptr, bad_hdr, good]))
    s = asms[1].stats
    assert s.bad_first_header_pointers == 1 and s.bad_packet_headers == 1
    assert [p.apid for p in out] == [300]


def test_oversize_packet_beyond_limit_is_rejected():
    a = PacketAssembler(vcid=1, max_packet_length=4096)
    big = build_packet(300, bytes(8000))
    frames = _parse([build_frame(big[:1103], scid=181, vcid=1, mc_count=0, vc_count=0, first_header_pointer=0)])
    assert a.feed(frames[0]) == []
    assert a.stats.bad_packet_headers == 1 and a.in_progress == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2046), st.integers(1, 2500)), min_size=1, max_size=25),
       st.lists(st.integers(0, 30), max_size=4), st.integers(0, 2**32 - 1))
def test_round_trip_with_dropped_frames(specs, drops, seed):
    rng = random.Random(seed)
    pkts = [build_packet(apid, rng.randbytes(n), sequence_count=i) for i, (apid, n) in enumerate(specs)]
    framer = PacketFramer(vcid=2)
    raws = list(framer.frames(pkts)) + list(framer.flush())
    keep = [r for i, r in enumerate(raws) if i not in set(drops)]
    _, asms, out = _reassemble(_parse(keep))
    want = {bytes(p) for p in pkts}
    for p in out:
        assert p.is_idle or p.raw in want  # never a corrupt packet
    if not set(drops) & set(range(len(raws))):
        assert [p.raw for p in out if not p.is_idle] == pkts


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 255), st.integers(0, 2047),
                          st.binary(min_size=1103, max_size=1103)), max_size=12))
def test_arbitrary_frame_sequences_never_raise(frames):
    raws = [build_frame(d, scid=181, vcid=v, mc_count=i, vc_count=c, first_header_pointer=fhp)
            for i, (v, c, fhp, d) in enumerate(frames)]
    _, asms, out = _reassemble(_parse(raws))
    for p in out:
        assert p.length == parse_packet_header(p.raw).packet_length


def test_pus_packets_built_and_reassembled_keep_their_pec():
    pkts = [build_pus_tm(260, 3, 25, bytes([i]) * (50 + i), sequence_count=i, message_counter=i, obt_s=100.0 + i)
            for i in range(40)]
    framer = PacketFramer(vcid=1)
    raws = list(framer.frames(pkts)) + list(framer.flush())
    _, _, out = _reassemble(_parse(raws))
    assert [p.raw for p in out if not p.is_idle] == pkts
    assert all(pec_ok(p) for p in out if not p.is_idle)


def _ledger_balanced(s, in_progress=0):
    return s.data_octets == (s.packet_octets + s.idle_octets + s.lost_octets + s.skipped_octets
                             + s.partial_octets_at_end + in_progress)


def test_flush_counts_the_unfinished_packet():
    pkts = [build_packet(256, bytes([i]) * 1500, sequence_count=i) for i in range(4)]
    framer = PacketFramer(vcid=1)
    raws = list(framer.frames(pkts))  # no flush: the last packet is cut by the end of the stream
    _, asms, out = _reassemble(_parse(raws))
    a = asms[1]
    held = 4 * 1506 - len(raws) * framer.data_field_length
    assert held > 0 and [p.sequence_count for p in out] == [0, 1, 2]
    assert a.in_progress == 1506 - held
    assert a.flush() == 1506 - held
    assert a.in_progress == 0
    assert a.stats.partial_packets_at_end == 1 and a.stats.partial_octets_at_end == 1506 - held
    assert a.flush() == 0 and a.stats.partial_packets_at_end == 1  # a second end adds nothing
    assert _ledger_balanced(a.stats)


@pytest.mark.parametrize("path", REAL_FRAME_FILES, ids=lambda p: p.name[17:])
def test_every_data_octet_is_accounted_for(path):
    _, asms, _ = _reassemble(read_frames(path))
    for a in asms.values():
        assert _ledger_balanced(a.stats, a.in_progress)
        a.flush()
        assert _ledger_balanced(a.stats) and a.in_progress == 0
        assert a.stats.data_octets > 0

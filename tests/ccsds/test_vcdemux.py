"""Virtual channel demultiplexing and counter-gap detection."""

import numpy as np
import pytest

from heradecode.ccsds.framer import build_frame
from heradecode.ccsds.tmframe import parse_frame, read_frames
from heradecode.ccsds.vcdemux import VirtualChannelDemux
from tests.helpers import REAL_FRAME_FILES


def _frame(vcid, mc, vc):
    return parse_frame(build_frame(bytes(20), scid=181, vcid=vcid, mc_count=mc, vc_count=vc,
                                   first_header_pointer=0x7FF), has_fecf=False)


def test_counters_wrap_at_256_without_gap():
    d = VirtualChannelDemux()
    events = [d.feed(_frame(1, c % 256, c % 256)) for c in range(250, 262)]
    assert events[0].first_on_vc
    assert all(e.vc_gap == 0 and e.mc_gap == 0 and not e.repeat for e in events)
    assert d.vc_gaps[1] == 0 and d.mc_gaps == 0


def test_gaps_are_counted_per_vc_and_on_master_channel():
    d = VirtualChannelDemux()
    seq = [(1, 0, 10), (3, 1, 0), (1, 2, 11), (1, 5, 14), (3, 6, 1), (3, 7, 250), (1, 8, 15)]
    ev = [d.feed(_frame(*s)) for s in seq]
    assert [e.vc_gap for e in ev] == [0, 0, 0, 2, 0, 248, 0]
    assert [e.mc_gap for e in ev] == [0, 0, 0, 2, 0, 0, 0]
    assert d.vc_gaps == {1: 1, 3: 1}
    assert d.vc_frames_missing == {1: 2, 3: 248}
    assert d.mc_gaps == 1 and d.mc_frames_missing == 2
    assert d.frames_by_vc == {1: 4, 3: 3}


def test_repeated_count_is_a_discontinuity():
    d = VirtualChannelDemux()
    d.feed(_frame(1, 0, 5))
    e = d.feed(_frame(1, 1, 5))
    assert e.repeat and e.discontinuity and e.vc_gap == 0
    assert d.vc_repeats[1] == 1


@pytest.mark.parametrize("path", REAL_FRAME_FILES, ids=lambda p: p.name[17:])
def test_real_counts_and_gaps_match_numpy(path):
    frames = read_frames(path)
    d = VirtualChannelDemux()
    for f in frames:
        d.feed(f)
    a = np.fromfile(path, dtype=np.uint8).reshape(-1, 1113).astype(np.int64)
    vcid = (a[:, 1] >> 1) & 7
    for v in np.unique(vcid):
        counts = a[vcid == v, 3]
        steps = np.diff(counts) % 256
        assert d.frames_by_vc[int(v)] == counts.size
        assert d.vc_gaps[int(v)] == int(np.count_nonzero((steps != 1) & (steps != 0)))
        assert d.vc_frames_missing[int(v)] == int(np.sum(np.where(steps > 1, steps - 1, 0)))
    mc_steps = np.diff(a[:, 2]) % 256
    assert d.mc_gaps == int(np.count_nonzero(mc_steps != 1))


# -- duplicates (issue #11, finding 3) ----------------------------------------------------------
def _data_frame(vcid, mc, vc, fill):
    return parse_frame(build_frame(bytes([fill]) * 20, scid=181, vcid=vcid, mc_count=mc, vc_count=vc,
                                   first_header_pointer=0x7FF), has_fecf=False)


def test_exact_repeat_is_a_duplicate_not_a_gap():
    d = VirtualChannelDemux()
    a = _frame(1, 0, 5)
    d.feed(a)
    e = d.feed(_frame(1, 0, 5))  # the same frame again (equal content, parsed anew)
    assert e.duplicate and not e.repeat and not e.discontinuity and e.mc_gap == 0 and e.vc_gap == 0
    nxt = d.feed(_frame(1, 1, 6))
    assert not nxt.duplicate and nxt.mc_gap == 0 and nxt.vc_gap == 0
    assert d.duplicate_frames == {1: 1}
    assert d.frames_by_vc == {1: 2} and d.mc_gaps == 0 and d.vc_gaps[1] == 0 and d.vc_repeats[1] == 0


def test_repeat_a_few_frames_later_is_a_duplicate():
    # A B C B C D on two VCs: the late copies of B and C are duplicates, no gap is counted anywhere.
    seq = [(1, 0, 10), (3, 1, 0), (1, 2, 11), (3, 1, 0), (1, 2, 11), (3, 3, 1)]
    d = VirtualChannelDemux()
    ev = [d.feed(_frame(*s)) for s in seq]
    assert [e.duplicate for e in ev] == [False, False, False, True, True, False]
    assert not any(e.discontinuity or e.mc_gap for e in ev)
    assert d.duplicate_frames == {3: 1, 1: 1}
    assert d.mc_gaps == 0 and sum(d.vc_gaps.values()) == 0


def test_same_counters_other_content_is_not_a_duplicate():
    d = VirtualChannelDemux()
    d.feed(_data_frame(1, 0, 5, 0xAA))
    e = d.feed(_data_frame(1, 0, 5, 0xBB))
    assert not e.duplicate and e.repeat and e.discontinuity
    assert sum(d.duplicate_frames.values()) == 0


def test_duplicate_window_is_bounded():
    d = VirtualChannelDemux(duplicate_window_frames=8)
    for c in range(40):
        d.feed(_frame(2, c, c))
    assert len(d._recent_keys) == 8
    assert d.feed(_frame(2, 38, 38)).duplicate  # still in the window
    assert not d.feed(_frame(2, 20, 20)).duplicate  # forgotten: an old frame counts as out of sequence

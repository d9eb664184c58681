"""Virtual channel demultiplexing with frame-counter gap detection (CCSDS 132.0-B 4.1.2.4-5).

The master channel frame count and each virtual channel's frame count are
8-bit counters that wrap at 256.  A jump of more than one means frames were
lost in between (as far as an 8-bit counter can tell: a loss of a multiple of
256 frames is invisible).

Duplicates.  When overlapping segments or two decodes of the same pass are
merged, a frame can arrive twice, straight after itself or a few frames later
(A B C B C D).  A frame is a *duplicate* when a frame with the same key

    (VCID, MC frame count, VC frame count, 128-bit BLAKE2b digest of all its octets)

is among the last ``duplicate_window_frames`` distinct frames seen (default
64).  A duplicate is counted per VC (``duplicate_frames``) and otherwise
ignored: it does not count as a frame of its VC, it is not a master- or
virtual-channel counter gap, it does not move the counters that the next
frame is compared with, and it must not be given to packet reassembly.  So
A B C B C D is handled exactly as A B C D.

The rules' limits:

* a frame with the same counters but other content (a corrupted copy in a
  file without FECF, or a 256-frame wrap) is not a duplicate: it is a
  *repeat*, a break in the VC's sequence, as before;
* a copy that arrives more than ``duplicate_window_frames`` distinct frames
  after the original is not recognized: it is out of sequence and costs the
  counter gaps and the packets in progress that any out-of-order frame costs
  (its own packets may then be emitted again);
* the window holds fewer frames than the 8-bit counters' period of 256, so
  two different frames cannot share a key unless 256 * k frames were lost
  between them and their octets (counters included) are equal, which only
  idle data can be; such a frame would be counted as a duplicate.

AOS frames (:mod:`heradecode.ccsds.aosframe`) are handled alike: their VC
frame count has 24 bits (28 with the cycle), the frame's ``vc_count_modulo``,
and they have no master channel frame count (``mc_count`` None: no MC gaps).

Memory is bounded: the window is a deque and a set of at most
``duplicate_window_frames`` keys.
"""

from __future__ import annotations

import hashlib
from collections import Counter, deque
from dataclasses import dataclass, field

from heradecode.ccsds.aosframe import TransferFrame

COUNTER_MODULO = 256
DUPLICATE_WINDOW_FRAMES = 64  # distinct frames remembered for duplicate detection (< COUNTER_MODULO)


def frame_key(frame: TransferFrame) -> tuple[int, int, int, bytes]:
    """The duplicate-detection key of a frame: VCID, MC count, VC count and a digest of its octets."""
    return (frame.vcid, frame.mc_count, frame.vc_count, hashlib.blake2b(frame.raw, digest_size=16).digest())


@dataclass(frozen=True, slots=True)
class VcEvent:
    """What the demultiplexer learnt from one frame."""

    vcid: int
    first_on_vc: bool
    vc_gap: int  # frames missing on this VC before this frame (0: none)
    mc_gap: int  # frames missing on the master channel before this frame
    repeat: bool  # same VC count as the previous frame on this VC but other content
    duplicate: bool = False  # an exact copy of a recent frame: ignore it (no packets, no gaps)

    @property
    def discontinuity(self) -> bool:
        """True when the VC's frame sequence is broken before this frame."""
        return bool(self.vc_gap) or self.repeat


@dataclass
class VirtualChannelDemux:
    """Tracks master- and virtual-channel frame counters and duplicates; feed frames in reception order."""

    duplicate_window_frames: int = DUPLICATE_WINDOW_FRAMES
    frames_by_vc: Counter = field(default_factory=Counter)  # distinct frames (duplicates not included)
    vc_gaps: Counter = field(default_factory=Counter)  # number of gap events per VC
    vc_frames_missing: Counter = field(default_factory=Counter)
    vc_repeats: Counter = field(default_factory=Counter)
    duplicate_frames: Counter = field(default_factory=Counter)  # exact copies of recent frames, per VC
    mc_gaps: int = 0
    mc_frames_missing: int = 0
    _last_vc: dict[int, int] = field(default_factory=dict)
    _last_mc: int | None = None
    _recent_order: deque = field(default_factory=deque)
    _recent_keys: set = field(default_factory=set)

    def __post_init__(self) -> None:
        if not 1 <= self.duplicate_window_frames < COUNTER_MODULO:
            raise ValueError(f"duplicate_window_frames must be in 1..{COUNTER_MODULO - 1}")

    def feed(self, frame: TransferFrame) -> VcEvent:
        """Account for one frame and report gaps before it (or that it is a duplicate)."""
        vcid = frame.vcid
        key = frame_key(frame)
        if key in self._recent_keys:
            self.duplicate_frames[vcid] += 1
            return VcEvent(vcid=vcid, first_on_vc=False, vc_gap=0, mc_gap=0, repeat=False, duplicate=True)
        if len(self._recent_order) >= self.duplicate_window_frames:
            self._recent_keys.discard(self._recent_order.popleft())
        self._recent_order.append(key)
        self._recent_keys.add(key)
        self.frames_by_vc[vcid] += 1
        mc_gap = 0
        if frame.mc_count is not None:
            if self._last_mc is not None:
                mc_gap = (frame.mc_count - self._last_mc - 1) % COUNTER_MODULO
                if mc_gap:
                    self.mc_gaps += 1
                    self.mc_frames_missing += mc_gap
            self._last_mc = frame.mc_count
        last = self._last_vc.get(vcid)
        vc_gap = 0
        repeat = last is not None and frame.vc_count == last
        if repeat:
            self.vc_repeats[vcid] += 1
        elif last is not None:
            vc_gap = (frame.vc_count - last - 1) % frame.vc_count_modulo
            if vc_gap:
                self.vc_gaps[vcid] += 1
                self.vc_frames_missing[vcid] += vc_gap
        self._last_vc[vcid] = frame.vc_count
        return VcEvent(vcid=vcid, first_on_vc=last is None, vc_gap=vc_gap, mc_gap=mc_gap, repeat=repeat)

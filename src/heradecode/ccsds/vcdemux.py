"""Virtual channel demultiplexing with frame-counter gap detection (CCSDS 132.0-B 4.1.2.4-5).

The master channel frame count and each virtual channel's frame count are
8-bit counters that wrap at 256.  A jump of more than one means frames were
lost in between (as far as an 8-bit counter can tell: a loss of a multiple of
256 frames is invisible).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from heradecode.ccsds.tmframe import TMFrame

COUNTER_MODULO = 256


@dataclass(frozen=True, slots=True)
class VcEvent:
    """What the demultiplexer learnt from one frame."""

    vcid: int
    first_on_vc: bool
    vc_gap: int  # frames missing on this VC before this frame (0: none)
    mc_gap: int  # frames missing on the master channel before this frame
    repeat: bool  # same VC count as the previous frame on this VC (duplicate or 256-frame loss)

    @property
    def discontinuity(self) -> bool:
        """True when the VC's frame sequence is broken before this frame."""
        return bool(self.vc_gap) or self.repeat


@dataclass
class VirtualChannelDemux:
    """Tracks master- and virtual-channel frame counters; feed frames in reception order."""

    frames_by_vc: Counter = field(default_factory=Counter)
    vc_gaps: Counter = field(default_factory=Counter)  # number of gap events per VC
    vc_frames_missing: Counter = field(default_factory=Counter)
    vc_repeats: Counter = field(default_factory=Counter)
    mc_gaps: int = 0
    mc_frames_missing: int = 0
    _last_vc: dict[int, int] = field(default_factory=dict)
    _last_mc: int | None = None

    def feed(self, frame: TMFrame) -> VcEvent:
        """Account for one frame and report gaps before it."""
        vcid = frame.vcid
        self.frames_by_vc[vcid] += 1
        mc_gap = 0
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
            vc_gap = (frame.vc_count - last - 1) % COUNTER_MODULO
            if vc_gap:
                self.vc_gaps[vcid] += 1
                self.vc_frames_missing[vcid] += vc_gap
        self._last_vc[vcid] = frame.vc_count
        return VcEvent(vcid=vcid, first_on_vc=last is None, vc_gap=vc_gap, mc_gap=mc_gap, repeat=repeat)

"""Attached sync markers of turbo codeblocks (CCSDS 131.0-B section 9) and a streaming soft frame synchronizer.

Each turbo codeblock is preceded by an ASM whose length depends on the code rate:

========  ====  ==================================================
rate      bits  ASM (hex, first transmitted bit = MSB)
========  ====  ==================================================
1/2       64    034776C7272895B0
1/3       96    25D5C0CE8990F6C9461BF79C
1/4       128   034776C7272895B0FCB88938D8D76A4F
1/6       192   25D5C0CE8990F6C9461BF79CDA2A3F31766F0936B9E40863
========  ====  ==================================================

:class:`FrameSync` finds markers in a stream of soft symbols (float32, L = ln P(0)/P(1),
positive = bit 0) delivered in chunks of any size.  Detection statistic: the soft
correlation with the full marker, normalised by the local RMS of the stream (the larger
of the RMS over the ``power_window`` symbols starting with the marker and over those
ending with it): a constant-false-alarm-rate detector, in pure noise the statistic is a
unit-variance Gaussian ("sigma units").  A negative peak means the stream is inverted
(bi-phase-L / BPSK sign ambiguity) and the codeblock is sign-corrected.

Markers are accepted when the statistic reaches ``threshold`` (6 sigma: about one false
marker per 5e8 symbols of noise, i.e. one failed decode per half hour of pure noise at
322 kbaud) or, for weaker markers, when two peaks of at least
``candidate_threshold`` lie exactly one codeblock period apart and their combined
statistic reaches ``threshold``; once locked, the next marker is expected one period
(ASM + codeblock) later and is accepted there with ``track_threshold``.  At the rate-1/4
turbo threshold (Es/N0 = -5.5 dB) a 128-bit marker peaks near 6.8 sigma (the random
code symbols around it count as noise), so in a continuous stream markers are tracked
(and pair-confirmed) with a wide margin; an isolated marker after a gap at that SNR is
missed about one time in six.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numba import njit

from heradecode.errors import UserError
from heradecode.fec.interleaver import check_k

ASM_HEX: dict[int, str] = {
    2: "034776C7272895B0",
    3: "25D5C0CE8990F6C9461BF79C",
    4: "034776C7272895B0FCB88938D8D76A4F",
    6: "25D5C0CE8990F6C9461BF79CDA2A3F31766F0936B9E40863",
}
"""Turbo ASM per inverse code rate, hexadecimal."""


def _check_rate(inv_rate: int) -> int:
    if inv_rate not in ASM_HEX:
        raise UserError(f"turbo inverse rate must be one of {tuple(ASM_HEX)}, got {inv_rate!r}")
    return int(inv_rate)


def asm_bits(inv_rate: int = 4) -> np.ndarray:
    """Bits (uint8 0/1, first transmitted first) of the turbo ASM for rate 1/inv_rate."""
    hexstr = ASM_HEX[_check_rate(inv_rate)]
    return np.unpackbits(np.frombuffer(bytes.fromhex(hexstr), dtype=np.uint8))


def asm_symbols(inv_rate: int = 4) -> np.ndarray:
    """The ASM as BPSK symbols in the LLR convention (bit 0 -> +1, bit 1 -> -1), float32."""
    return (1.0 - 2.0 * asm_bits(inv_rate)).astype(np.float32)


@dataclass(frozen=True)
class Codeblock:
    """One codeblock found by :class:`FrameSync`."""

    asm_index: int
    """Absolute stream index (symbols) of the first ASM symbol."""
    start: int
    """Absolute stream index of the first codeblock symbol (asm_index + ASM length)."""
    polarity: int
    """+1 when the stream had the expected sign, -1 when it was inverted (soft already corrected)."""
    score: float
    """ASM correlation in noise-sigma units (signed, as measured before sign correction)."""
    reason: str
    """How the marker was accepted: 'strong', 'pair', 'tracked' or 'flywheel'."""
    soft: np.ndarray
    """Sign-corrected soft codeblock, float32, (k + 4) * inv_rate values."""


@njit(cache=True, nogil=True, fastmath=True)
def _correlate(y, s, out):
    m = s.shape[0]
    for i in range(out.shape[0]):
        acc = np.float32(0.0)
        for j in range(m):
            acc += s[j] * y[i + j]
        out[i] = acc


class FrameSync:
    """Streaming soft frame synchronizer for turbo codeblocks: ``feed(chunk)`` returns completed :class:`Codeblock` s.

    Memory stays bounded (about two codeblock periods of symbols), whatever the stream length.
    Call :meth:`flush` at the end of the stream to process its last symbols.
    """

    def __init__(
        self,
        k: int = 8920,
        inv_rate: int = 4,
        *,
        threshold: float = 6.0,
        candidate_threshold: float = 3.5,
        track_threshold: float = 3.5,
        tolerance: int = 2,
        flywheel: int = 0,
        power_window: int = 2048,
    ) -> None:
        self.k = check_k(k)
        self.inv_rate = _check_rate(inv_rate)
        self.asm = asm_symbols(self.inv_rate)
        self.asm_len = self.asm.size
        self.codeblock_len = (self.k + 4) * self.inv_rate
        self.period = self.asm_len + self.codeblock_len
        if not (0 < candidate_threshold <= threshold and 0 < track_threshold):
            raise UserError("FrameSync thresholds must be positive with candidate_threshold <= threshold")
        self.threshold = float(threshold)
        self.candidate_threshold = float(candidate_threshold)
        self.track_threshold = float(track_threshold)
        self.tolerance = int(tolerance)
        self.flywheel = int(flywheel)
        self.power_window = int(power_window)
        if self.tolerance < 0 or self.flywheel < 0 or self.power_window < self.asm_len:
            raise UserError("FrameSync tolerance/flywheel must be >= 0 and power_window >= the ASM length")
        # stream buffer: symbols [buf_start, buf_start + len(buf)) and their detection statistic
        self._data = np.zeros(1 << 16, dtype=np.float32)  # capacity; valid part [_off, _off + _total - _buf_start)
        self._zdata = np.zeros(1 << 16, dtype=np.float32)
        self._off = 0
        self._buf_start = 0
        self._total = 0  # symbols received
        self._zdone = 0  # absolute index: z final for positions < _zdone
        self._flushed = False
        # peak clustering
        self._cluster: list[tuple[int, float]] = []  # candidate (pos, z) of the open cluster
        self._recent: list[tuple[int, float]] = []  # unmatched peaks, for pair confirmation
        # lock state
        self._locked = False
        self._expected = 0
        self._misses = 0
        self._last_accept = -(10**18)
        self._pending: list[tuple[int, float, str]] = []  # accepted markers waiting for their data
        # statistics
        self.n_markers = 0
        self.n_truncated = 0

    # ------------------------------------------------------------------ public

    def feed(self, chunk: np.ndarray) -> list[Codeblock]:
        """Add soft symbols (1-D, LLR convention; NaN/inf count as 0) and return the codeblocks now complete."""
        if self._flushed:
            raise UserError("FrameSync.feed called after flush()")
        y = np.asarray(chunk)
        if y.ndim != 1:
            raise UserError(f"FrameSync expects 1-D soft symbols, got shape {y.shape}")
        y = np.nan_to_num(y.astype(np.float32, copy=False), nan=0.0, posinf=0.0, neginf=0.0)
        if y.size:
            self._append(y)
        return self._advance(self._total - self.power_window)

    def flush(self) -> list[Codeblock]:
        """Process the end of the stream; returns the last complete codeblocks (later feeds are refused)."""
        if self._flushed:
            return []
        self._flushed = True
        z_end = self._total - self.asm_len + 1
        if z_end > self._zdone:
            self._compute_z(self._zdone, z_end)
            self._decide(self._zdone, z_end)
            self._zdone = z_end
        if self._cluster:
            self._close_cluster()
        self._resolve_expectations(self._zdone)
        out = self._emit()
        self.n_truncated += len(self._pending)
        self._pending.clear()
        return out

    def process(self, symbols: np.ndarray, chunk_size: int = 1 << 20) -> Iterator[Codeblock]:
        """Run a whole array through feed() in chunks, then flush()."""
        for i in range(0, len(symbols), chunk_size):
            yield from self.feed(symbols[i : i + chunk_size])
        yield from self.flush()

    # ------------------------------------------------------------------ internals

    @property
    def _buf(self) -> np.ndarray:
        return self._data[self._off : self._off + self._total - self._buf_start]

    @property
    def _z(self) -> np.ndarray:
        return self._zdata[self._off : self._off + self._total - self._buf_start]

    def _append(self, y: np.ndarray) -> None:
        used = self._total - self._buf_start
        if self._off + used + y.size > self._data.size:
            cap = self._data.size
            while used + y.size > cap // 2:
                cap *= 2
            data = np.zeros(cap, dtype=np.float32)
            zdata = np.zeros(cap, dtype=np.float32)
            data[:used] = self._data[self._off : self._off + used]
            zdata[:used] = self._zdata[self._off : self._off + used]
            self._data, self._zdata, self._off = data, zdata, 0
        self._data[self._off + used : self._off + used + y.size] = y
        self._zdata[self._off + used : self._off + used + y.size] = 0.0
        self._total += y.size

    def _advance(self, z_end: int) -> list[Codeblock]:
        """Compute the statistic for positions [_zdone, z_end), run the decision logic, emit codeblocks."""
        if z_end > self._zdone:
            self._compute_z(self._zdone, z_end)
            self._decide(self._zdone, z_end)
            self._zdone = z_end
        out = self._emit()
        self._trim()
        return out

    def _compute_z(self, p0: int, p1: int) -> None:
        m = self.asm_len
        b0 = self._buf_start
        seg = self._buf[p0 - b0 : p1 - b0 + m - 1]
        corr = np.empty(p1 - p0, dtype=np.float32)
        _correlate(seg, self.asm, corr)
        # local power: the larger of the mean y^2 over the power_window symbols starting with the
        # marker and over those ending with it, so that a signal edge (codeblock -> quiet gap, or
        # gap -> codeblock) can only lower the statistic, never raise it.
        pos = np.arange(p0, p1)
        wlen = self.power_window
        lead_lo, lead_hi = pos, np.minimum(pos + wlen, self._total)
        trail_lo, trail_hi = np.maximum(pos + m - wlen, 0), pos + m
        w0 = int(trail_lo[0])
        w1 = int(lead_hi[-1])
        sq = self._buf[w0 - b0 : w1 - b0].astype(np.float64) ** 2
        csum = np.concatenate([[0.0], np.cumsum(sq)])
        lead = (csum[lead_hi - w0] - csum[lead_lo - w0]) / (lead_hi - lead_lo)
        trail = (csum[trail_hi - w0] - csum[trail_lo - w0]) / (trail_hi - trail_lo)
        power = np.maximum(lead, trail)
        denom = np.sqrt(m * power)
        z = np.where(denom > 0, corr / np.where(denom > 0, denom, 1.0), 0.0)
        self._z[p0 - b0 : p1 - b0] = z.astype(np.float32)

    def _decide(self, p0: int, p1: int) -> None:
        b0 = self._buf_start
        z = self._z[p0 - b0 : p1 - b0]
        cand = np.flatnonzero(np.abs(z) >= self.candidate_threshold)
        gap = self.asm_len // 2
        for idx in cand:
            pos = p0 + int(idx)
            val = float(z[idx])
            if self._cluster and pos - self._cluster[-1][0] > gap:
                self._close_cluster()
            self._cluster.append((pos, val))
        # close the open cluster once no later candidate can join it
        if self._cluster and p1 - 1 - self._cluster[-1][0] > gap:
            self._close_cluster()
        # expectations whose window lies entirely in final, clustered territory
        limit = p1 - gap - 1 if not self._cluster else min(p1 - gap - 1, self._cluster[0][0])
        self._resolve_expectations(limit)

    def _close_cluster(self) -> None:
        pos, val = max(self._cluster, key=lambda pv: abs(pv[1]))
        self._cluster = []
        self._on_peak(pos, val)

    def _resolve_expectations(self, before: int) -> None:
        """Handle expected markers whose tolerance window ends before `before` with no peak in it."""
        while self._locked and self._expected + self.tolerance < before:
            lo = self._expected - self.tolerance
            window = self._z[max(lo - self._buf_start, 0) : self._expected + self.tolerance + 1 - self._buf_start]
            if window.size and float(np.abs(window).max()) >= self.track_threshold:
                i = int(np.argmax(np.abs(window)))
                pos = max(lo, self._buf_start) + i
                self._accept(pos, float(window[i]), "tracked")
            elif self._misses < self.flywheel:
                exp = self._expected
                self._misses += 1
                score = self._z_at(exp)
                self._accept(exp, score if score != 0.0 else 1.0, "flywheel", keep_misses=True)
            else:
                self._locked = False

    def _z_at(self, pos: int) -> float:
        i = pos - self._buf_start
        return float(self._z[i]) if 0 <= i < self._z.size else 0.0

    def _on_peak(self, pos: int, val: float) -> None:
        self._resolve_expectations(pos)
        if self._locked and abs(pos - self._expected) <= self.tolerance:
            if abs(val) >= self.track_threshold:
                self._accept(pos, val, "tracked")
                return
        if abs(val) >= self.threshold:
            self._accept(pos, val, "strong")
            return
        # pair confirmation with a peak one period earlier
        self._recent = [(q, zq) for (q, zq) in self._recent if pos - q <= self.period + self.tolerance]
        for q, zq in self._recent:
            if abs(pos - q - self.period) <= self.tolerance:
                if (abs(val) + abs(zq)) / math.sqrt(2.0) >= self.threshold:
                    self._recent.remove((q, zq))
                    self._accept(q, zq, "pair")
                    self._accept(pos, val, "pair")
                    return
        self._recent.append((pos, val))

    def _accept(self, pos: int, val: float, reason: str, keep_misses: bool = False) -> None:
        if abs(pos - self._last_accept) < self.asm_len:
            return  # the same marker again
        self._last_accept = max(self._last_accept, pos)
        self._pending.append((pos, val, reason))
        self._pending.sort()
        self.n_markers += 1
        self._locked = True
        if pos + self.period > self._expected or not keep_misses:
            self._expected = pos + self.period
        if not keep_misses:
            self._misses = 0

    def _emit(self) -> list[Codeblock]:
        m = self.asm_len
        n = self.codeblock_len
        b0 = self._buf_start
        out = []
        while self._pending and self._pending[0][0] + m + n <= self._total:
            pos, val, reason = self._pending.pop(0)
            start = pos + m
            if pos < b0:  # data already dropped (cannot happen with the trimming below)
                self.n_truncated += 1
                continue
            polarity = 1 if val >= 0 else -1
            soft = self._buf[start - b0 : start - b0 + n].copy()
            if polarity < 0:
                soft = -soft
            out.append(
                Codeblock(asm_index=pos, start=start, polarity=polarity, score=float(val), reason=reason, soft=soft)
            )
        return out

    def _trim(self) -> None:
        keep = self._zdone - self.period - self.tolerance - 2 * self.power_window - self.asm_len
        if self._pending:
            keep = min(keep, self._pending[0][0])
        if self._cluster:
            keep = min(keep, self._cluster[0][0])
        for q, _ in self._recent:
            keep = min(keep, q)
        keep = min(max(keep, self._buf_start), self._total)
        self._off += keep - self._buf_start
        self._buf_start = keep

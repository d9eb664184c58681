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

Robustness.  Non-finite soft values (NaN, +-inf, and values beyond the float32 range) are
replaced by 0 (an erasure) and counted in ``n_nonfinite``.  Outliers are erased before
anything else sees them: the stream is cut into fixed blocks of ``CLIP_BLOCK`` symbols
(aligned on the stream start, so chunking changes nothing); each block's robust scale is
the median of its non-zero ``|y|`` (at least ``CLIP_MIN_COUNT`` of them, otherwise no
scale), and a value of block ``k`` beyond ``CLIP_FACTOR`` times the largest scale of
blocks ``k-1, k, k+1`` (or beyond ``CLIP_MAX``, so that float32 sums stay finite) is set
to 0 and counted in ``n_outliers``.  Such a value lies far above the signal-plus-noise
level and carries no information: clipping it would keep a confident sign that means
nothing, erasing it costs the decoder nothing.  For Gaussian noise the median of ``|y|``
is 0.674 sigma, so the limit sits at 6.7 sigma or more (probability below 3e-11 per
value): the statistic of a clean stream is unchanged (unit variance in noise) and its
codeblocks are passed on untouched.  When none of the three blocks has a scale, block
``k`` holds at most a few isolated values among erasures (no marker fits in so few): they
are erased too (an isolated 1e30 among zeros could otherwise pass for a marker).  The
window powers are differences of a float64 prefix sum that restarts every ``_SEGMENT``
positions and spans only the windows of its segment, never of a cumulative sum over the
whole chunk, so no term weighs on the precision of later windows.  A block's outliers are
final once the next block is complete, which delays the statistic and the codeblocks by
up to two blocks (512 symbols); :meth:`FrameSync.flush` settles the end of the stream.
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


CLIP_BLOCK = 256
"""Symbols per block of the robust scale estimate (blocks aligned on the stream start)."""
CLIP_FACTOR = 10.0
"""Soft values beyond this many times the local median of |y| are outliers (erased)."""
CLIP_MIN_COUNT = 32
"""Non-zero values a block needs for a robust scale of its own."""
CLIP_MAX = 1e30
"""Soft values beyond +-CLIP_MAX are outliers whatever the scale (float32 sums stay finite)."""
_SEGMENT = 4096  # window sums come from a prefix sum restarted every _SEGMENT positions


@njit(cache=True, nogil=True)
def _median_inplace(a, n):  # pragma: no cover - numba
    """Median (upper one for even n) of a[:n] by quickselect; reorders a[:n]."""
    k = n // 2
    lo = 0
    hi = n - 1
    while lo < hi:
        mid = (lo + hi) // 2
        # median of three as the pivot
        x, y, z = a[lo], a[mid], a[hi]
        pivot = max(min(x, y), min(max(x, y), z))
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                t = a[i]
                a[i] = a[j]
                a[j] = t
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return a[k]


@njit(cache=True, nogil=True)
def _block_scales(y, block, min_count, out):  # pragma: no cover - numba
    """out[k] = median of the non-zero |y| in y[k*block:(k+1)*block] (0 when fewer than min_count)."""
    tmp = np.empty(block, np.float32)
    n = y.shape[0]
    for k in range(out.shape[0]):
        c = 0
        for i in range(k * block, min((k + 1) * block, n)):
            a = abs(y[i])
            if a > 0.0:
                tmp[c] = a
                c += 1
        out[k] = _median_inplace(tmp, c) if c >= min_count else 0.0


@njit(cache=True, nogil=True)
def _erase_outliers(y, start, block, k0, thr):  # pragma: no cover - numba
    """Zero the values of y (stream positions start, ...) beyond +-thr[k - k0] in block k; returns their count."""
    count = 0
    for i in range(y.shape[0]):
        v = y[i]
        if abs(v) > thr[(start + i) // block - k0]:
            y[i] = 0.0
            count += 1
    return count


@njit(cache=True, nogil=True)
def _window_power(y, b0, p0, p1, m, wlen, total, out):  # pragma: no cover - numba
    """out[i] = max(mean y^2 over [p, p + wlen) cut at total, mean y^2 over [p + m - wlen, p + m) cut at 0), p = p0 + i.

    y holds stream positions b0, b0 + 1, ...  The window sums are differences of a float64 prefix sum
    that restarts for every segment of _SEGMENT positions (it spans only the windows of that segment),
    so no term, large or small, weighs on the sums of later segments.
    """
    pre = np.empty(_SEGMENT + 2 * wlen + 1)
    for s0 in range(p0, p1, _SEGMENT):
        s1 = min(s0 + _SEGMENT, p1)
        lo = max(s0 + m - wlen, 0)  # first symbol any window of the segment touches
        hi = min(s1 - 1 + wlen, total)  # one past the last
        acc = 0.0
        pre[0] = 0.0
        for k in range(lo, hi):
            v = np.float64(y[k - b0])
            acc += v * v
            pre[k - lo + 1] = acc
        for p in range(s0, s1):
            b = min(p + wlen, total)
            c = max(p + m - wlen, 0)
            lead = (pre[b - lo] - pre[p - lo]) / (b - p) if b > p else 0.0
            trail = (pre[p + m - lo] - pre[c - lo]) / (p + m - c)
            out[p - p0] = max(lead, trail, 0.0)


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
        # outliers: robust scale per CLIP_BLOCK block; data final (outliers erased) below _cdone
        self._scales = np.zeros(0)  # robust scales of blocks _sc0, _sc0 + 1, ... (0: none)
        self._sc0 = 0
        self._nscaled = 0  # blocks whose scale is known
        self._cdone = 0
        # statistics
        self.n_markers = 0
        self.n_truncated = 0
        self.n_nonfinite = 0
        """Soft values that were NaN, infinite or beyond the float32 range (replaced by 0)."""
        self.n_outliers = 0
        """Soft values erased as outliers (beyond CLIP_FACTOR x the local median |y|, or isolated among erasures)."""

    # ------------------------------------------------------------------ public

    def feed(self, chunk: np.ndarray) -> list[Codeblock]:
        """Add soft symbols (1-D, LLR convention; NaN/inf and outliers count as 0); returns the codeblocks completed."""
        if self._flushed:
            raise UserError("FrameSync.feed called after flush()")
        y = np.asarray(chunk)
        if y.ndim != 1:
            raise UserError(f"FrameSync expects 1-D soft symbols, got shape {y.shape}")
        if y.dtype.kind not in "biuf":
            raise UserError(f"FrameSync expects real soft symbols (integer or float), got {y.dtype}")
        with np.errstate(over="ignore", invalid="ignore"):
            y = y.astype(np.float32, copy=False)  # beyond the float32 range: inf, counted below
        bad = ~np.isfinite(y)
        nbad = int(np.count_nonzero(bad))
        if nbad:
            self.n_nonfinite += nbad
            y = np.where(bad, np.float32(0.0), y)
        if y.size:
            self._append(y)
            self._erase(final=False)
        return self._advance(self._cdone - self.power_window)

    def flush(self) -> list[Codeblock]:
        """Process the end of the stream; returns the last complete codeblocks (later feeds are refused)."""
        if self._flushed:
            return []
        self._flushed = True
        self._erase(final=True)
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

    def _erase(self, final: bool) -> None:
        """Compute the scales of newly complete blocks; erase the outliers of the blocks whose neighbours are known.

        With ``final`` (end of stream) the last, partial block gets a scale too and everything is settled.
        """
        B = CLIP_BLOCK
        b0 = self._buf_start
        n_full = self._total // B
        last = n_full + (1 if final and self._total % B else 0)  # blocks whose scale can be known now
        if last > self._nscaled:
            lo = self._nscaled * B
            sc = np.zeros(last - self._nscaled, np.float64)
            _block_scales(self._buf[lo - b0 : min(last * B, self._total) - b0], B, CLIP_MIN_COUNT, sc)
            self._scales = np.concatenate((self._scales, sc))
            self._nscaled = last
        c_end = self._total if final else max(self._nscaled - 1, 0) * B
        if c_end <= self._cdone:
            return
        k0 = self._cdone // B
        k1 = (c_end - 1) // B + 1
        # scales of blocks k0 - 1 .. k1 (missing ones: 0); self._scales[0] is block self._sc0
        idx = np.arange(k0 - 1, k1 + 1) - self._sc0
        ok = (idx >= 0) & (idx < self._scales.size)
        near = np.zeros(idx.size)
        near[ok] = self._scales[idx[ok]]
        s3 = np.maximum(np.maximum(near[:-2], near[1:-1]), near[2:])
        thr = np.minimum(CLIP_FACTOR * s3, CLIP_MAX).astype(np.float32)  # 0 without any scale: isolated values
        seg = self._buf[self._cdone - b0 : c_end - b0]
        self.n_outliers += int(_erase_outliers(seg, self._cdone, B, k0, thr))
        self._cdone = c_end
        drop = (c_end // B - 1) - self._sc0  # keep the scale of the block before the next one to settle
        if drop > 0:
            self._scales = self._scales[drop:]
            self._sc0 += drop

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
        power = np.empty(p1 - p0, dtype=np.float64)
        _window_power(self._buf, b0, p0, p1, m, self.power_window, self._total, power)
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
            # the same marker again, or a strong peak next to a weaker marker taken where one was expected
            # (e.g. the -64 sidelobe of the rate-1/4 ASM, whose halves are complementary, when a gap moved
            # the marker): the strong peak replaces it while it waits for its data
            weaker = [e for e in self._pending if abs(e[0] - pos) < self.asm_len and abs(e[1]) < abs(val)]
            if reason != "strong" or not weaker or weaker[0][2] not in ("tracked", "flywheel"):
                return
            self._pending.remove(weaker[0])
            self.n_markers -= 1
            self._last_accept = pos
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
        while self._pending and self._pending[0][0] + m + n <= self._cdone:
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

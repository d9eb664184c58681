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
unit-variance Gaussian ("sigma units").  The marker's own symbols count too, at weight
``OWN_POWER_WEIGHT`` (0.7): a stream mostly erased (a demodulator that zeroes symbols below
its Es/N0 floor) leaves short islands of values whose energy the long windows dilute, and a
random island would otherwise reach any statistic up to sqrt(power_window) (1000 false
markers in 4 M symbols of such islands); with the floor the statistic stays under 1.2
times a sub-Gaussian unit-variance variable, and in stationary noise the floor (0.7 of the
mean power, 3.4 standard deviations of a 128-symbol mean below it) almost never counts.  A negative peak means the stream is inverted
(bi-phase-L / BPSK sign ambiguity) and the codeblock is sign-corrected.

Markers are accepted when the statistic reaches ``threshold`` (6 sigma: about one false
marker per 5e8 symbols of noise, i.e. one failed decode per half hour of pure noise at
322 kbaud) or, for weaker markers, when two peaks of at least
``candidate_threshold`` lie exactly one codeblock period apart and their combined
statistic reaches ``threshold``; once locked, the next marker is expected one period
(ASM + codeblock) later and is accepted there with ``track_threshold``.  At the rate-1/4
turbo threshold (Es/N0 = -5.5 dB) a 128-bit marker peaks near 6.8 sigma (the random
code symbols around it count as noise, standard deviation 0.8), so in a continuous stream
markers are tracked (and pair-confirmed) with a wide margin, but an isolated marker after
a gap stays under 6 sigma about one time in six.

Confirmation by decoding.  With a ``confirm`` callable (:class:`heradecode.fec.confirm.DecodeConfirm`:
turbo decoding, the decoder's double CRC check, the frame header), a peak of at least
``confirm_threshold`` (4 sigma) that nothing else accepts is decided by decoding its
codeblock: kept (reason ``'confirmed'``, the decoder's result in :attr:`Codeblock.decoded`)
when the callable returns a result, which also locks the synchronizer onto the next
marker.  The decision loop pauses at such a candidate until its codeblock is complete, so
nothing after it is decided before it (the result does not depend on the chunking).  At
Es/N0 -5.7 dB (Eb/N0 0.3 dB) a true marker stays under 4 sigma about once in a thousand.
Pure noise crosses 4 sigma about 5e-5 times per symbol (16 per second at 322.56 kbaud), far
too many decodes, so a candidate goes to the decoder only when

* no clearly stronger peak (``SUPERSEDE_MARGIN`` more, or ``threshold``) lies inside its
  codeblock: a noise peak shortly before a real marker is not decoded;
* below ``screen_below`` (5 sigma), both halves of its codeblock pass the BPSK screen: the
  excess g = (3 M2^2 - M4) / (2 M2^2) of the soft values is 0 +- sqrt(6/n) for Gaussian
  noise and A^4 / (A^2 + sigma^2)^2 for BPSK (0.12 at Es/N0 -5.7 dB, 9 noise deviations
  for a half of Hera's codeblock); the bar is ``screen_sigma`` (2.5) deviations, which
  a half of noise passes with probability 0.5 %, both halves about 2e-5;
* the decoding budget allows: a token bucket of ``attempt_burst`` (4) attempts refilled by
  one every ``attempt_interval`` symbols of stream (one codeblock period by default: whatever
  the input, never more decoding on average than a continuous signal costs, 9 per second at
  322.56 kbaud, 1.7 at 60.24 kbaud; a tighter budget was measured to cost isolated codeblocks
  near threshold, where noise peaks just before them are decoded too).

In pure noise that leaves about one decode per 2.4 million symbols (0.13 per second at
322.56 kbaud, 0.03 at 60.24 kbaud; benchmarks/sync.py), nearly all of them candidates of
5 sigma or more, which skip the screen.  Back-fill: when a marker is accepted (other than by back-fill)
and none was accepted one period earlier, the largest peak within ``tolerance`` of that
position is tried by decoding when it reaches ``backfill_threshold`` (3 sigma) and its
codeblock overlaps no accepted one (reason ``'backfill'``).

Sidelobes and phase.  The rate-1/4 (and 1/6) ASM's halves are complementary: the marker's
autocorrelation has -1/2 sidelobes at +-64 (+-96) symbols, inside the peak cluster of the
marker.  The cluster's largest |z| is taken, which for white noise is the likelihood-ratio
choice between the marker and its sidelobe (the statistic matched to the autocorrelation,
z(p) - z(p-64)/2 - z(p+64)/2, was measured to pick a sidelobe 2-4 times more often).  When
locked and the expected position lies in a cluster, it is preferred, unless the peak
there is a sidelobe of a larger one (a gap of 64 symbols put the sidelobe where the next
marker was expected; the weak true marker was then dropped as its duplicate).  A peak that
would lie inside the codeblock of a reliably accepted marker (strong, paired, confirmed, or
tracked at 4 sigma or more) is off-phase: it is not paired, not tried unless strong, and
(with ``confirm``) a strong one is accepted only if its codeblock decodes.

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
codeblocks are passed on untouched.  A burst longer than a block would be its own scale, so a
block's scale counts at most ``CLIP_HISTORY_FACTOR`` times its long-term reference, the median
non-zero scale of the ``CLIP_HISTORY`` blocks before it (8192 symbols): a burst of up to half that
length is erased whole, while a real change of level by up to 20 dB is never touched.  When none of the three blocks has a scale, block
``k`` holds at most a few isolated values among erasures (no marker fits in so few): they
are erased too (an isolated 1e30 among zeros could otherwise pass for a marker).  The
window powers are float64 running sums that restart every ``_SEGMENT`` positions (from
sums of whole ``_SEGMENT``-blocks, each summed on its own, and the few values at the
windows' ends), never a cumulative sum over the whole chunk, so no term weighs on the
precision of the windows of later segments.  A block's outliers are
final once the next block is complete, which delays the statistic and the codeblocks by
up to two blocks (512 symbols); :meth:`FrameSync.flush` settles the end of the stream.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from heradecode.errors import UserError
from heradecode.fec.interleaver import check_k
from heradecode.fec.turbo import DEFAULT_INV_RATE, DEFAULT_K

if TYPE_CHECKING:
    from heradecode.fec.turbocode import TurboCode

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


def asm_bits(inv_rate: int = DEFAULT_INV_RATE) -> np.ndarray:
    """Bits (uint8 0/1, first transmitted first) of the turbo ASM for rate 1/inv_rate."""
    hexstr = ASM_HEX[_check_rate(inv_rate)]
    return np.unpackbits(np.frombuffer(bytes.fromhex(hexstr), dtype=np.uint8))


def asm_symbols(inv_rate: int = DEFAULT_INV_RATE) -> np.ndarray:
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
    """How the marker was accepted: 'strong', 'pair', 'tracked', 'flywheel', 'confirmed' or 'backfill'."""
    soft: np.ndarray
    """Sign-corrected soft codeblock, float32, (k + 4) * inv_rate values."""
    decoded: object = None
    """The ``confirm`` callable's result when the marker was accepted by decoding (do not decode it again)."""


CLIP_BLOCK = 256
"""Symbols per block of the robust scale estimate (blocks aligned on the stream start)."""
CLIP_FACTOR = 10.0
"""Soft values beyond this many times the local median of |y| are outliers (erased)."""
CLIP_MIN_COUNT = 32
"""Non-zero values a block needs for a robust scale of its own."""
CLIP_HISTORY = 32
"""Blocks before a block whose median scale is its long-term reference (a burst of outliers fills fewer)."""
CLIP_HISTORY_FACTOR = 10.0
"""A block's scale counts at most this many times its long-term reference (so a long burst is erased too)."""
CLIP_MAX = 1e30
"""Soft values beyond +-CLIP_MAX are outliers whatever the scale (float32 sums stay finite)."""
OWN_POWER_WEIGHT = 0.7
"""The marker's own window counts in the local power at this weight (a floor for streams mostly erased)."""
SUPERSEDE_MARGIN = 1.5
"""A candidate is not decoded when a peak this much stronger (or a strong one) lies inside its codeblock."""
_DECIDE_SLICE = 1 << 14  # positions whose candidates are listed at once by the decision loop
_SEGMENT = 128  # window sums are running sums restarted every _SEGMENT positions (from block sums): a huge
# value then reaches only the windows of the segments that hold it, and the rest of those segments


@njit(cache=True, nogil=True)
def _median_inplace(a, n):  # pragma: no cover - numba
    """Median (upper one for even n) of a[:n] by quickselect; reorders a[:n]."""
    return _select_inplace(a, n, n // 2)


@njit(cache=True, nogil=True)
def _select_inplace(a, n, k):  # pragma: no cover - numba
    """The k-th smallest (0-based) of a[:n] by quickselect; reorders a[:n]."""
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
def _block_scales(y, block, min_count, out, hint):  # pragma: no cover - numba
    """out[k] = median of the non-zero |y| in y[k*block:(k+1)*block] (0 when fewer than min_count).

    The median is selected among the values within [0.75, 1.33] times the previous block's scale
    (``hint`` for the first block), gathered without branches, when that bracket holds it (it almost
    always does: the median of 256 values is within a few percent of the scale); otherwise by
    quickselect over all of them.  The result is the same either way.
    """
    tmp = np.empty(block, np.float32)
    mid = np.empty(block, np.float32)
    n = y.shape[0]
    prev = hint
    for k in range(out.shape[0]):
        i0 = k * block
        i1 = min(i0 + block, n)
        lo = np.float32(0.75 * prev)
        hi = np.float32(prev / 0.75)
        c = 0  # non-zero values
        nb = 0  # ... below the bracket
        cm = 0  # ... within it
        for i in range(i0, i1):
            a = abs(y[i])
            nz = a > 0.0
            c += nz
            nb += nz & (a < lo)
            mid[cm] = a
            cm += nz & (a >= lo) & (a <= hi)
        if c < min_count:
            out[k] = 0.0
            continue
        kk = c // 2
        if prev > 0.0 and nb <= kk < nb + cm:
            out[k] = _select_inplace(mid, cm, kk - nb)
        else:
            c = 0
            for i in range(i0, i1):
                a = abs(y[i])
                if a > 0.0:
                    tmp[c] = a
                    c += 1
            out[k] = _median_inplace(tmp, c)
        prev = out[k]


@njit(cache=True, nogil=True)
def _history_reference(scales, first, n_out, history, out):  # pragma: no cover - numba
    """out[j] = median of the non-zero scales[first + j - history : first + j] (inf when there are none).

    scales[i] is the scale of block (k0 - first + i): the reference of block k0 + j is the median of
    the non-zero scales of the ``history`` blocks before it.
    """
    tmp = np.empty(history, np.float32)
    for j in range(n_out):
        c = 0
        for i in range(max(first + j - history, 0), first + j):
            if scales[i] > 0.0:
                tmp[c] = scales[i]
                c += 1
        out[j] = _median_inplace(tmp, c) if c > 0 else np.inf


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


@njit(cache=True, nogil=True, inline="always")
def _sq(y, b0, k):  # pragma: no cover - numba
    v = np.float64(y[k - b0])
    return v * v


@njit(cache=True, nogil=True)
def _range_sq(y, b0, bs, bn, j0, a, b):  # pragma: no cover - numba
    """Sum of y^2 and count of non-zero y over stream positions [a, b): whole _SEGMENT blocks from bs, bn
    (bs[j - j0], bn[j - j0]: block j), the rest directly."""
    ja = (a + _SEGMENT - 1) // _SEGMENT
    jb = b // _SEGMENT
    acc = 0.0
    cnt = 0
    if ja >= jb:
        for k in range(a, b):
            v = _sq(y, b0, k)
            acc += v
            cnt += v != 0.0
        return acc, cnt
    for k in range(a, ja * _SEGMENT):
        v = _sq(y, b0, k)
        acc += v
        cnt += v != 0.0
    for j in range(ja, jb):
        acc += bs[j - j0]
        cnt += bn[j - j0]
    for k in range(jb * _SEGMENT, b):
        v = _sq(y, b0, k)
        acc += v
        cnt += v != 0.0
    return acc, cnt


@njit(cache=True, nogil=True)
def _slide_cut(y, b0, s0, s1, m, wlen, total, lead, n_lead, trail, n_trail, own, n_own, b, c, pw):  # pragma: no cover
    """_window_z's window powers pw[p - s0] of a segment where windows are cut at the stream's start or end."""
    for p in range(s0, s1):
        if p > s0:  # slide the windows by one position
            out = _sq(y, b0, p - 1)
            nz_out = out != 0.0
            if p - 1 < b:
                lead -= out
                n_lead -= nz_out
            b_new = min(p + wlen, total)
            if b_new > b:
                v = _sq(y, b0, b)
                lead += v
                n_lead += v != 0.0
            b = b_new
            c_new = max(p + m - wlen, 0)
            if c_new > c:
                v = _sq(y, b0, c)
                trail -= v
                n_trail -= v != 0.0
            c = c_new
            v = _sq(y, b0, p - 1 + m)
            nz_in = v != 0.0
            trail += v
            n_trail += nz_in
            own += v - out
            n_own += nz_in - nz_out
        lw = lead if n_lead > 0 else 0.0
        tw = trail if n_trail > 0 else 0.0
        nl = b - p
        nt = p + m - c
        if nl == nt:  # both full (or both cut alike): max(x / n, y / n) = max(x, y) / n
            lt = max(lw, tw) / nl
        else:
            lt = max(lw / nl if nl > 0 else 0.0, tw / nt)
        pw[p - s0] = max(lt, OWN_POWER_WEIGHT * own / m if n_own > 0 else 0.0, 0.0)


@njit(cache=True, nogil=True)
def _window_z(y, b0, p0, p1, m, wlen, total, corr, z):  # pragma: no cover - numba
    """z[i] = corr[i] / sqrt(m power) (0 where the power is 0), p = p0 + i, the power being the largest of
    mean y^2 over [p, p + wlen) cut at total, mean y^2 over [p + m - wlen, p + m) cut at 0 and
    OWN_POWER_WEIGHT * mean y^2 over the marker's own [p, p + m).

    y holds stream positions b0, b0 + 1, ...  The window sums are float64 running sums that restart for
    every segment of _SEGMENT positions (segments aligned on the stream start): at a segment's first
    position they are summed afresh from the sums of the whole _SEGMENT-blocks they cover (each block
    summed on its own) and the odd values at their ends, then slid along the segment.  So no term, large
    or small, weighs on the sums of later segments.  The windows' counts of non-zero values slide along:
    a window of zeros (an erased stretch) has power 0 exactly, whatever the rounding left in its sum.
    """
    if p1 <= p0:
        return
    lo = max(p0 + m - wlen, 0)  # first symbol any window touches
    hi = min(p1 - 1 + wlen, total)  # one past the last
    j0 = (lo + _SEGMENT - 1) // _SEGMENT
    j1 = max(hi // _SEGMENT, j0)
    bs = np.empty(j1 - j0)
    bn = np.empty(j1 - j0, np.int64)
    pw = np.empty(_SEGMENT)
    for j in range(j0, j1):
        acc = 0.0
        cnt = 0
        for k in range(j * _SEGMENT, (j + 1) * _SEGMENT):
            v = _sq(y, b0, k)
            acc += v
            cnt += v != 0.0
        bs[j - j0] = acc
        bn[j - j0] = cnt
    s0 = p0
    while s0 < p1:
        s1 = min((s0 // _SEGMENT + 1) * _SEGMENT, p1)
        b = min(s0 + wlen, total)
        c = max(s0 + m - wlen, 0)
        lead, n_lead = _range_sq(y, b0, bs, bn, j0, s0, b)
        trail, n_trail = _range_sq(y, b0, bs, bn, j0, c, s0 + m)
        own, n_own = _range_sq(y, b0, bs, bn, j0, s0, s0 + m)
        if s0 + m - wlen >= 0 and s1 - 1 + wlen <= total:  # no window cut in this segment (the usual case)
            for p in range(s0, s1):
                if p > s0:  # slide the windows by one position
                    out = _sq(y, b0, p - 1)
                    v = _sq(y, b0, p - 1 + wlen)
                    lead += v - out
                    n_lead += (v != 0.0) - (out != 0.0)
                    u = _sq(y, b0, p - 1 + m - wlen)
                    v = _sq(y, b0, p - 1 + m)
                    trail += v - u
                    n_trail += (v != 0.0) - (u != 0.0)
                    own += v - out
                    n_own += (v != 0.0) - (out != 0.0)
                lt = max(lead if n_lead > 0 else 0.0, trail if n_trail > 0 else 0.0) / wlen
                pw[p - s0] = max(lt, OWN_POWER_WEIGHT * own / m if n_own > 0 else 0.0, 0.0)
        else:
            _slide_cut(y, b0, s0, s1, m, wlen, total, lead, n_lead, trail, n_trail, own, n_own, b, c, pw)
        for p in range(s0, s1):  # (vectorized)
            den = math.sqrt(m * pw[p - s0])
            z[p - p0] = corr[p - p0] / den if den > 0.0 else 0.0
        s0 = s1


@njit(cache=True, nogil=True)
def _bpsk_excess(y):  # pragma: no cover - numba
    """(3 M2^2 - M4) / (2 M2^2) of y (float64 moments): 0 for Gaussian noise, A^4/(A^2 + sigma^2)^2 for BPSK."""
    s2 = 0.0
    s4 = 0.0
    for i in range(y.shape[0]):
        v = np.float64(y[i])
        v2 = v * v
        s2 += v2
        s4 += v2 * v2
    if s2 <= 0.0:
        return -1.0
    m2 = s2 / y.shape[0]
    m4 = s4 / y.shape[0]
    return (3.0 * m2 * m2 - m4) / (2.0 * m2 * m2)


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
    Call :meth:`flush` at the end of the stream to process its last symbols.  ``confirm``
    (e.g. :class:`heradecode.fec.confirm.DecodeConfirm`) decides weak candidates by decoding
    their codeblocks; the other keyword arguments are described in the module docstring.
    """

    def __init__(
        self,
        k: int = DEFAULT_K,
        inv_rate: int = DEFAULT_INV_RATE,
        *,
        code: "TurboCode | None" = None,
        threshold: float = 6.0,
        candidate_threshold: float = 3.5,
        track_threshold: float = 3.5,
        tolerance: int = 2,
        flywheel: int = 0,
        power_window: int = 2048,
        confirm: Callable[[np.ndarray], object | None] | None = None,
        confirm_threshold: float = 4.0,
        screen_below: float = 5.0,
        screen_sigma: float = 2.5,
        backfill_threshold: float = 3.0,
        attempt_burst: int = 4,
        attempt_interval: int | None = None,
    ) -> None:
        from heradecode.fec.turbocode import TurboCode

        self.code = code if code is not None else TurboCode(check_k(k), _check_rate(inv_rate))
        """The turbo code whose markers and codeblocks are found (``code``, else k and inv_rate)."""
        self.k = self.code.k
        self.inv_rate = self.code.inv_rate
        self.asm = asm_symbols(self.inv_rate)
        self.asm_len = self.asm.size
        self.codeblock_len = (self.k + 4) * self.inv_rate
        self.period = self.asm_len + self.codeblock_len
        if not (0 < candidate_threshold <= threshold and 0 < track_threshold):
            raise UserError("FrameSync thresholds must be positive with candidate_threshold <= threshold")
        if not (0 < confirm_threshold and 0 < backfill_threshold and 0 <= screen_sigma):
            raise UserError("FrameSync confirm/backfill thresholds must be positive and screen_sigma >= 0")
        self.threshold = float(threshold)
        self.candidate_threshold = float(candidate_threshold)
        self.track_threshold = float(track_threshold)
        self.tolerance = int(tolerance)
        self.flywheel = int(flywheel)
        self.power_window = int(power_window)
        if self.tolerance < 0 or self.flywheel < 0 or self.power_window < self.asm_len:
            raise UserError("FrameSync tolerance/flywheel must be >= 0 and power_window >= the ASM length")
        self.confirm = confirm
        """Callable deciding a weak candidate from its sign-corrected soft codeblock (a result, or None)."""
        self.confirm_threshold = float(confirm_threshold)
        self.screen_below = float(screen_below)
        self.screen_sigma = float(screen_sigma)
        self.backfill_threshold = float(backfill_threshold)
        self.attempt_burst = int(attempt_burst)
        self.attempt_interval = self.period if attempt_interval is None else int(attempt_interval)
        if self.attempt_burst < 1 or self.attempt_interval < 1:
            raise UserError("FrameSync attempt_burst and attempt_interval must be >= 1")
        # the ASM's large aperiodic autocorrelation sidelobes (lag, r(lag)/m): +-64 at -1/2 for rate 1/4
        r = np.correlate(self.asm, self.asm, "full").astype(np.float64)
        lags = np.arange(-self.asm_len + 1, self.asm_len)
        self._sidelobes = [(int(lag), float(v) / self.asm_len) for lag, v in zip(lags, r)
                           if lag != 0 and abs(v) >= self.asm_len / 4]
        # stream buffer: symbols [buf_start, buf_start + len(buf)) and their detection statistic
        self._data = np.zeros(1 << 16, dtype=np.float32)  # capacity; valid part [_off, _off + _total - _buf_start)
        self._zdata = np.zeros(1 << 16, dtype=np.float32)
        self._off = 0
        self._buf_start = 0
        self._total = 0  # symbols received
        self._zdone = 0  # absolute index: z final for positions < _zdone
        self._ddone = 0  # absolute index: candidates decided for positions < _ddone (<= _zdone)
        self._flushed = False
        # peak clustering
        self._cluster: list[tuple[int, float]] = []  # candidate (pos, z) of the open cluster
        self._recent: list[tuple[int, float]] = []  # unmatched peaks, for pair confirmation
        self._waiting: tuple[int, float, bool] | None = None  # (pos, z, off-phase) waiting for its data
        # lock state
        self._locked = False
        self._expected = 0
        self._misses = 0
        self._last_accept = -(10**18)
        self._accepted: list[tuple[int, bool]] = []  # recent accepted markers (pos, reliable)
        self._pending: list[tuple[int, float, str, object]] = []  # accepted markers waiting for their data
        self._tokens = float(self.attempt_burst)  # decoding budget (token bucket refilled along the stream)
        self._token_pos = 0
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
        self.n_candidates = 0
        """Weak candidates (and back-fill candidates) considered for decoding."""
        self.n_superseded = 0
        """Of them, not decoded because a clearly stronger peak lies inside their codeblock."""
        self.n_screened = 0
        """Of them, rejected by the BPSK screen (their codeblock looks like noise)."""
        self.n_budget_skipped = 0
        """Of them, not decoded because the decoding budget was spent."""
        self.n_cut = 0
        """Of them, not decoded because the stream ended before their codeblock did."""
        self.n_attempts = 0
        """Codeblocks decoded to decide a candidate."""
        self.n_confirmed = 0
        """Candidates accepted because their codeblock decoded (back-filled ones included)."""
        self.n_backfilled = 0
        """Of them, found by looking one period before an accepted marker."""

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
            self._zdone = z_end
        self._run_decisions(final=True)
        out = self._emit()
        self.n_truncated += len(self._pending)
        self._pending.clear()
        return out

    def process(self, symbols: np.ndarray, chunk_size: int = 1 << 20) -> Iterator[Codeblock]:
        """Run a whole array through feed() in chunks, then flush()."""
        for i in range(0, len(symbols), chunk_size):
            yield from self.feed(symbols[i : i + chunk_size])
        yield from self.flush()

    def sync_stats(self) -> dict[str, int]:
        """Marker and candidate counts (markers accepted, candidates decoded and confirmed, ...) as a dict."""
        return {
            "markers": self.n_markers,
            "candidates": self.n_candidates,
            "superseded": self.n_superseded,
            "screened_out": self.n_screened,
            "budget_skipped": self.n_budget_skipped,
            "cut_by_end": self.n_cut,
            "decode_attempts": self.n_attempts,
            "confirmed": self.n_confirmed,
            "backfilled": self.n_backfilled,
        }

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
            if cap == self._data.size:  # room enough: move the kept part to the start (no fresh memory)
                self._data[:used] = self._data[self._off : self._off + used]
                self._zdata[:used] = self._zdata[self._off : self._off + used]
                self._off = 0
            else:
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
            hint = float(self._scales[-1]) if self._scales.size else 0.0  # where the first median is looked for
            _block_scales(self._buf[lo - b0 : min(last * B, self._total) - b0], B, CLIP_MIN_COUNT, sc, hint)
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
        # long-term reference: the median scale of the CLIP_HISTORY blocks before each block, so that a burst
        # longer than three blocks does not become its own scale
        h_lo = max(k0 - CLIP_HISTORY, self._sc0)
        hist = self._scales[h_lo - self._sc0 : k1 - self._sc0].astype(np.float32)
        ref = np.empty(k1 - k0, np.float32)
        _history_reference(hist, k0 - h_lo, k1 - k0, CLIP_HISTORY, ref)
        s3 = np.minimum(s3, CLIP_HISTORY_FACTOR * ref)
        thr = np.minimum(CLIP_FACTOR * s3, CLIP_MAX).astype(np.float32)  # 0 without any scale: isolated values
        seg = self._buf[self._cdone - b0 : c_end - b0]
        self.n_outliers += int(_erase_outliers(seg, self._cdone, B, k0, thr))
        self._cdone = c_end
        drop = (c_end // B - 1 - CLIP_HISTORY) - self._sc0  # keep the history of the next block to settle
        if drop > 0:
            self._scales = self._scales[drop:]
            self._sc0 += drop

    def _advance(self, z_end: int) -> list[Codeblock]:
        """Compute the statistic for positions [_zdone, z_end), run the decision logic, emit codeblocks."""
        if z_end > self._zdone:
            self._compute_z(self._zdone, z_end)
            self._zdone = z_end
        self._run_decisions(final=False)
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
        _window_z(self._buf, b0, p0, p1, m, self.power_window, self._total, corr, self._z[p0 - b0 : p1 - b0])

    def _run_decisions(self, final: bool) -> None:
        """Decide the candidates of [_ddone, _zdone) in order, pausing at a candidate whose codeblock is incomplete.

        A candidate that needs decoding is decided before anything after it, so that a confirmed
        marker locks the synchronizer in time for the next one.  With ``final`` (end of stream)
        nothing can wait: a candidate cut by the end is counted in ``n_cut``.
        """
        while True:
            if self._waiting is not None:
                pos, val, off = self._waiting
                if pos + self.period <= self._cdone:
                    self._waiting = None
                    self._resolve_candidate(pos, val, off)
                elif final:
                    self._waiting = None
                    self.n_candidates += 1
                    self.n_cut += 1
                else:
                    return
            elif self._ddone < self._zdone:
                self._ddone = self._decide(self._ddone, self._zdone)
            elif final and self._cluster:
                self._close_cluster()
            else:
                break
        if final:
            self._resolve_expectations(self._zdone)

    def _decide(self, p0: int, p1: int) -> int:
        """Cluster the candidates of [p0, p1), act on closed clusters; returns where it stopped (p1 unless paused)."""
        b0 = self._buf_start
        gap = self.asm_len // 2
        for s0 in range(p0, p1, _DECIDE_SLICE):  # in slices: a pause costs at most one slice of work
            z = self._z[s0 - b0 : min(s0 + _DECIDE_SLICE, p1) - b0]
            cand = np.flatnonzero(np.abs(z) >= self.candidate_threshold)
            for idx in cand:
                pos = s0 + int(idx)
                if self._cluster and pos - self._cluster[-1][0] > gap:
                    self._close_cluster()
                    if self._waiting is not None:
                        return pos  # this candidate is looked at again once the waiting one is decided
                self._cluster.append((pos, float(z[idx])))
        # close the open cluster once no later candidate can join it
        if self._cluster and p1 - 1 - self._cluster[-1][0] > gap:
            self._close_cluster()
            if self._waiting is not None:
                return p1
        # expectations whose window lies entirely in final, clustered territory
        limit = p1 - gap - 1 if not self._cluster else min(p1 - gap - 1, self._cluster[0][0])
        self._resolve_expectations(limit)
        return p1

    def _is_sidelobe(self, pos: int, of: int) -> bool:
        """Whether a peak at ``pos`` sits where a sidelobe of the stronger peak at ``of`` lies."""
        return (pos != of and abs(self._z_at(of)) > abs(self._z_at(pos))
                and any(abs(pos - of - lag) <= 1 for lag, _ in self._sidelobes))

    def _window_peak(self, lo: int, hi: int) -> tuple[int, float] | None:
        """Position and statistic of the largest |z| in [lo, hi] (within the buffer), or None."""
        a = max(lo, self._buf_start)
        window = self._z[a - self._buf_start : hi + 1 - self._buf_start]
        if not window.size:
            return None
        i = int(np.argmax(np.abs(window)))
        return a + i, float(window[i])

    def _close_cluster(self) -> None:
        cl = self._cluster
        self._cluster = []
        best = max(cl, key=lambda pv: abs(pv[1]))  # the likelihood-ratio choice among the sidelobes (docstring)
        self._resolve_expectations(cl[0][0])
        tol = self.tolerance
        if self._locked and self._expected - tol <= cl[-1][0] and self._expected + tol >= cl[0][0]:
            # the expected marker's window overlaps this cluster: prefer the expected position,
            # unless what lies there is a sidelobe of the cluster's best peak
            e = self._window_peak(self._expected - tol, self._expected + tol)
            if e is not None and abs(e[1]) >= self.track_threshold and not self._is_sidelobe(e[0], best[0]):
                self._accept(e[0], e[1], "tracked")
                if best[0] != e[0] and abs(best[1]) >= self.threshold:
                    self._on_peak(*best)  # a strong marker next to it replaces it (see _accept)
                return
            self._miss()
        self._on_peak(*best)

    def _miss(self) -> None:
        """The expected marker is not there: flywheel (accept it anyway) or lose the lock."""
        if self._misses < self.flywheel:
            exp = self._expected
            self._misses += 1
            score = self._z_at(exp)
            self._accept(exp, score if score != 0.0 else 1.0, "flywheel", keep_misses=True)
        else:
            self._locked = False

    def _resolve_expectations(self, before: int) -> None:
        """Handle expected markers whose tolerance window ends before `before` (no cluster overlaps it)."""
        while self._locked and self._expected + self.tolerance < before:
            e = self._window_peak(self._expected - self.tolerance, self._expected + self.tolerance)
            if e is not None and abs(e[1]) >= self.track_threshold:
                self._accept(e[0], e[1], "tracked")
            else:
                self._miss()

    def _z_at(self, pos: int) -> float:
        i = pos - self._buf_start
        return float(self._z[i]) if 0 <= i < self._z.size else 0.0

    def _near_accepted(self, pos: int) -> bool:
        """Whether an accepted marker lies less than one ASM length from ``pos`` (the same marker, or a sidelobe)."""
        m = self.asm_len
        for a, _ in self._accepted:  # (a loop: called for every peak, cheaper than any() of a generator)
            if abs(pos - a) < m:
                return True
        return False

    def _off_phase(self, pos: int) -> bool:
        """Whether a marker at ``pos`` would lie inside the codeblock of a reliably accepted marker (or vice versa)."""
        lim = self.period - self.tolerance
        m = self.asm_len
        for a, rel in self._accepted:
            if rel and m <= abs(pos - a) < lim:
                return True
        return False

    def _on_peak(self, pos: int, val: float) -> None:
        self._resolve_expectations(pos)
        if self._locked and abs(pos - self._expected) <= self.tolerance:
            if abs(val) >= self.track_threshold:
                self._accept(pos, val, "tracked")
                return
        near = self._near_accepted(pos)
        off = not near and self._off_phase(pos)
        if abs(val) >= self.threshold and (not off or self.confirm is None):
            self._accept(pos, val, "strong")
            return
        if near:
            return  # the accepted marker again, or its sidelobe
        if not off and self._pair(pos, val):
            return
        if self.confirm is not None and abs(val) >= (self.threshold if off else self.confirm_threshold):
            self._waiting = (pos, val, off)  # decided by decoding once its codeblock is complete
            return
        if not off:
            self._recent.append((pos, val))

    def _pair(self, pos: int, val: float) -> bool:
        """Pair confirmation with an unmatched peak one period earlier (neither inside an accepted codeblock)."""
        self._recent = [(q, zq) for (q, zq) in self._recent if pos - q <= self.period + self.tolerance]
        for q, zq in self._recent:
            if abs(pos - q - self.period) <= self.tolerance:
                if (abs(val) + abs(zq)) / math.sqrt(2.0) >= self.threshold and not self._off_phase(q):
                    self._recent.remove((q, zq))
                    self._accept(q, zq, "pair")
                    self._accept(pos, val, "pair")
                    return True
        return False

    def _resolve_candidate(self, pos: int, val: float, off: bool) -> None:
        """Decide a waiting candidate by decoding; a weak one that fails stays available for pairing."""
        result = self._try_decode(pos, val)
        if result is not None:
            self._accept(pos, val, "confirmed", decoded=result)
        elif not off:
            self._recent.append((pos, val))

    def _codeblock_soft(self, pos: int, val: float) -> np.ndarray:
        start = pos + self.asm_len - self._buf_start
        soft = self._buf[start : start + self.codeblock_len].copy()
        return -soft if val < 0 else soft

    def _looks_like_bpsk(self, soft: np.ndarray) -> bool:
        """The BPSK screen: excess of 3 M2^2 over M4 (0 for Gaussian noise) above screen_sigma noise deviations."""
        half = soft.size // 2
        bar = self.screen_sigma * math.sqrt(6.0 / half)
        # A^4 / (A^2 + sigma^2)^2 for BPSK on AWGN, 0 +- sqrt(6/n) in Gaussian noise; both halves, so that a
        # noise peak whose codeblock only overlaps the start of a real one is not decoded
        return _bpsk_excess(soft[:half]) >= bar and _bpsk_excess(soft[half:]) >= bar

    def _superseded(self, pos: int, val: float) -> bool:
        """Whether a clearly stronger peak lies inside the candidate's codeblock (then it is noise before a marker).

        The span looked at, [pos + ASM, pos + period - power_window - tolerance), has its statistic final
        whenever the codeblock's data is, whatever the chunking.
        """
        lo = pos + self.asm_len - self._buf_start
        hi = pos + self.period - self.power_window - self.tolerance - self._buf_start
        if hi <= lo:
            return False
        bar = min(self.threshold, abs(val) + SUPERSEDE_MARGIN)
        return bool(np.max(np.abs(self._z[lo:hi])) >= bar)

    def _take_token(self, pos: int) -> bool:
        p = max(pos, self._token_pos)
        self._tokens = min(float(self.attempt_burst), self._tokens + (p - self._token_pos) / self.attempt_interval)
        self._token_pos = p
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def _try_decode(self, pos: int, val: float, backfill: bool = False) -> object | None:
        """Screen, budget and decode the codeblock of a candidate; the confirm callable's result (None: rejected)."""
        self.n_candidates += 1
        if not backfill and self._superseded(pos, val):
            self.n_superseded += 1
            return None
        soft = self._codeblock_soft(pos, val)
        if abs(val) < self.screen_below and not self._looks_like_bpsk(soft):
            self.n_screened += 1
            return None
        if not self._take_token(pos):
            self.n_budget_skipped += 1
            return None
        self.n_attempts += 1
        assert self.confirm is not None
        result = self.confirm(soft)
        if result is not None:
            self.n_confirmed += 1
        return result

    def _backfill(self, pos: int) -> None:
        """After accepting ``pos``, try by decoding a weaker candidate one period earlier (when none was accepted)."""
        tol = self.tolerance
        q0 = pos - self.period
        if self.confirm is None or q0 - tol < max(self._buf_start, 0):
            return
        peak = self._window_peak(q0 - tol, q0 + tol)
        if peak is None or abs(peak[1]) < self.backfill_threshold:
            return
        q, zq = peak
        if any(a != pos and abs(a - q) < self.period - tol for a, _ in self._accepted):
            return  # a marker was accepted there, or the codeblock would overlap an accepted one
        result = self._try_decode(q, zq, backfill=True)
        if result is not None:
            self.n_backfilled += 1
            self._accept(q, zq, "backfill", decoded=result)

    def _accept(self, pos: int, val: float, reason: str, keep_misses: bool = False, decoded: object = None) -> None:
        if abs(pos - self._last_accept) < self.asm_len:
            # the same marker again, or a strong peak next to a weaker marker taken where one was expected
            # (e.g. the -64 sidelobe of the rate-1/4 ASM, whose halves are complementary, when a gap moved
            # the marker): the strong peak replaces it while it waits for its data
            weaker = [e for e in self._pending if abs(e[0] - pos) < self.asm_len and abs(e[1]) < abs(val)]
            if reason != "strong" or not weaker or weaker[0][2] not in ("tracked", "flywheel"):
                return
            self._pending.remove(weaker[0])
            self._accepted = [a for a in self._accepted if a[0] != weaker[0][0]]
            self.n_markers -= 1
            self._last_accept = pos
        backfill = reason == "backfill"
        self._last_accept = max(self._last_accept, pos)
        self._pending.append((pos, val, reason, decoded))
        self._pending.sort(key=lambda e: e[0])
        self.n_markers += 1
        reliable = reason != "flywheel" and (reason != "tracked" or abs(val) >= self.confirm_threshold)
        self._accepted.append((pos, reliable))
        if backfill:
            return  # the lock is ahead of it already
        self._locked = True
        if pos + self.period > self._expected or not keep_misses:
            self._expected = pos + self.period
        if not keep_misses:
            self._misses = 0
        self._backfill(pos)

    def _emit(self) -> list[Codeblock]:
        m = self.asm_len
        n = self.codeblock_len
        b0 = self._buf_start
        out = []
        while self._pending and self._pending[0][0] + m + n <= self._cdone:
            pos, val, reason, decoded = self._pending.pop(0)
            start = pos + m
            if pos < b0:  # data already dropped (cannot happen with the trimming below)
                self.n_truncated += 1
                continue
            polarity = 1 if val >= 0 else -1
            soft = self._buf[start - b0 : start - b0 + n].copy()
            if polarity < 0:
                soft = -soft
            out.append(Codeblock(asm_index=pos, start=start, polarity=polarity, score=float(val), reason=reason,
                                 soft=soft, decoded=decoded))
        return out

    def _trim(self) -> None:
        keep = self._ddone - self.period - self.tolerance - 2 * self.power_window - self.asm_len
        if self._pending:
            keep = min(keep, self._pending[0][0])
        if self._cluster:
            keep = min(keep, self._cluster[0][0])
        if self._waiting is not None:
            keep = min(keep, self._waiting[0])
        # unmatched peaks that no later peak can pair with any more (_pair drops them only when it runs, which it
        # does not while every marker is tracked: they would hold the buffer, and memory would grow with the stream)
        first = self._ddone
        if self._cluster:
            first = min(first, self._cluster[0][0])
        if self._waiting is not None:
            first = min(first, self._waiting[0])
        if self._recent and first - self._recent[0][0] > self.period + self.tolerance:
            self._recent = [(q, zq) for (q, zq) in self._recent if first - q <= self.period + self.tolerance]
        for q, _ in self._recent:
            keep = min(keep, q)
        keep = min(max(keep, self._buf_start), self._total)
        self._off += keep - self._buf_start
        self._buf_start = keep
        horizon = self._ddone - 2 * self.period
        if self._accepted and self._accepted[0][0] < horizon:
            self._accepted = [a for a in self._accepted if a[0] >= horizon]

"""Numerically controlled oscillator: remove a Doppler profile and/or a fixed offset, phase-continuously.

The phase removed at sample ``n`` is a pure function of the integer sample index
(``tau = n / samp_rate`` seconds after ``start_unix_s``), evaluated exactly in float64
at the edges of fixed blocks of 1024 samples and interpolated linearly inside them
(deviation below 2.5e-5 cycles at 768 ksps and 100 Hz/s, 16x less at 3.072 Msps),
so splitting the stream into chunks changes nothing and no phase drift builds up
over hours.  For a Doppler profile (piecewise-linear frequency) the integrated phase is
piecewise quadratic and is evaluated in closed form.

Corrupt input: a complex sample with a non-finite component (NaN, +-inf) would poison every
later output of a stage with state, so every DSP stage replaces such samples by 0 and counts
them (:func:`zero_nonfinite`, ``n_nonfinite`` on :class:`Nco`, the decimator, the combiner,
the PLL and the bi-phase demodulator).  Zero is the erasure value: the stages downstream
neither learn from it nor lose state over it.  The test is on the float32 bits (exponent all
ones), a vectorized integer OR-reduction in :func:`zero_nonfinite`; :class:`Nco` makes it while mixing
and burst-blanks each 1024-sample block of its output while still in cache (one pass over the data).

The NCO may run at any sample rate: before the decimator or, cheaper, after it
(the decimator in :mod:`heradecode.dsp.decimate` maps output sample ``m`` exactly to
input sample ``m * factor``, so the time of decimated sample ``m`` is
``start_unix_s + m / samp_rate_out``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from heradecode.errors import UserError

__all__ = ["Nco", "remove_doppler", "DopplerPhase", "zero_nonfinite", "BLANK_FACTOR", "BurstBlanker"]

BLANK_FACTOR = 30.0
"""Burst blanking in the combiner and the PLL: samples above this many times the reference power are set to 0."""

_BLOCK = 1024  # samples between exact phase evaluations
_TAB = 32  # inner phasor table length (fill_phasor)


@njit(cache=True, fastmath=True)
def fill_phasor(out_re, out_im, n, phase0, dphase):  # pragma: no cover - numba
    """out[i] = exp(-j*2*pi*(phase0 + i*dphase)) for i < n (phases in cycles, float64).

    Two-level table: a short table of exp(-j2pi j dphase) times a coarse phasor that
    advances by recursion; relative error stays below 1e-13 for n up to ~1e5.
    """
    a = -2.0 * math.pi * dphase
    wr = math.cos(a)
    wi = math.sin(a)
    t1r = np.empty(_TAB)
    t1i = np.empty(_TAB)
    t1r[0] = 1.0
    t1i[0] = 0.0
    for j in range(1, _TAB):
        t1r[j] = t1r[j - 1] * wr - t1i[j - 1] * wi
        t1i[j] = t1r[j - 1] * wi + t1i[j - 1] * wr
    a = -2.0 * math.pi * (_TAB * dphase)
    Wr = math.cos(a)
    Wi = math.sin(a)
    a = -2.0 * math.pi * phase0
    cr = math.cos(a)
    ci = math.sin(a)
    nb = (n + _TAB - 1) // _TAB
    for k in range(nb):
        lo = k * _TAB
        m = min(_TAB, n - lo)
        ore = out_re[lo:lo + m]
        oim = out_im[lo:lo + m]
        for j in range(m):
            ore[j] = cr * t1r[j] - ci * t1i[j]
            oim[j] = cr * t1i[j] + ci * t1r[j]
        tr = cr * Wr - ci * Wi
        ci = cr * Wi + ci * Wr
        cr = tr


_EXP_MASK = np.uint32(0x7F800000)  # float32 exponent bits: all ones for NaN and +-inf


@njit(cache=True)
def _any_nonfinite(u):  # pragma: no cover - numba
    """Whether any float32 (given as its uint32 bit pattern u) is NaN or +-inf: an integer OR-reduction that vectorizes."""
    acc = np.uint32(0)
    for i in range(u.shape[0]):
        acc |= (u[i] & _EXP_MASK) + np.uint32(0x00800000)  # carries into the sign bit iff the exponent is all ones
    return (acc & np.uint32(0x80000000)) != 0


@njit(cache=True)
def _count_nonfinite(v):  # pragma: no cover - numba
    """Complex samples (float pairs of v) with a non-finite component (no fastmath here: NaN must stay NaN)."""
    count = 0
    for i in range(v.shape[0] // 2):
        if not (math.isfinite(v[2 * i]) and math.isfinite(v[2 * i + 1])):
            count += 1
    return count


@njit(cache=True)
def _zero_nonfinite_pairs(v):  # pragma: no cover - numba
    for i in range(v.shape[0] // 2):
        if not (math.isfinite(v[2 * i]) and math.isfinite(v[2 * i + 1])):
            v[2 * i] = 0.0
            v[2 * i + 1] = 0.0


@njit(cache=True)
def _end_block(ref, acc, c, block, alpha):  # pragma: no cover - numba
    """Close channel c's power block: ref += alpha * (min(p, 2 ref) - ref) for a block power p > 0."""
    pb = acc[c] / block
    acc[c] = 0.0
    if pb > 0.0:
        ref[c] = pb if ref[c] <= 0.0 else ref[c] + alpha * (min(pb, 2.0 * ref[c]) - ref[c])


@njit(cache=True, inline="always")
def _blank_sample(v, c, k, thr):  # pragma: no cover - numba
    """Power of sample k of channel c; the sample is zeroed when the power exceeds thr. Returns (power, blanked)."""
    a = np.float64(v[c, 2 * k])
    b = np.float64(v[c, 2 * k + 1])
    p = a * a + b * b
    if p > thr:
        v[c, 2 * k] = 0.0
        v[c, 2 * k + 1] = 0.0
        return p, 1
    return p, 0


@njit(cache=True)
def _blank_segment(v, lo, hi, factor, alpha, block, ref, acc, pos0):  # pragma: no cover - numba
    """Blank samples lo..hi-1 of every channel of v (nch, 2n) interleaved IQ (see _blank_kernel); returns (count, pos).

    No fastmath: each block's power is summed sample by sample in order, so the reference (and every
    blanking decision) does not depend on how the stream is cut.  Channels are taken two at a time,
    whose sums are independent chains that the CPU overlaps.
    """
    nch = v.shape[0]
    count = 0
    pos = pos0
    for c0 in range(0, nch, 2):
        c1 = c0 + 1 if c0 + 1 < nch else c0
        pair = c1 != c0
        pos = pos0
        thr0 = factor * ref[c0] if ref[c0] > 0.0 else 1e300
        thr1 = factor * ref[c1] if ref[c1] > 0.0 else 1e300
        i = lo
        while i < hi:
            m = min(hi - i, block - pos)
            s0 = acc[c0]
            s1 = acc[c1]
            for k in range(i, i + m):
                p, hit = _blank_sample(v, c0, k, thr0)
                s0 += p
                count += hit
                if pair:
                    p, hit = _blank_sample(v, c1, k, thr1)
                    s1 += p
                    count += hit
            acc[c0] = s0
            if pair:
                acc[c1] = s1
            i += m
            pos += m
            if pos == block:
                pos = 0
                _end_block(ref, acc, c0, block, alpha)
                if pair:
                    _end_block(ref, acc, c1, block, alpha)
                thr0 = factor * ref[c0] if ref[c0] > 0.0 else 1e300
                thr1 = factor * ref[c1] if ref[c1] > 0.0 else 1e300
    return count, pos


@njit(cache=True)
def _blank_kernel(v, factor, alpha, block, ref, acc, pos0):  # pragma: no cover - numba
    """Blank (zero in place) samples of v (nch, 2n) interleaved IQ whose power exceeds factor * ref[c].

    ref[c] follows the block power (blocks of `block` samples, position pos0 in the first one):
    ref += alpha * (min(p, 2 ref) - ref) on blocks with p > 0 (p itself while ref is 0).  acc holds
    each channel's power sum of the block in progress.  Returns (count blanked, next block position).
    """
    return _blank_segment(v, 0, v.shape[1] // 2, factor, alpha, block, ref, acc, pos0)


class BurstBlanker:
    """Streaming burst blanker: per channel, samples above ``factor`` x the reference power become 0 (counted).

    The reference is each channel's power over blocks of ~0.1 ms, averaged over 0.1 s with its
    growth limited to a factor of 2 per block (a burst raises it at most e-fold per 0.1 s; a
    genuine step up in level is followed within a few tenths of a second); all-zero blocks leave
    it alone.  For Gaussian noise a sample exceeds 30 x its mean power with probability e^-30,
    and a constant-envelope signal never does.  The first block of a channel is never blanked.
    """

    def __init__(self, samp_rate: float, factor: float = BLANK_FACTOR):
        if not samp_rate > 0:
            raise UserError(f"sample rate must be positive, got {samp_rate}")
        if not factor > 1:
            raise UserError(f"the blanking factor must be > 1, got {factor}")
        self.factor = float(factor)
        self._block = max(8, int(round(1e-4 * samp_rate)))
        self._alpha = min(1.0, self._block / samp_rate / 0.1)
        self._ref: np.ndarray | None = None
        self._acc: np.ndarray | None = None
        self._pos = 0
        self.n_blanked = 0  #: samples (per channel) blanked so far

    def _state(self, channels: int) -> tuple[np.ndarray, np.ndarray]:
        """The per-channel reference and block power sum arrays (fresh when the channel count changes)."""
        if self._ref is None or self._ref.size != channels:
            self._ref = np.zeros(channels)
            self._acc = np.zeros(channels)
        return self._ref, self._acc

    def process_inplace(self, y: np.ndarray) -> None:
        """Blank one chunk in place: ``y`` is C-contiguous complex64 shaped (channels, n)."""
        ref, acc = self._state(y.shape[0])
        count, self._pos = _blank_kernel(y.view(np.float32), self.factor, self._alpha, self._block, ref, acc, self._pos)
        self.n_blanked += int(count)


def zero_nonfinite(x: np.ndarray) -> tuple[np.ndarray, int]:
    """Replace complex samples with a NaN/inf component by 0: returns (x itself or a cleaned copy, count replaced).

    ``x`` is C-contiguous complex64, or float32 interleaved IQ (pairs along the last axis); it is never modified.
    """
    v = x.reshape(-1).view(np.float32) if x.dtype == np.complex64 else x.reshape(-1)
    if not _any_nonfinite(v.view(np.uint32)):  # the common case, at memory speed
        return x, 0
    count = int(_count_nonfinite(v))
    if count == 0:
        return x, 0
    y = x.copy()
    _zero_nonfinite_pairs(y.reshape(-1).view(np.float32) if y.dtype == np.complex64 else y.reshape(-1))
    return y, count


_PAIR_EXP = np.uint64(0x7F8000007F800000)  # both float32 exponents of a complex64 seen as one uint64
_PAIR_ONE = np.uint64(0x0080000000800000)
_PAIR_SIGN = np.uint64(0x8000000080000000)
_U64_0 = np.uint64(0)
_U64_32 = np.uint64(32)


@njit(cache=True)
def _mix(xu, ys, pr2, pi2, swap, clean, n):  # pragma: no cover - numba
    """ys = x * phasor for n complex64 samples x (given as uint64 bit patterns xu), ys interleaved float32.

    Written as ys[k] = x[k] pr2[k] + swap[k] pi2[k] over the floats, with swap the I/Q-swapped samples (each
    uint64 rotated by 32 bits), pr2 = (pr, pr) and pi2 = (-pi, pi) per sample: all contiguous, so it vectorizes,
    and it rounds exactly as (a pr - b pi, a pi + b pr).  No fastmath: the vectorized body and the scalar
    remainder must round alike (no fused multiply-adds), or the output would depend on the chunking.
    A sample with a NaN/inf component (exponent bits all ones) gives 0; returns the count of those.
    """
    acc = _U64_0
    for i in range(n):  # copied first, so that ys may be x itself (in place) and the last loop still vectorizes
        u = xu[i]
        acc |= (u & _PAIR_EXP) + _PAIR_ONE  # carries into a sign bit iff that exponent is all ones
        clean[i] = u
        swap[i] = (u >> _U64_32) | (u << _U64_32)
    bad = 0
    if acc & _PAIR_SIGN:  # rare: zero the non-finite samples
        for i in range(n):
            if ((clean[i] & _PAIR_EXP) + _PAIR_ONE) & _PAIR_SIGN:
                clean[i] = _U64_0
                swap[i] = _U64_0
                bad += 1
    xf = clean.view(np.float32)
    sf = swap.view(np.float32)
    for k in range(2 * n):
        ys[k] = xf[k] * pr2[k] + sf[k] * pi2[k]
    return bad


@njit(cache=True)
def _nco_apply(xu, y, seg_start, seg_len, seg_phase, seg_dphase, blank, factor, alpha, block, ref, acc,
               pos0):  # pragma: no cover - numba
    """y[c, i] = x[c, i] * exp(-j2pi phase(i)); x complex64 given as uint64 bit patterns xu (nch, n), y interleaved
    IQ float32 (nch, 2n); segments cover [0, n).  Samples with a NaN/inf component give 0; with ``blank`` each
    segment is then burst-blanked in place while still in cache (:func:`_blank_segment`).
    Returns (non-finite, blanked, pos)."""
    nch = xu.shape[0]
    maxlen = 0
    for s in range(seg_len.shape[0]):
        maxlen = max(maxlen, seg_len[s])
    pr = np.empty(maxlen)
    pi = np.empty(maxlen)
    pr2 = np.empty(2 * maxlen, np.float32)
    pi2 = np.empty(2 * maxlen, np.float32)
    swap = np.empty(maxlen, np.uint64)
    clean = np.empty(maxlen, np.uint64)
    n_bad = 0
    n_blank = 0
    pos = pos0
    for s in range(seg_len.shape[0]):
        n = seg_len[s]
        i0 = seg_start[s]
        fill_phasor(pr, pi, n, seg_phase[s], seg_dphase[s])
        for i in range(n):
            c = np.float32(pr[i])
            d = np.float32(pi[i])
            pr2[2 * i] = c
            pr2[2 * i + 1] = c
            pi2[2 * i] = -d
            pi2[2 * i + 1] = d
        for c in range(nch):
            n_bad += _mix(xu[c, i0:i0 + n], y[c, 2 * i0:2 * (i0 + n)], pr2, pi2, swap, clean, n)
        if blank:
            k, pos = _blank_segment(y, i0, i0 + n, factor, alpha, block, ref, acc, pos)
            n_blank += k
    return n_bad, n_blank, pos


class DopplerPhase:
    """Integrated phase (cycles) of a frequency law: a Doppler profile plus a fixed offset.

    ``phase(n)`` returns the phase at integer sample indices ``n`` (counted from
    ``start_unix_s``), reduced modulo 1 cycle; ``freq_hz(n)`` the frequency there.
    """

    def __init__(self, samp_rate: float, doppler=None, offset_hz: float = 0.0, start_unix_s: float = 0.0):
        if not samp_rate > 0:
            raise UserError(f"sample rate must be positive, got {samp_rate}")
        self.samp_rate = float(samp_rate)
        self.start_unix_s = float(start_unix_s)
        self._offset_hz = float(offset_hz)
        self._anchor_n = 0  # offset phase = anchor_phase + (n - anchor_n) * offset / fs
        self._anchor_phase = 0.0
        self.doppler = doppler
        if doppler is not None:
            t = np.asarray(doppler.unix_time, dtype=np.float64) - self.start_unix_s
            f = np.asarray(doppler.freq_hz, dtype=np.float64)
            if t.ndim != 1 or t.size < 2 or t.shape != f.shape:
                raise UserError("a Doppler profile needs at least two (unix_time, hz) points")
            dt = np.diff(t)
            seg = 0.5 * (f[:-1] + f[1:]) * dt  # cycles per segment
            cum = np.zeros(t.size)
            acc = 0.0
            for k in range(seg.size):  # reduce mod 1 as we go to keep precision
                acc = acc + seg[k]
                acc -= math.floor(acc)
                cum[k + 1] = acc
            self._t = t
            self._f = f
            self._slope = np.append(np.diff(f) / dt, 0.0)
            self._cum = cum

    @property
    def offset_hz(self) -> float:
        """Fixed frequency offset (Hz) added to the Doppler profile."""
        return self._offset_hz

    def retune(self, offset_hz: float, at_sample: int) -> None:
        """Change the fixed offset from sample ``at_sample`` on without a phase jump."""
        at_sample = int(at_sample)
        self._anchor_phase = float(self._offset_phase(np.array([at_sample]))[0])
        self._anchor_n = at_sample
        self._offset_hz = float(offset_hz)

    def _offset_phase(self, n: np.ndarray) -> np.ndarray:
        k = (np.asarray(n, dtype=np.int64) - self._anchor_n).astype(np.float64)
        ph = self._anchor_phase + k * (self._offset_hz / self.samp_rate)
        return ph - np.floor(ph)

    def _doppler_phase(self, n: np.ndarray) -> np.ndarray:
        tau = np.asarray(n, dtype=np.float64) / self.samp_rate
        t = self._t
        k = np.clip(np.searchsorted(t, tau, side="right") - 1, 0, t.size - 1)
        u = tau - t[k]
        before = tau < t[0]
        slope = np.where(before, 0.0, self._slope[k])
        ph = self._cum[k] + self._f[k] * u + 0.5 * slope * u * u
        return ph - np.floor(ph)

    def phase(self, n: np.ndarray) -> np.ndarray:
        """Phase (cycles, in [0, 1)) at absolute integer sample indices."""
        ph = self._offset_phase(n)
        if self.doppler is not None:
            ph = ph + self._doppler_phase(n)
        return ph - np.floor(ph)

    def freq_hz(self, n: np.ndarray) -> np.ndarray:
        """Frequency (Hz) at absolute sample indices."""
        n = np.asarray(n, dtype=np.float64)
        f = np.full(n.shape, self._offset_hz)
        if self.doppler is not None:
            f = f + np.interp(n / self.samp_rate, self._t, self._f)
        return f


class Nco:
    """Mix samples down by ``exp(-j*2*pi*phase)``; the phase integrates a Doppler profile plus an offset.

    ``process(chunk)`` takes complex samples shaped ``(n,)`` or ``(n_channels, n)`` and
    returns complex64 of the same shape; successive calls continue the phase.
    ``start_unix_s`` is the UNIX time (s) of the first sample given to ``process``.  With
    ``blank_factor`` (e.g. :data:`BLANK_FACTOR`) the output also goes through a
    :class:`BurstBlanker` (counted in ``n_blanked``): as the receiver's first stage after
    decimation it keeps bursts away from carrier acquisition, combiner and PLL.
    """

    def __init__(self, samp_rate: float, *, doppler=None, offset_hz: float = 0.0, start_unix_s: float = 0.0,
                 blank_factor: float | None = None):
        self._law = DopplerPhase(samp_rate, doppler, offset_hz, start_unix_s)
        self.samp_rate = float(samp_rate)
        self.start_unix_s = float(start_unix_s)
        self.n_processed = 0
        self.n_nonfinite = 0  #: input samples (per channel) with a NaN/inf component, replaced by 0
        self._blanker = BurstBlanker(samp_rate, blank_factor) if blank_factor is not None else None

    @property
    def n_blanked(self) -> int:
        """Samples (per channel) blanked as bursts (0 without ``blank_factor``)."""
        return self._blanker.n_blanked if self._blanker is not None else 0

    @property
    def offset_hz(self) -> float:
        """Fixed offset (Hz) removed on top of the Doppler profile."""
        return self._law.offset_hz

    @property
    def time(self) -> float:
        """UNIX time (s) of the next sample to be processed."""
        return self.start_unix_s + self.n_processed / self.samp_rate

    def retune(self, offset_hz: float) -> None:
        """Change the fixed offset (Hz) from the next sample on, keeping the phase continuous."""
        self._law.retune(offset_hz, self.n_processed)

    def freq_hz(self, sample) -> np.ndarray:
        """Frequency (Hz) removed at absolute sample indices."""
        return self._law.freq_hz(sample)

    def phase_cycles(self, sample) -> np.ndarray:
        """Phase (cycles, modulo 1) removed at absolute sample indices."""
        return self._law.phase(sample)

    def skip(self, n: int) -> None:
        """Advance the sample counter by ``n`` without processing (a gap of known length)."""
        self.n_processed += int(n)

    def process(self, x: np.ndarray, inplace: bool = False) -> np.ndarray:
        """Frequency-shift one chunk; returns complex64 with the shape of ``x``.

        ``inplace``: the result may overwrite ``x`` (when it is C-contiguous complex64), saving a pass
        through memory; for arrays nobody else holds, such as a decimator's output.
        """
        x = np.asarray(x)
        if x.ndim not in (1, 2):
            raise UserError(f"Nco.process expects (n,) or (channels, n) samples, got shape {x.shape}")
        squeeze = x.ndim == 1
        x2 = np.ascontiguousarray(x.reshape(1, -1) if squeeze else x, dtype=np.complex64)
        n = x2.shape[1]
        y2 = x2 if inplace else np.empty_like(x2)
        if n:
            n0 = self.n_processed
            # absolute blocks [b, b + _BLOCK): the phase is exact at block edges and linear in between,
            # so the result does not depend on where chunks start
            b0 = (n0 // _BLOCK) * _BLOCK
            edges = np.arange(b0, n0 + n + _BLOCK, _BLOCK, dtype=np.int64)
            ph = self._law.phase(edges)
            dph = np.diff(ph)
            mid = edges[:-1] + _BLOCK / 2
            dph -= np.round(dph - self._law.freq_hz(mid) * _BLOCK / self.samp_rate)  # add whole cycles
            slope = dph / _BLOCK
            start = np.maximum(edges[:-1], n0)
            stop = np.minimum(edges[1:], n0 + n)
            keep = stop > start
            start, stop, slope = start[keep], stop[keep], slope[keep]
            phase0 = ph[:-1][keep] + (start - edges[:-1][keep]) * slope
            phase0 -= np.floor(phase0)
            bl = self._blanker
            ref, acc = bl._state(x2.shape[0]) if bl is not None else (np.zeros(x2.shape[0]), np.zeros(x2.shape[0]))
            bad, blanked, pos = _nco_apply(
                x2.view(np.uint64),
                y2.view(np.float32),
                (start - n0).astype(np.int64),
                (stop - start).astype(np.int64),
                phase0,
                slope,
                bl is not None,
                bl.factor if bl is not None else 0.0,
                bl._alpha if bl is not None else 0.0,
                bl._block if bl is not None else 1,
                ref,
                acc,
                bl._pos if bl is not None else 0,
            )
            self.n_nonfinite += int(bad)
            if bl is not None:
                bl._pos = int(pos)
                bl.n_blanked += int(blanked)
        self.n_processed += n
        return y2[0] if squeeze else y2


def remove_doppler(
    x: np.ndarray, samp_rate: float, *, doppler=None, offset_hz: float = 0.0, start_unix_s: float = 0.0
) -> np.ndarray:
    """One-shot :class:`Nco`: mix a whole array down by the Doppler profile plus ``offset_hz`` (Hz)."""
    return Nco(samp_rate, doppler=doppler, offset_hz=offset_hz, start_unix_s=start_unix_s).process(x)

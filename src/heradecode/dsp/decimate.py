"""Streaming FIR decimation of one or more complex channels (polyphase, numba).

A :class:`Decimator` is a cascade of linear-phase FIR stages (half-band stages for
every factor of 2, one general polyphase stage for what remains), designed with a
Kaiser window for a given passband and stop-band attenuation.  The filter delay is
compensated: output sample ``m`` is centred exactly on input sample ``m * factor``,
so timestamps carry straight through (``t_out[m] = t_in[0] + m / samp_rate_out``).
State is carried across chunks: feeding any chunk split gives the same output as
one call on the whole array; :meth:`Decimator.flush` emits the last outputs, as if
the input were followed by zeros.  Input may be complex (any dtype) or interleaved
integer/float IQ with a trailing axis of 2 (e.g. ``int16`` ci16 as read from disk),
which is converted on the fly.  Float input samples with a NaN/inf component are replaced
by 0 before filtering and counted in ``Decimator.n_nonfinite`` (one NaN would otherwise
spoil the filter history and, through it, every stage after the decimator).  int16 input is
converted block by block in one contiguous pass, then split into the polyphase rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import signal

from heradecode.dsp.nco import zero_nonfinite
from heradecode.errors import UserError

__all__ = ["DecimatorStage", "design_stages", "Decimator", "decimate", "mode_decimation", "manchester_loss_db",
           "MAX_LOSS_DB", "MAX_RATE_OUT"]

_BLOCK = 2048  # outputs per inner block (keeps the polyphase buffers in L1/L2 cache)


@dataclass(frozen=True)
class DecimatorStage:
    """One FIR stage: odd-length symmetric taps (float32), decimation factor, input rate (samples/s)."""

    factor: int
    taps: np.ndarray
    samp_rate_in: float

    @property
    def samp_rate_out(self) -> float:
        """Output rate (samples/s)."""
        return self.samp_rate_in / self.factor

    def response_db(self, freq_hz: np.ndarray) -> np.ndarray:
        """Magnitude response (dB) at the given frequencies (Hz, input rate)."""
        _, h = signal.freqz(self.taps.astype(np.float64), worN=np.asarray(freq_hz, float), fs=self.samp_rate_in)
        return 20 * np.log10(np.maximum(np.abs(h), 1e-30))


def _kaiser_taps(samp_rate: float, cutoff_hz: float, width_hz: float, atten_db: float, halfband: bool) -> np.ndarray:
    """Kaiser-window low-pass; lengthened until the stop band (from cutoff + width/2) meets atten_db."""
    nyq = samp_rate / 2
    numtaps, beta = signal.kaiserord(atten_db, width_hz / nyq)
    numtaps = max(numtaps, 3)
    stop = np.linspace(cutoff_hz + width_hz / 2, nyq, 512)
    while True:
        if halfband:
            numtaps = 4 * ((numtaps + 1) // 4) + 3  # lengths 4k + 3
            h = signal.firwin(numtaps, 0.5, window=("kaiser", beta))
            c = numtaps // 2
            idx = np.arange(numtaps) - c
            h[(idx % 2 == 0) & (idx != 0)] = 0.0  # exact half-band zeros
        else:
            numtaps |= 1
            h = signal.firwin(numtaps, cutoff_hz / nyq, window=("kaiser", beta))
        h /= h.sum()
        _, resp = signal.freqz(h, worN=stop, fs=samp_rate)
        if 20 * np.log10(np.max(np.abs(resp)) + 1e-30) <= -atten_db or numtaps > 4001:
            return h.astype(np.float32)
        numtaps += 2


def design_stages(samp_rate: float, factor: int, passband_hz: float, atten_db: float = 50.0) -> list[DecimatorStage]:
    """Design the FIR cascade for ``factor``: flat to ``passband_hz`` (Hz), aliases attenuated by ``atten_db`` (dB)."""
    factor = int(factor)
    if factor < 1:
        raise UserError(f"decimation factor must be >= 1, got {factor}")
    out_rate = samp_rate / factor
    if not 0 < passband_hz < out_rate / 2:
        raise UserError(
            f"passband {passband_hz:.0f} Hz does not fit the output rate {out_rate:.0f} samples/s (needs < {out_rate / 2:.0f})"
        )
    stages: list[DecimatorStage] = []
    rate = float(samp_rate)
    rest = factor
    while rest % 2 == 0:
        # aliases that land inside +-passband come from beyond (rate/2 - passband)
        width = rate / 2 - 2 * passband_hz
        stages.append(DecimatorStage(2, _kaiser_taps(rate, rate / 4, width, atten_db, True), rate))
        rate /= 2
        rest //= 2
    if rest > 1:
        out = rate / rest
        width = out - 2 * passband_hz
        stages.append(DecimatorStage(rest, _kaiser_taps(rate, out / 2, width, atten_db, False), rate))
    return stages


def manchester_loss_db(bandwidth_hz: float, symbol_rate: float) -> float:
    """Share of bi-phase-L (rectangular chips) energy outside ``±bandwidth_hz``, as a loss in dB."""
    b = bandwidth_hz / symbol_rate  # in symbol rates
    if b > 2000:
        return 0.0
    f = np.linspace(0.0, b, int(256 * b) + 2)
    psd = np.sinc(f / 2) ** 2 * np.sin(np.pi * f / 2) ** 2  # per unit symbol time, integrates to 1
    inside = 2 * float(np.sum(0.5 * (psd[1:] + psd[:-1]) * np.diff(f)))
    return float(-10 * np.log10(min(max(inside, 1e-12), 1.0)))


MAX_LOSS_DB = 0.15
"""Default band-limiting budget of :func:`mode_decimation` (dB of Manchester energy outside the passband)."""
MAX_RATE_OUT = 3.2e6
"""Default cap on the decimated rate (samples/s): the per-sample stages after the decimator (Doppler NCO,
polarization combiner, carrier loop on two channels) must keep 322.56 kbaud above 12x real time on two cores."""


def mode_decimation(
    symbol_rate: float, samp_rate: float = 6.144e6, max_offset_hz: float = 50e3, max_loss_db: float = MAX_LOSS_DB,
    max_rate_out: float | None = MAX_RATE_OUT,
) -> tuple[int, float]:
    """Power-of-two decimation factor and passband (Hz) for a bi-phase-L symbol rate (baud).

    The passband is 85 % of the output Nyquist frequency less ``max_offset_hz`` of carrier
    offset margin; the factor is the largest whose passband keeps the Manchester
    band-limiting loss (:func:`manchester_loss_db`) within ``max_loss_db``, but at least the
    one that brings the output rate down to ``max_rate_out`` (None: no cap), since every
    stage after the decimator costs per sample.

    Loss against cost, measured on 6.144 Msps dual-polarization recordings (simulated chips,
    integrate-and-dump sampled; whole chain: matched-filter Es/N0 against the signal's, CPU
    per second of signal on one core, same machine and load):

    * 322.56 kbaud: factor 2 (3.072 Msps) loses 0.39 dB, factor 1 0.27 dB (the recording's
      own sampling takes 0.23 dB of both) for 1.75x the CPU, which would take the receiver
      below 12x real time on two workers: the cap keeps factor 2.
    * 60.2375 kbaud: factor 8 (768 ksps) loses 0.29 dB of band, factor 4 (1.536 Msps) 0.13 dB,
      for about twice the (small) downstream cost: the 0.15 dB budget takes factor 4.
    """
    factor = 1
    while True:
        nxt = factor * 2
        pb = 0.85 * samp_rate / nxt / 2 - max_offset_hz
        if pb <= 0:
            break
        too_fast = max_rate_out is not None and samp_rate / factor > max_rate_out
        if manchester_loss_db(pb, symbol_rate) > max_loss_db and not too_fast:
            break
        factor = nxt
    passband = 0.85 * samp_rate / factor / 2 - max_offset_hz
    return factor, passband


@njit(cache=True, fastmath=True)
def _gather_c64(hist, chunk, c, start, D, q, n):  # pragma: no cover - numba
    """q[i] = sample (start + i*D) of the virtual array hist ++ chunk, for i < n.

    Complex64 samples travel as float64 bit patterns: hist, chunk (nch, samples) float64 views.
    """
    H = hist.shape[1]
    hc = hist[c]
    i = 0
    while i < n and start + i * D < H:
        q[i] = hc[start + i * D]
        i += 1
    if i < n:
        src = chunk[c, start + i * D - H:]
        qq = q[i:]
        for j in range(n - i):
            qq[j] = src[j * D]


@njit(cache=True, fastmath=True)
def _fir_block(q, n2, coef, p1, o1, p2, o2, y):  # pragma: no cover - numba
    """y[i] = sum_t coef[t] * (q[p1[t], 2 o1[t] + i] + q[p2[t], 2 o2[t] + i]) for i < n2 (four terms per pass)."""
    nt = coef.shape[0]
    t = 0
    first = True
    while t + 4 <= nt:
        h0 = coef[t]
        h1 = coef[t + 1]
        h2 = coef[t + 2]
        h3 = coef[t + 3]
        a0 = q[p1[t], 2 * o1[t]:]
        b0 = q[p2[t], 2 * o2[t]:]
        a1 = q[p1[t + 1], 2 * o1[t + 1]:]
        b1 = q[p2[t + 1], 2 * o2[t + 1]:]
        a2 = q[p1[t + 2], 2 * o1[t + 2]:]
        b2 = q[p2[t + 2], 2 * o2[t + 2]:]
        a3 = q[p1[t + 3], 2 * o1[t + 3]:]
        b3 = q[p2[t + 3], 2 * o2[t + 3]:]
        if first:
            for i in range(n2):
                y[i] = h0 * (a0[i] + b0[i]) + h1 * (a1[i] + b1[i]) + h2 * (a2[i] + b2[i]) + h3 * (a3[i] + b3[i])
        else:
            for i in range(n2):
                y[i] += h0 * (a0[i] + b0[i]) + h1 * (a1[i] + b1[i]) + h2 * (a2[i] + b2[i]) + h3 * (a3[i] + b3[i])
        first = False
        t += 4
    while t < nt:
        h0 = coef[t]
        a0 = q[p1[t], 2 * o1[t]:]
        b0 = q[p2[t], 2 * o2[t]:]
        if first:
            for i in range(n2):
                y[i] = h0 * (a0[i] + b0[i])
        else:
            for i in range(n2):
                y[i] += h0 * (a0[i] + b0[i])
        first = False
        t += 1


@njit(cache=True, fastmath=True)
def _stage_c64(hist, chunk, first, count, D, smin, span, coef, p1, o1, p2, o2, out):  # pragma: no cover - numba
    """FIR-decimate the virtual complex64 array hist ++ chunk (float64 views, (nch, samples)).

    Output j (j < count) is centred on virtual index first + j*D and equals the sum over
    terms coef * (Q[p1][j + o1] + Q[p2][j + o2]), where Q[r][i] = x[first + r + (i + smin) * D]
    are the polyphase components.  out: (nch, 2 count) float32 interleaved IQ.
    """
    q64 = np.empty((D, _BLOCK + span + 1))
    q = q64.view(np.float32)
    for c in range(chunk.shape[0]):
        for j0 in range(0, count, _BLOCK):
            nb = min(_BLOCK, count - j0)
            for r in range(D):
                _gather_c64(hist, chunk, c, first + r + (j0 + smin) * D, D, q64[r], nb + span)
            _fir_block(q, 2 * nb, coef, p1, o1, p2, o2, out[c, 2 * j0:2 * (j0 + nb)])


@njit(cache=True, fastmath=True)
def _convert_i16(hist, chunk, c, start, n, f):  # pragma: no cover - numba
    """f[:2n] = float32 of samples start .. start+n-1 of channel c of the virtual int16 IQ array hist ++ chunk."""
    H = hist.shape[1] // 2
    k = 0
    if start < H:
        k = min(n, H - start)
        src = hist[c, 2 * start:2 * (start + k)]
        for i in range(2 * k):
            f[i] = np.float32(src[i])
    if k < n:
        src = chunk[c, 2 * (start + k - H):2 * (start + n - H)]
        ff = f[2 * k:2 * n]
        for i in range(2 * (n - k)):
            ff[i] = np.float32(src[i])


@njit(cache=True, fastmath=True)
def _stage_i16(hist, chunk, first, count, D, smin, span, coef, p1, o1, p2, o2, out):  # pragma: no cover - numba
    """As _stage_c64 for int16 interleaved IQ input (nch, 2 * samples).

    Per block, the D * (outputs + span) input samples are converted to float32 in one contiguous pass and then
    split into the D polyphase rows (complex samples moved as 64-bit words): both loops vectorize, where a
    strided gather per row did not.
    """
    L = _BLOCK + span + 1
    q64 = np.empty((D, L))
    q = q64.view(np.float32)
    f = np.empty(2 * D * L, np.float32)
    f64 = f.view(np.float64)
    for c in range(chunk.shape[0]):
        for j0 in range(0, count, _BLOCK):
            nb = min(_BLOCK, count - j0)
            m = nb + span
            _convert_i16(hist, chunk, c, first + (j0 + smin) * D, m * D, f)
            if D == 2:
                q0 = q64[0]
                q1 = q64[1]
                for j in range(m):
                    q0[j] = f64[2 * j]
                    q1[j] = f64[2 * j + 1]
            else:
                for r in range(D):
                    qr = q64[r]
                    for j in range(m):
                        qr[j] = f64[D * j + r]
            _fir_block(q, 2 * nb, coef, p1, o1, p2, o2, out[c, 2 * j0:2 * (j0 + nb)])


class _StageRunner:
    """Streaming state of one stage: history samples plus output bookkeeping."""

    def __init__(self, stage: DecimatorStage):
        self.stage = stage
        h = stage.taps
        D = stage.factor
        c = (h.size - 1) // 2
        self.D = D
        smin = (-c) // D
        smax = c // D
        self.smin = smin
        self.span = smax - smin
        self.lo = smin * D  # lowest read offset from an output centre
        self.hi = smax * D + D - 1  # highest read offset (polyphase padding included)
        coef, p1, o1, p2, o2 = [], [], [], [], []
        for e in range(0, c + 1):
            hv = float(h[c - e])
            if hv == 0.0:
                continue
            s1, r1 = divmod(e, D)
            s2, r2 = divmod(-e, D)
            if e == 0:  # centre tap as a self-pair with half weight (exact in binary floating point)
                coef.append(hv / 2), p1.append(r1), o1.append(s1 - smin), p2.append(r1), o2.append(s1 - smin)
            else:
                coef.append(hv), p1.append(r1), o1.append(s1 - smin), p2.append(r2), o2.append(s2 - smin)
        self.coef = np.array(coef, np.float32)
        self.p1 = np.array(p1, np.int64)
        self.o1 = np.array(o1, np.int64)
        self.p2 = np.array(p2, np.int64)
        self.o2 = np.array(o2, np.int64)
        self.reset()

    def reset(self) -> None:
        self.nch: int | None = None
        self.n_in = 0  # inputs received
        self.m_next = 0  # next output index
        self.hist: np.ndarray | None = None  # samples at absolute indices [n_in - H, n_in)

    def process(self, a: np.ndarray) -> np.ndarray:
        """a: (nch, 2n) interleaved IQ, float32 or int16 -> (nch, 2m) float32."""
        nch, n = a.shape[0], a.shape[1] // 2
        if self.nch is None:
            self.nch = nch
            self.hist = np.zeros((nch, -2 * self.lo), a.dtype)  # zeros before the stream
        elif nch != self.nch:
            raise UserError(f"channel count changed from {self.nch} to {nch} between chunks")
        if self.hist.dtype != a.dtype:
            self.hist = self.hist.astype(np.float32)
            a = a.astype(np.float32)
        D = self.D
        n_tot = self.n_in + n
        m_last = (n_tot - 1 - self.hi) // D if n_tot - 1 - self.hi >= 0 else -1
        count = max(m_last - self.m_next + 1, 0)
        out = np.empty((nch, 2 * count), np.float32)
        H = self.hist.shape[1] // 2
        hist_start = self.n_in - H
        if count:
            first = self.m_next * D - hist_start  # centre of the first output in virtual coordinates
            terms = (self.coef, self.p1, self.o1, self.p2, self.o2, out)
            if a.dtype == np.int16:
                _stage_i16(self.hist, a, first, count, D, self.smin, self.span, *terms)
            else:
                _stage_c64(self.hist.view(np.float64), a.view(np.float64), first, count, D, self.smin, self.span, *terms)
        self.m_next += count
        keep_from = max(self.m_next * D + self.lo, hist_start)
        keep = n_tot - keep_from
        if keep <= n:
            self.hist = np.array(a[:, 2 * (n - keep):])
        else:
            self.hist = np.concatenate((self.hist[:, 2 * (H - (keep - n)):], a), axis=1)
        self.n_in = n_tot
        return out

    def flush(self) -> np.ndarray:
        """Outputs still owed (centres inside the received input), computed with zeros past the end."""
        if self.nch is None or self.n_in == 0:
            return np.zeros((self.nch or 1, 0), np.float32)
        owed_last = (self.n_in - 1) // self.D
        if owed_last < self.m_next:
            return np.zeros((self.nch, 0), np.float32)
        need = owed_last * self.D + self.hi + 1 - self.n_in
        return self.process(np.zeros((self.nch, 2 * need), self.hist.dtype))  # ends exactly at owed_last


def _as_iq3(x: np.ndarray) -> tuple[np.ndarray, bool]:
    """View input as (nch, 2n) interleaved float32/int16; returns (array, was_1d)."""
    x = np.asarray(x)
    if np.iscomplexobj(x):
        if x.ndim not in (1, 2):
            raise UserError(f"expected complex samples shaped (n,) or (channels, n), got {x.shape}")
        squeeze = x.ndim == 1
        x2 = np.ascontiguousarray(x.reshape(1, -1) if squeeze else x, dtype=np.complex64)
        return x2.view(np.float32), squeeze
    if x.ndim in (2, 3) and x.shape[-1] == 2:
        squeeze = x.ndim == 2
        x3 = x.reshape(1, x.shape[0], 2) if squeeze else x
        if x3.dtype not in (np.int16, np.float32):
            x3 = x3.astype(np.float32)
        x3 = np.ascontiguousarray(x3)
        return x3.reshape(x3.shape[0], 2 * x3.shape[1]), squeeze
    raise UserError(f"expected complex samples or interleaved IQ with a last axis of 2, got {x.dtype} {x.shape}")


class Decimator:
    """Streaming low-pass decimator for ``(n,)`` or ``(channels, n)`` complex (or ``(..., n, 2)`` IQ) input.

    Output is complex64, ``(n_out,)`` or ``(channels, n_out)``; output sample ``m`` is
    centred on input sample ``m * factor``.  ``passband_hz`` defaults to 80 % of the
    output Nyquist frequency.
    """

    def __init__(self, samp_rate: float, factor: int, *, passband_hz: float | None = None, atten_db: float = 50.0):
        self.samp_rate_in = float(samp_rate)
        self.factor = int(factor)
        self.samp_rate_out = self.samp_rate_in / self.factor
        if passband_hz is None:
            passband_hz = 0.4 * self.samp_rate_out
        self.passband_hz = float(passband_hz)
        self.stages = design_stages(self.samp_rate_in, self.factor, self.passband_hz, atten_db)
        self._runners = [_StageRunner(s) for s in self.stages]
        self.n_in = 0
        self.n_out = 0
        self.n_nonfinite = 0  #: input samples (per channel) with a NaN/inf component, replaced by 0

    def reset(self) -> None:
        """Forget all state (as if new)."""
        for r in self._runners:
            r.reset()
        self.n_in = 0
        self.n_out = 0
        self.n_nonfinite = 0

    @property
    def n_taps(self) -> list[int]:
        """Tap count of each stage."""
        return [s.taps.size for s in self.stages]

    def _finish(self, y3: np.ndarray, squeeze: bool) -> np.ndarray:
        y = np.ascontiguousarray(y3).view(np.complex64)
        self.n_out += y.shape[1]
        return y[0] if squeeze else y

    def process(self, x: np.ndarray) -> np.ndarray:
        """Decimate one chunk; returns the outputs that are complete so far."""
        a, squeeze = _as_iq3(x)
        if a.dtype == np.float32:
            a, bad = zero_nonfinite(a)
            self.n_nonfinite += bad
        self._squeeze = squeeze
        self.n_in += a.shape[1] // 2
        if not self._runners:
            return self._finish(a.astype(np.float32, copy=False), squeeze)
        for r in self._runners:
            a = r.process(a)
        return self._finish(a, squeeze)

    def flush(self) -> np.ndarray:
        """Emit the remaining outputs (input treated as followed by zeros); total output is ceil(n_in/factor).

        Ends the stream: call :meth:`reset` before feeding new input.
        """
        squeeze = getattr(self, "_squeeze", False)
        a = None
        for r in self._runners:
            if a is not None and a.shape[1]:
                a = np.concatenate((r.process(a), r.flush()), axis=1)
            else:
                a = r.flush()
        if a is None:
            a = np.zeros((1, 0), np.float32)
        return self._finish(a, squeeze)


def decimate(
    x: np.ndarray, samp_rate: float, factor: int, *, passband_hz: float | None = None, atten_db: float = 50.0
) -> np.ndarray:
    """One-shot :class:`Decimator` including the flush: returns ``ceil(n / factor)`` complex64 samples per channel."""
    d = Decimator(samp_rate, factor, passband_hz=passband_hz, atten_db=atten_db)
    y = d.process(x)
    return np.concatenate((y, d.flush()), axis=-1)

"""Bi-phase-L (Manchester) demodulation: full-energy matched filter, symbol timing recovery, LLRs.

Input is the PLL's phase-corrected output: the chips are in the imaginary part (PM:
``Im(exp(j m d(t))) = sin(m) d(t)``) and the real part holds the carrier and the same
noise, which serves as the noise reference.  Real input (the chips only) also works.

Matched filter.  With ``I(t)`` the running integral of the band-limited signal that the
samples represent (cumulative sum plus a 16-tap windowed-sinc step-response correction
at the fractional end point, table of 128 phases), the output for a symbol starting at
``tau`` of length ``T`` samples is

    y = [I(tau + T/2) - I(tau)] - [I(tau + T) - I(tau + T/2)]

i.e. the correlation with the whole (+1, -1) chip pair: all the symbol energy in the
band, not only the fundamental; its loss is the Manchester energy outside the band
kept by the decimator (see :func:`heradecode.dsp.decimate.manchester_loss_db`).
Bit 0 (chips +1, -1) gives y > 0.

Timing.  An early-late detector ``y * (y(tau + d) - y(tau - d))`` (piecewise-linear
integrals), normalised by the estimated amplitude so its gain is one sample per sample of
error, drives a 2nd-order loop (proportional plus integral on the symbol
period), so a clock offset (+-100 ppm, Doppler on the symbol rate) leaves no steady
error.  The loop bandwidth (fraction of the symbol rate) starts at ``acq_bandwidth``
and anneals towards ``bandwidth`` (about 4 / symbols tracked); the period stays within
``max_clock_ppm`` of nominal.  The spacing is T/8 while the loop pulls in (its linear range
must cover the warm-up's phase error, up to T/16, and the pull-in of a clock offset), then,
once ``NARROW_AFTER_SYMBOLS`` have been tracked, about one sample, d = clip(1, T/16, T/8)
samples: while the chip edges (smeared by the band limit over about a sample) are sharper
than d the detector's gain does not depend on d, but the noise of the difference grows as
sqrt(d), so the short spacing divides the steady timing jitter's variance by about 3 at 19
samples per symbol (standard deviation 0.0105 -> 0.006 symbol at Es/N0 = -5 dB).  With
rectangular chips every 0.01 symbol of timing error costs about 0.05 dB (0.02: 0.18 dB), so
this is worth 0.04-0.08 dB.  The pull-in is slow: a 2nd-order loop that anneals still wanders
by a few hundredths of a symbol over the first tens of thousands of symbols when it has a
clock offset to learn (synthetic, Es/N0 = -5.4 dB, 25.5 samples per symbol, -20 ppm: median
loss 0.6 dB over symbols 5000-12000, 0.35 dB to 25000, 0.16 dB after).

Half-symbol ambiguity.  The Manchester matched-filter energy against the timing offset
peaks on the symbol boundaries but has a second, half-height maximum in mid-symbol,
where an energy-seeking loop can settle.  The demodulator keeps running averages of
the energy at eight timing phases (0, T/8, ..., 7T/8): a warm-up with the loop open
(``warmup_symbols``) picks the best phase, and while tracking it jumps to another
phase whenever that is stronger by ``hop_margin``.  This finds the boundaries at
start-up, escapes a mid-symbol lock and re-finds timing after a fade, so no second
decoding attempt with a half-symbol shift is needed downstream.  The remaining sign
ambiguity (spectrum inversion, a 180-degree PLL slip) is resolved by the ASM polarity.

Soft output.  The same matched filter on the real part (every ``noise_every``-th symbol: every
symbol at the low rate, every 4th at the high rate) measures the noise ``sigma^2`` (whole-symbol
sums for real input, every symbol), the
amplitude is ``a^2 = <y^2> - sigma^2``, LLR = ``2 a y / sigma^2`` (positive = bit 0) and
Es/N0 = ``a^2 / (2 sigma^2)``.  The LLR scale must be stable: a scale that wanders within a
codeblock widens the LLR histogram and biases any Es/N0 read from the codeblock.  So the
averages are long and fixed-length -- ``scale_symbols`` (32768) symbols for ``<y^2>``, 0.4 s
(``noise_symbols``) for the noise, whose level the polarization combiner keeps near one but
which drifts by a percent or two while the combiner's estimates settle -- giving a scale good
to about 2 % (Es/N0 to 0.1 dB) at Es/N0 = -6 dB, while fast averages (``stats_symbols``,
4000) watch for a change of level: when the fast ``<y^2>`` is more than ``change_sigmas`` (5) of its own standard deviations
(``sqrt((2 sigma^4 + 4 a^2 sigma^2) alpha / (2 - alpha))`` for BPSK in Gaussian noise) from the
slow one -- a fade, a drop-out, the signal back -- the slow average restarts from the fast one,
which is caught mid-change, so it counts for only ``RESTART_WEIGHT`` (64) values, and lengthens
again (weights 1/k); the noise likewise.  All averages start as running means
(1/k).  The slow signal average restarts when the warm-up finds the symbol boundaries and again
once the timing loop has tracked ``SETTLE_SYMBOLS`` (2048) (the fast one, which also sets the
timing detector's gain, runs on): the first 2000 symbols of the pull-in, with a wide loop
and much jitter, lose 1-2 dB and would otherwise weigh on the scale for a codeblock.  Until 8 noise values are in, the
LLRs are 0.  The scale and Es/N0 are refreshed every 16 symbols.  When the contrast between
the best and the worst timing phase vanishes the signal is absent: the loop coasts, the LLRs
fall to about zero (erasures) and the warm-up runs again once the signal is back.

Erasures.  A symbol whose matched-filter output is exactly 0 lies in a stretch of zero
input (samples blanked as a burst or replaced after NaN upstream, or a gap): it is output
as an erasure (LLR 0) and teaches nothing: the amplitude, noise and phase-monitor averages
and the timing loop are left as they were, so decoding resumes at full quality right after
the stretch.  Input samples with a NaN/inf component are replaced by 0 and counted in
``n_nonfinite``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from heradecode.errors import UserError

__all__ = ["Symbols", "BiphaseDemodulator", "demodulate_biphase"]

# float state: slow (LLR scale) and fast (change detection, timing gain) averages of y^2, of the noise arm
_TAU, _T, _EY2, _ES, _ES2, _BLT, _T0, _CONTRAST = range(8)
_EMON = 8  # 8 monitor energies follow
_EY2F, _ESF, _ES2F, _SCALE, _RHO, _SIG2 = 16, 17, 18, 19, 20, 21
_NF = 22
# int state
_NSYM, _WARM, _STATE, _NMON, _KST, _TRK, _KN, _NRESET, _KSF = range(9)
_NI = 9
# timing states
_WARMUP, _TRACK, _ABSENT = 0, 1, 2


@dataclass(frozen=True)
class Symbols:
    """Soft symbols from one chunk."""

    llr: np.ndarray  #: float32 LLR per symbol, ln P(bit 0)/P(bit 1) (positive = bit 0)
    soft: np.ndarray  #: float32 raw matched-filter output (input units x samples)
    sample: np.ndarray  #: float64 position of each symbol's start (input samples since the stream start)
    esn0_db: np.ndarray  #: float32 running Es/N0 estimate at each symbol (dB)

    def __len__(self) -> int:
        return int(self.llr.size)

    @staticmethod
    def concatenate(parts: list["Symbols"]) -> "Symbols":
        """Join chunks' symbols."""
        if not parts:
            z = np.zeros(0, np.float32)
            return Symbols(z, z, np.zeros(0), z)
        return Symbols(
            np.concatenate([p.llr for p in parts]),
            np.concatenate([p.soft for p in parts]),
            np.concatenate([p.sample for p in parts]),
            np.concatenate([p.esn0_db for p in parts]),
        )


NOISE_VALUES_PER_S = 80e3  #: noise-arm values per second the default cadence aims at
NOISE_TIME_S = 0.4  #: default noise averaging time (s): long for precision, short next to the combiner's drift
RESTART_WEIGHT = 64  #: after a change of level the slow average restarts from the fast one, weighted as this many values
NARROW_AFTER_SYMBOLS = 8192  #: symbols tracked before the timing detector's spacing narrows from T/8
SETTLE_SYMBOLS = 2048  #: symbols tracked after which the signal averages start afresh (the timing has pulled in)
_W = 8  # half-length (samples) of the band-limited integration kernel
_P = 128  # fractional phases of the kernel table (position step 1/128 sample)


def _integral_table(W: int = _W, P: int = _P) -> np.ndarray:
    """tab[p, i + W] = G(p/P - i) - [i < 0]: step response G of a Kaiser-windowed sinc (unit area)."""
    fine = 64
    u = np.arange(-W * fine, W * fine + 1) / fine
    g = np.sinc(u) * np.kaiser(u.size, 8.0)
    G = np.concatenate(([0.0], np.cumsum(0.5 * (g[1:] + g[:-1])) / fine))
    G /= G[-1]
    f = np.arange(P + 1) / P
    i = np.arange(-W, W)
    arg = f[:, None] - i[None, :]
    tab = np.interp(arg, u, G) - (i[None, :] < 0)
    return np.ascontiguousarray(tab, dtype=np.float32)


_TABLE = _integral_table()


@njit(cache=True, inline="always")
def _S(Cs, r, x):  # pragma: no cover - numba
    """Integral of the piecewise-linear interpolant of r up to x, plus a constant (Cs[k] = sum of r[:k]).

    The trapezoid integral to k is Cs[k] + (r[k] - r[0]) / 2; the constant -r[0]/2 cancels in
    every matched-filter difference.
    """
    ki = int(x)
    f = x - ki
    k = np.uint64(ki)
    rk = r[k]
    return Cs[k] + rk * (0.5 + f) + 0.5 * f * f * (r[k + np.uint64(1)] - rk)


@njit(cache=True, inline="always")
def _mf(C, r, t, T):  # pragma: no cover - numba
    return 2.0 * _S(C, r, t + 0.5 * T) - _S(C, r, t) - _S(C, r, t + T)


@njit(cache=True, inline="always")
def _key(x):  # pragma: no cover - numba
    """Sample index m = int(x) and kernel-table phase p of position x (what the band-limited integral depends on)."""
    m = int(x)
    return m, np.uint64((x - m) * _P + 0.5)


@njit(cache=True, fastmath=True, inline="always")
def _corr(r, tab, m, p):  # pragma: no cover - numba
    """The fractional part of the band-limited integral of r at (m, p) (_key): I(x) - Cs[m], Cs[m] = sum of r[:m]."""
    b = np.uint64(m - _W)
    acc = np.float32(0.0)
    for i in range(tab.shape[1]):  # 2 _W, not a constant: the loop is vectorized rather than unrolled
        ui = np.uint64(i)
        acc += r[b + ui] * tab[p, ui]
    return acc


@njit(cache=True, fastmath=True, inline="always")
def _corr2(r, q, tab, m, p):  # pragma: no cover - numba
    """_corr of r and of q at the same (m, p) in one pass over the table row."""
    b = np.uint64(m - _W)
    acc = np.float32(0.0)
    accq = np.float32(0.0)
    for i in range(tab.shape[1]):  # (vectorized)
        ui = np.uint64(i)
        t = tab[p, ui]
        acc += r[b + ui] * t
        accq += q[b + ui] * t
    return acc, accq


@njit(cache=True, fastmath=True, inline="always")
def _half_sums(q, m0, mh, m1):  # pragma: no cover - numba
    """sum of q[m0:mh] - sum of q[mh:m1] (the plain part of the matched filter, without a cumulative sum)."""
    s1 = np.float32(0.0)
    for j in range(m0, mh):
        s1 += q[j]
    s2 = np.float32(0.0)
    for j in range(mh, m1):
        s2 += q[j]
    return np.float64(s1) - np.float64(s2)


@njit(cache=True)
def _floor_count(a):  # pragma: no cover - numba
    """A count from which on the running-mean weight 1/k is below the floor a (max(a, 1/k) = a)."""
    return int(1.0 / a) + 2 if a > 1e-18 else 1 << 62


@njit(cache=True, fastmath=True)
def _biphase_kernel(r, q, use_q, tab, buf0, fst, ist, blt_track, blt_acq, warm_len, alphas, alpha_mon, hop_margin,
                    max_dev, llr, soft, pos, esn0, Cs):  # pragma: no cover - numba
    """Demodulate symbols whose samples lie in r (buffer starting at absolute sample buf0).

    q is the in-phase arm (noise reference, same filtering, no data) when use_q.  alphas: the
    averaging weights, (fast, slow, noise slow, noise fast, noise cadence, change threshold in
    standard deviations).  Cs is a work buffer of at least r.size + 1 values.  The state lives in
    fst and ist between calls and in local variables within one (written back at the end).

    Statistics (module docstring): slow and fast averages of y^2 and of the noise arm s, restarted
    when the two disagree; every 16th symbol (and while the averages are young) the change tests run
    and the LLR scale 2 a / sigma^2, Es/N0 and sigma^2 are refreshed.
    """
    n = r.shape[0]
    C = Cs  # plain cumulative sum, Cs[k] = sum of r[:k]
    acc = 0.0
    Cs[0] = 0.0
    n4 = n // 4
    for b in range(n4):  # blocked prefix sum (shorter dependency chain)
        a0 = r[4 * b]
        a1 = a0 + r[4 * b + 1]
        a2 = a1 + r[4 * b + 2]
        a3 = a2 + r[4 * b + 3]
        Cs[4 * b + 1] = acc + a0
        Cs[4 * b + 2] = acc + a1
        Cs[4 * b + 3] = acc + a2
        Cs[4 * b + 4] = acc + a3
        acc += a3
    for k in range(4 * n4, n):
        acc += r[k]
        Cs[k + 1] = acc
    zeta = 0.7071067811865476
    a_f, a_s, a_n, a_nf, zsig = alphas[0], alphas[1], alphas[2], alphas[3], alphas[5]
    sqrt_a_nf = math.sqrt(a_nf)
    # counts from which on the running means' weights are on their floors (no division per symbol)
    kf_f = _floor_count(a_f)
    kf_s = _floor_count(a_s)
    kf_n = _floor_count(a_n)
    kf_nf = _floor_count(a_nf)
    noise_every = int(alphas[4])
    lo_T = fst[_T0] * (1.0 - max_dev)
    hi_T = fst[_T0] * (1.0 + max_dev)
    # the state, in local variables
    tau_a = fst[_TAU]
    T = fst[_T]
    ey2 = fst[_EY2]
    es = fst[_ES]
    es2 = fst[_ES2]
    blt = fst[_BLT]
    contrast = fst[_CONTRAST]
    ey2f = fst[_EY2F]
    esf = fst[_ESF]
    es2f = fst[_ES2F]
    scale = fst[_SCALE]
    rho = fst[_RHO]
    sig2 = fst[_SIG2]
    nsym = ist[_NSYM]
    warm = ist[_WARM]
    state = ist[_STATE]
    nmon = ist[_NMON]
    kst = ist[_KST]
    trk = ist[_TRK]
    kn = ist[_KN]
    nreset = ist[_NRESET]
    ksf = ist[_KSF]
    # loop gains for the last (bandwidth, update interval)
    g_blt = -1.0
    g_every = 0
    kp = 0.0
    ki = 0.0
    # the band-limited integral at the end of the last symbol: the start of the next one when the timing has not
    # moved it to another (sample, table phase)
    cm = -1
    cp = np.uint64(0)
    cval = 0.0
    nout = 0
    cap = llr.shape[0]
    tmp = np.empty(8)
    while nout < cap:
        tau = tau_a - buf0
        if tau + 2.0 * T + _W + 3.0 >= n:
            break
        d = T / 8.0
        # early-late spacing of the timing detector: T/8 while pulling in (a wide linear range), then about one
        # sample (its noise grows with the spacing, its gain does not while the chip edges are sharper)
        de = d if trk < NARROW_AFTER_SYMBOLS else min(d, max(T / 16.0, 1.0))
        if tau - d - _W - 1.0 < 0.0:  # cannot happen with the tail kept by the caller; skip ahead defensively
            tau_a += T
            continue
        # matched filter on the band-limited integral (full symbol energy); the noise arm (same filter on the
        # in-phase arm, noise only) every noise_every-th symbol, with the same table rows
        m0, p0 = _key(tau)
        mh, ph = _key(tau + 0.5 * T)
        m1, p1 = _key(tau + T)
        noise_sym = use_q and nsym % noise_every == 0
        if noise_sym:
            e0, q0 = _corr2(r, q, tab, m0, p0)
            eh, qh = _corr2(r, q, tab, mh, ph)
            e1, q1 = _corr2(r, q, tab, m1, p1)
            c0 = Cs[m0] + e0
            ch = Cs[mh] + eh
            c1 = Cs[m1] + e1
        else:
            if m0 == cm and p0 == cp:
                c0 = cval
            else:
                c0 = Cs[m0] + _corr(r, tab, m0, p0)
            ch = Cs[mh] + _corr(r, tab, mh, ph)
            c1 = Cs[m1] + _corr(r, tab, m1, p1)
        cm = m1
        cp = p1
        cval = c1
        y = 2.0 * ch - c0 - c1
        if y == 0.0:  # zero input (an erased stretch): an erasure; statistics and timing are left alone
            llr[nout] = 0.0
            soft[nout] = 0.0
            pos[nout] = tau_a
            esn0[nout] = max(rho, 1e-6)
            nout += 1
            tau_a += T
            nsym += 1
            continue
        # ---- statistics at the current timing (Es/N0, LLR scale) ----
        have_noise = True
        if not use_q:  # whole-symbol sum: no Manchester signal, same noise as y for white noise
            s = c1 - c0
        elif noise_sym:
            s = _half_sums(q, m0, mh, m1) + (2.0 * qh - q0 - q1)
        else:
            s = 0.0
            have_noise = False
        if have_noise:
            kn += 1
            w = a_n if kn >= kf_n else max(a_n, 1.0 / kn)
            wf = a_nf if kn >= kf_nf else max(a_nf, 1.0 / kn)
            es += w * (s - es)
            es2 += w * (s * s - es2)
            esf += wf * (s - esf)
            es2f += wf * (s * s - es2f)
        kst += 1
        ksf += 1
        k = kst
        w = a_s if k >= kf_s else max(a_s, 1.0 / k)
        wf = a_f if ksf >= kf_f else max(a_f, 1.0 / ksf)
        y2 = y * y
        ey2 += w * (y2 - ey2)
        ey2f += wf * (y2 - ey2f)
        if (k & 15) == 0 or k <= 64:
            kn_was = kn
            if kn * a_nf > 1.0:  # the fast noise average is on its floor: compare (s^2 averages: sd ~ sig2 sqrt(a))
                sg = es2 - es * es
                sgf = es2f - esf * esf
                if abs(sgf - sg) > zsig * max(sg, 1e-30) * sqrt_a_nf:
                    es = esf
                    es2 = es2f
                    kn = RESTART_WEIGHT
                    nreset += 1
            sig2 = max(es2 - es * es, 1e-30)
            if k * a_f > 1.0:
                a2 = max(ey2 - sig2, 0.0)
                # the fast average of y^2 (var 2 sig2^2 + 4 a2 sig2 for BPSK in Gaussian noise) against the slow one
                sd = math.sqrt((2.0 * sig2 * sig2 + 4.0 * a2 * sig2) * a_f / (2.0 - a_f))
                if abs(ey2f - ey2) > zsig * sd:
                    ey2 = ey2f
                    kst = RESTART_WEIGHT
                    nreset += 1
            a2 = max(ey2 - sig2, 1e-6 * sig2)
            if kn_was < 8:  # too few noise values for a scale: erasures until there are
                scale = 0.0
                rho = 1e-6
            else:
                scale = 2.0 * math.sqrt(a2) / sig2
                rho = 0.5 * a2 / sig2
        llr[nout] = scale * y
        soft[nout] = y
        pos[nout] = tau_a
        esn0[nout] = rho  # linear here, dB in the caller
        nout += 1
        st0 = state
        # ---- phase monitor: energy at 8 timing phases (every 2nd symbol in warm-up, 4th when absent, 8th tracking) ----
        hop = 0.0
        cadence = 8 if st0 == _TRACK else (4 if st0 == _ABSENT else 2)
        if (nsym & (cadence - 1)) == 0:
            nmon += 1
            am = max(alpha_mon if st0 == _TRACK or st0 == _ABSENT else 0.0, 1.0 / nmon)
            for j in range(8):
                yj = _mf(C, r, tau + j * d, T) if j > 0 else y
                fst[_EMON + j] += am * (yj * yj - fst[_EMON + j])
            best = 0
            worst = 0
            for j in range(1, 8):
                if fst[_EMON + j] > fst[_EMON + best]:
                    best = j
                if fst[_EMON + j] < fst[_EMON + worst]:
                    worst = j
            # presence: contrast between the best and the worst phase (independent of the timing)
            emin = max(fst[_EMON + worst], 1e-30)
            contrast = (fst[_EMON + best] - emin) / emin
            if st0 == _WARMUP:
                warm += 1
                if warm >= warm_len:
                    if contrast > 0.3:
                        hop = best * d if best <= 4 else (best - 8) * d
                        state = _TRACK
                        blt = blt_acq
                        trk = 0
                        kst = 0  # the slow signal average restarts on the timing found
                    warm = 0
                    nmon = 0
            elif st0 == _TRACK:
                if nmon > 64 and contrast < 0.15:
                    state = _ABSENT
                elif best != 0 and fst[_EMON + best] > (1.0 + hop_margin) * fst[_EMON]:
                    hop = best * d if best <= 4 else (best - 8) * d
            elif contrast > 0.3:  # absent -> signal back: search afresh
                state = _WARMUP
                warm = 0
                nmon = 0
            if hop != 0.0:
                for j in range(8):
                    tmp[j] = fst[_EMON + (j + best) % 8]
                for j in range(8):
                    fst[_EMON + j] = tmp[j]
        # ---- timing loop ----
        # once the loop is narrow, update it every 2nd symbol (same bandwidth, half the work)
        every = 2 if blt < 1e-3 else 1
        if state == _TRACK and st0 == _TRACK and nsym % every != 0:
            tau_a += T + hop
        elif state == _TRACK and st0 == _TRACK:
            ye = _mf(C, r, tau - de, T)
            yl = _mf(C, r, tau + de, T)
            # early-late error normalised by the (fast) amplitude estimate: ~ -(timing error) in samples
            # (the floor keeps the gain bounded while the amplitude estimate settles)
            a2f = ey2f - sig2
            err = y * (yl - ye) * T / (6.0 * max(a2f, 0.1 * ey2f))
            if err > d:
                err = d
            elif err < -d:
                err = -d
            if blt != g_blt or every != g_every:
                g_blt = blt
                g_every = every
                th = every * blt / (zeta + 0.25 / zeta)
                den = 1.0 + 2.0 * zeta * th + th * th
                kp = 4.0 * zeta * th / den
                ki = 4.0 * th * th / den
            tau_a += T + kp * err + hop
            Tn = T + ki * err
            T = min(max(Tn, lo_T), hi_T)
            trk += every
            if trk >= SETTLE_SYMBOLS and trk - every < SETTLE_SYMBOLS:
                # the timing loop has pulled in: the slow signal average starts afresh without the pull-in's jitter
                kst = 0
            # annealing: the loop averages over about a quarter of the time it has been tracking (once on its
            # floor blt_track it stays there until the next warm-up sets blt_acq)
            if blt != blt_track:
                blt = max(blt_track, blt_acq / (1.0 + trk * blt_acq / 4.0))
        else:
            tau_a += T + hop
        nsym += 1
    fst[_TAU] = tau_a
    fst[_T] = T
    fst[_EY2] = ey2
    fst[_ES] = es
    fst[_ES2] = es2
    fst[_BLT] = blt
    fst[_CONTRAST] = contrast
    fst[_EY2F] = ey2f
    fst[_ESF] = esf
    fst[_ES2F] = es2f
    fst[_SCALE] = scale
    fst[_RHO] = rho
    fst[_SIG2] = sig2
    ist[_NSYM] = nsym
    ist[_WARM] = warm
    ist[_STATE] = state
    ist[_NMON] = nmon
    ist[_KST] = kst
    ist[_TRK] = trk
    ist[_KN] = kn
    ist[_NRESET] = nreset
    ist[_KSF] = ksf
    return nout


@njit(cache=True)
def _split_arms(v, r, q):  # pragma: no cover - numba
    """r[i], q[i] = imaginary and real part of sample i (v interleaved IQ); a NaN/inf sample gives 0, 0 (counted)."""
    bad = 0
    for i in range(r.shape[0]):
        re = v[2 * i]
        im = v[2 * i + 1]
        if math.isfinite(re) and math.isfinite(im):
            r[i] = im
            q[i] = re
        else:
            r[i] = 0.0
            q[i] = 0.0
            bad += 1
    return bad


@njit(cache=True)
def _copy_finite(x, r):  # pragma: no cover - numba
    """r[i] = x[i], NaN/inf read as 0 (counted)."""
    bad = 0
    for i in range(r.shape[0]):
        if math.isfinite(x[i]):
            r[i] = x[i]
        else:
            r[i] = 0.0
            bad += 1
    return bad


class BiphaseDemodulator:
    """Streaming bi-phase-L demodulator; ``process(chunk)`` returns the :class:`Symbols` completed so far.

    ``samp_rate`` (samples/s) and ``symbol_rate_baud`` (baud, nominal) fix the initial symbol
    length; ``bandwidth`` is the timing-loop noise bandwidth as a fraction of the symbol
    rate (tracking), ``acq_bandwidth`` the initial one.  Averaging lengths (symbols):
    ``scale_symbols`` for the signal power behind the LLR scale and the Es/N0 estimate,
    ``noise_symbols`` for the noise (measured every ``noise_every`` symbols; by default
    NOISE_TIME_S of symbols, about NOISE_VALUES_PER_S values a second), ``stats_symbols``
    for the fast averages that detect a change of level (``change_sigmas`` standard
    deviations apart: the slow average restarts from the fast one).
    """

    def __init__(
        self,
        samp_rate: float,
        symbol_rate_baud: float,
        *,
        bandwidth: float = 1e-4,
        acq_bandwidth: float = 5e-3,
        warmup_symbols: int = 1024,
        stats_symbols: int = 4000,
        scale_symbols: int = 32768,
        noise_symbols: int | None = None,
        noise_every: int | None = None,
        change_sigmas: float = 5.0,
        monitor_symbols: int = 2000,
        hop_margin: float = 0.15,
        max_clock_ppm: float = 300.0,
    ):
        if not samp_rate > 0 or not symbol_rate_baud > 0:
            raise UserError("sample rate and symbol rate must be positive")
        sps = samp_rate / symbol_rate_baud
        if sps < 4:
            raise UserError(f"bi-phase-L needs at least 4 samples per symbol, got {sps:.2f} ({samp_rate:.0f}/{symbol_rate_baud:.0f})")
        self.samp_rate = float(samp_rate)
        self.symbol_rate_baud = float(symbol_rate_baud)
        self.bandwidth = float(bandwidth)
        self.acq_bandwidth = float(acq_bandwidth)
        self.warmup_symbols = int(warmup_symbols)
        if noise_every is None:  # about 80,000 noise values a second: every symbol at the low rate, 4th at the high
            noise_every = max(1, int(round(symbol_rate_baud / NOISE_VALUES_PER_S)))
        if noise_symbols is None:
            noise_symbols = max(int(round(NOISE_TIME_S * symbol_rate_baud)), 2 * stats_symbols)
        if not (0 < stats_symbols <= scale_symbols and 0 < noise_every and 2 * stats_symbols <= noise_symbols
                and change_sigmas > 0):
            raise UserError("averaging lengths must be positive, stats_symbols <= scale_symbols and "
                            "2 stats_symbols <= noise_symbols")
        ne = int(noise_every)
        self.noise_every = ne
        self.noise_symbols = int(noise_symbols)
        # fast, slow, noise slow, noise fast (per noise value; the fast one over 2 stats_symbols), cadence, threshold
        self._alphas = np.array([1.0 / stats_symbols, 1.0 / scale_symbols, ne / noise_symbols,
                                 ne / (2.0 * stats_symbols), float(ne), float(change_sigmas)])
        self._alpha_mon = 8.0 / monitor_symbols
        self.hop_margin = float(hop_margin)
        self.max_clock_ppm = float(max_clock_ppm)
        self._fst = np.zeros(_NF)
        self._ist = np.zeros(_NI, np.int64)
        self._fst[_T] = self._fst[_T0] = sps
        self._fst[_TAU] = sps / 8 + _W + 2.0  # first symbol start; the warm-up search finds the true boundary
        self._fst[_BLT] = self.acq_bandwidth
        self._ist[_STATE] = _WARMUP
        self._tail = np.zeros(0, np.float32)
        self._qtail = np.zeros(0, np.float32)
        self._empty = np.zeros(1, np.float32)
        self._use_q: bool | None = None
        self._cs = np.empty(0)  # work buffer of the kernel (its cumulative sum), kept: no fresh memory per chunk
        # the first symbol may start no earlier than the integration kernel allows
        self._tail_start = 0
        self.n_processed = 0
        self.n_nonfinite = 0  #: input samples with a NaN/inf component, replaced by 0

    @property
    def samples_per_symbol(self) -> float:
        """Current symbol length estimate (samples)."""
        return float(self._fst[_T])

    @property
    def symbol_rate_hz(self) -> float:
        """Current symbol-rate estimate (baud)."""
        return self.samp_rate / float(self._fst[_T])

    @property
    def clock_offset_ppm(self) -> float:
        """Symbol-rate offset from nominal (ppm)."""
        return (float(self._fst[_T0]) / float(self._fst[_T]) - 1.0) * 1e6

    @property
    def esn0_db(self) -> float:
        """Running Es/N0 estimate (dB)."""
        return float(10 * np.log10(max(self._fst[_RHO], 1e-6)))

    @property
    def noise_var(self) -> float:
        """Noise variance of the matched-filter output (its squared input units x samples), slow average."""
        f = self._fst
        return float(max(f[_ES2] - f[_ES] ** 2, 0.0))

    @property
    def amplitude(self) -> float:
        """Signal amplitude of the matched-filter output (input units x samples), slow average."""
        f = self._fst
        return float(math.sqrt(max(f[_EY2] - (f[_ES2] - f[_ES] ** 2), 0.0)))

    @property
    def level_restarts(self) -> int:
        """Times the slow signal or noise average restarted from the fast one (a change of level)."""
        return int(self._ist[_NRESET])

    @property
    def signal_present(self) -> bool:
        """Whether the timing loop is tracking a signal (False while searching or during a fade)."""
        return bool(self._ist[_STATE] == _TRACK)

    def _work(self, n: int) -> np.ndarray:
        """The kernel's work buffer, at least n values."""
        if self._cs.size < n:
            self._cs = np.empty(max(n, self._cs.size * 5 // 4))
        return self._cs

    def process(self, x: np.ndarray) -> Symbols:
        """Demodulate one chunk: complex (data in the imaginary part, noise reference in the real part) or real."""
        x = np.asarray(x)
        if x.ndim != 1:
            raise UserError(f"the bi-phase demodulator takes one stream (n,), got shape {x.shape}")
        cplx = np.iscomplexobj(x)
        if self._use_q is None:
            self._use_q = cplx
        elif self._use_q != cplx:
            raise UserError("the bi-phase demodulator got complex and real chunks mixed")
        nt = self._tail.size
        n = x.size
        # one pass: the kept tail, then the chunk split into its two arms, NaN/inf samples read as 0
        buf = np.empty(nt + n, np.float32)
        buf[:nt] = self._tail
        if cplx:
            qbuf = np.empty(nt + n, np.float32)
            qbuf[:nt] = self._qtail
            v = np.ascontiguousarray(x, dtype=np.complex64).view(np.float32)
            bad = int(_split_arms(v, buf[nt:], qbuf[nt:]))
        else:
            qbuf = self._empty
            bad = int(_copy_finite(np.ascontiguousarray(x, dtype=np.float32), buf[nt:]))
        self.n_nonfinite += bad
        buf0 = self._tail_start
        cap = int(buf.size / ((1 - self.max_clock_ppm * 1e-6) * self._fst[_T0])) + 4
        llr = np.empty(cap, np.float32)
        soft = np.empty(cap, np.float32)
        pos = np.empty(cap, np.float64)
        esn0 = np.empty(cap, np.float32)
        nout = _biphase_kernel(
            buf, qbuf, cplx, _TABLE, float(buf0), self._fst, self._ist, self.bandwidth, self.acq_bandwidth,
            max(16, self.warmup_symbols // 2), self._alphas, self._alpha_mon, self.hop_margin, self.max_clock_ppm * 1e-6,
            llr, soft, pos, esn0, self._work(buf.size + 1),
        )
        self.n_processed += n
        keep_from = int(math.floor(self._fst[_TAU] - self._fst[_T] / 4)) - _W - 2
        keep_from = max(keep_from, buf0)
        self._tail = buf[keep_from - buf0:].copy()
        if cplx:
            self._qtail = qbuf[keep_from - buf0:].copy()
        self._tail_start = keep_from
        return Symbols(llr[:nout], soft[:nout], pos[:nout], (10 * np.log10(esn0[:nout])).astype(np.float32))


    def time_reversed(self, stream_end: float) -> "BiphaseDemodulator":
        """A demodulator for this stream time-reversed from sample ``stream_end`` back, in this one's settled state.

        The reversed stream is ``w[k] = conj(x[stream_end - 1 - k])`` after a carrier loop run backwards (see
        :mod:`heradecode.dsp.demod`): the symbol period, the LLR scale, the Es/N0 and the loop bandwidth stay what
        they are; the symbol boundaries are this demodulator's grid mapped through ``k = stream_end - 1 - t`` (a
        forward symbol starting at ``s`` is the reversed symbol starting at ``stream_end - 1 - s - T``); the phase
        monitor's energy at phase ``+j T/8`` becomes the one at ``-j T/8``.  So it tracks from its first symbol on:
        no warm-up, no pull-in, no clock offset to learn.
        """
        rev = BiphaseDemodulator.__new__(BiphaseDemodulator)
        rev.__dict__.update(self.__dict__)
        rev._fst = self._fst.copy()
        rev._ist = self._ist.copy()
        f, T = rev._fst, float(self._fst[_T])
        f[_EMON:_EMON + 8] = self._fst[_EMON:_EMON + 8][(8 - np.arange(8)) % 8]
        # the newest forward boundary whose reversed symbol starts where the integration kernel has room
        first = float(stream_end) - 1.0 - float(self._fst[_TAU])  # reversed start of the symbol before _TAU
        margin = T / 4 + _W + 3.0
        if first < margin:
            first += math.ceil((margin - first) / T) * T
        f[_TAU] = first
        rev._ist[_NSYM] = 0
        rev._tail = np.zeros(0, np.float32)
        rev._qtail = np.zeros(0, np.float32)
        rev._cs = np.empty(0)
        rev._tail_start = 0
        rev.n_processed = 0
        rev.n_nonfinite = 0
        return rev


def demodulate_biphase(x: np.ndarray, samp_rate: float, symbol_rate_baud: float, **kwargs) -> Symbols:
    """One-shot :class:`BiphaseDemodulator` over a whole array (the last partial symbols are dropped)."""
    return BiphaseDemodulator(samp_rate, symbol_rate_baud, **kwargs).process(x)

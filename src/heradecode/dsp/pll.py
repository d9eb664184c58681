"""Residual-carrier phase-locked loop with lock detector, C/N0 estimate, carrier track and re-acquisition.

The loop works on blocks of about 0.1 ms: inside a block the NCO runs at a constant
frequency (phasor table, so the per-sample work is one complex multiply and an
accumulation); at each block end the phase detector

    e = Im(sum of the block's derotated samples) / (block length * carrier amplitude)

(radians, linear, independent of the signal level) drives a 2nd-order (damping 0.707)
or 3rd-order loop filter of noise bandwidth ``bandwidth_hz``.  The 3rd-order filter
``b w0 + a w0^2/s + w0^3/s^2`` uses a = b = 1 + sqrt(2), i.e. closed-loop poles at
``w0 {-1, (-1 +- j)/sqrt(2)}``, Bn = 0.903 w0: well damped, unlike the textbook
a = 1.1, b = 2.4 whose complex poles have a damping of only 0.21 (slow ringing).  A
3rd-order loop follows a frequency ramp (Doppler rate) with no steady phase error; the
2nd-order one lags by ``2 pi rate / w0^2`` rad.  With PM the data sits in the
quadrature arm; the Manchester spectrum has no power near the carrier, so the loop
filter averages it out.

Lock detector and C/N0 use coherent sums over ~2 ms intervals: I (carrier arm) and
Q (quadrature arm).  With exponential averages over ``lock_time``: lock metric =
(<I^2> - <Q^2>) / (<I^2> + <Q^2>) (near 1 when locked on a strong carrier, 0 for noise
or no lock; hysteresis 0.4 / 0.2) and C/N0 = fs (<I^2> - s^2) / (2 N s^2)
(residual-carrier power over noise density), where the noise s^2 = <(I_k - I_k-1)^2> / 2
comes from successive in-phase sums (the carrier cancels and, unlike Q, they hold no
data leaking from partial symbols).

When lock has been lost for ``hold_time`` the loop stops integrating noise and
coasts on the last locked frequency and rate; with ``reacquire`` it then runs an
FFT carrier search (:mod:`heradecode.dsp.acquisition`) on the most recent
``acq_time`` seconds every ``acq_interval`` seconds and restarts the loop on the
frequency found.  A loop created without a frequency starts this way.

Bursts and erasures.  As in the polarization combiner, a sample whose power exceeds
``blank_factor`` (default 30, i.e. 15 dB) times a reference power is blanked (set to 0 and
counted in ``n_blanked``); the reference is the block power averaged over 0.1 s with its
growth limited to a factor of 2 per block update, and all-zero blocks leave it alone.  A
blanked or erased (zero) stretch then gives no phase error: the loop coasts on its
frequency and rate, and lock-detector intervals without any input power are skipped, so
that neither lock nor the C/N0 and amplitude estimates suffer from the gap.  Samples with
a NaN/inf component are replaced by 0 and counted in ``n_nonfinite``.

Phase-corrected output: ``y = x * exp(-j * carrier phase)``, so the carrier lies on
the positive real axis and the PM data in the imaginary part.  The track (a
structured array, one row per ``track_interval``) gives the mean NCO frequency since
the previous row and the unwrapped NCO phase, relative to the input's 0 Hz: add the
phase removed upstream (Doppler NCO) to get the received carrier phase.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from numba import njit

from heradecode.dsp.acquisition import CarrierAcquisition, acquire_carrier
from heradecode.dsp.nco import BLANK_FACTOR, fill_phasor, zero_nonfinite
from heradecode.errors import UserError

__all__ = ["TRACK_DTYPE", "CarrierPll", "track_carrier", "carrier_phase_derotation", "ALIGN_S"]

ALIGN_S = 0.02  #: span (s) over which the carrier phase is measured to start a loop phase-aligned

#: carrier track rows: sample index (input samples), UNIX time (s), mean NCO frequency since the previous row (Hz),
#: unwrapped NCO phase (cycles), lock flag, carrier C/N0 (dB-Hz, NaN before an estimate), state (0 tracking, 1 coasting)
TRACK_DTYPE = np.dtype(
    [
        ("sample", "i8"),
        ("time", "f8"),
        ("freq_hz", "f8"),
        ("phase_cycles", "f8"),
        ("locked", "?"),
        ("cn0_dbhz", "f4"),
        ("state", "i1"),
    ]
)

# float state indices
(_PH, _PHI, _FREQ, _FINT, _RINT, _AMP, _BRE, _BIM, _LRE, _LIM, _EI2, _EQ2, _SNAPF, _SNAPR, _SNAPN, _LASTACQ, _CN0,
 _ROWPH, _ROWN, _ED, _IPREV, _BREF, _RB, _LP) = range(24)
_NF = 24
# int state indices
_NABS, _POS, _NBLK, _NLK, _LOCKED, _MODE, _ULSINCE, _KLK, _EVERLOCK, _NBL = range(10)
_NI = 10
_NO_LIMIT = 1e300  # blanking threshold before a reference power exists

_RET_DONE = 0
_RET_ACQUIRE = 1


@njit(cache=True, fastmath=True)
def _pll_kernel(
    x, y, start, fs, L, M, track_every, order, w0, ka, kb, alpha, lock_on, lock_off,
    hold, acq_every, reacq, blank, alpha_blank, fst, ist, ph_re, ph_im, track,
):  # pragma: no cover - numba
    """Run the loop over x[start:] (interleaved float32).  Returns (code, next index, track rows).

    Samples above ``blank`` times the reference power fst[_BREF] are treated as 0 (output 0 too).
    """
    n = x.shape[0] // 2
    T = L / fs
    Nl = float(L * M)
    i = start
    nrow = 0
    while i < n:
        pos = ist[_POS]
        m = min(L - pos, n - i)
        xs = x[2 * i:2 * (i + m)]
        ys = y[2 * i:2 * (i + m)]
        pr = ph_re[pos:pos + m]
        pim = ph_im[pos:pos + m]
        sre = 0.0
        sim = 0.0
        thr = blank * fst[_BREF] if fst[_BREF] > 0.0 else _NO_LIMIT
        raw = 0.0
        pw = 0.0
        nbl = 0
        for k in range(m):
            a = xs[2 * k]
            b = xs[2 * k + 1]
            pa = np.float64(a) * a + np.float64(b) * b  # float64: no overflow for any float32 sample
            raw += pa
            if pa > thr:
                a = np.float32(0.0)
                b = np.float32(0.0)
                nbl += 1
            else:
                pw += pa
            c = np.float32(pr[k])
            d = np.float32(pim[k])
            u = a * c - b * d
            v = a * d + b * c
            ys[2 * k] = u
            ys[2 * k + 1] = v
            sre += u
            sim += v
        fst[_BRE] += sre
        fst[_BIM] += sim
        fst[_RB] += raw
        fst[_LP] += pw
        ist[_NBL] += nbl
        i += m
        ist[_NABS] += m
        pos += m
        if pos < L:
            ist[_POS] = pos
            break
        # ---- block end ----
        ist[_POS] = 0
        # blanking reference: block power before blanking, growth limited to 2x per block, zero blocks skipped
        rb = fst[_RB] / L
        fst[_RB] = 0.0
        if rb > 0.0:
            ref = fst[_BREF]
            fst[_BREF] = rb if ref <= 0.0 else ref + alpha_blank * (min(rb, 2.0 * ref) - ref)
        bre = fst[_BRE]
        bim = fst[_BIM]
        fst[_BRE] = 0.0
        fst[_BIM] = 0.0
        fst[_LRE] += bre
        fst[_LIM] += bim
        adv = fst[_FREQ] * T  # cycles the NCO advanced over this block
        ph = fst[_PH] + adv
        fl = math.floor(ph)
        fst[_PH] = ph - fl
        fst[_PHI] += fl
        tracking = ist[_MODE] == 0
        if tracking:
            amp = fst[_AMP]
            e = 0.0
            if amp > 0.0:
                e = bim / (L * amp) / (2.0 * math.pi)  # cycles
                if e > 1.0:  # only guards against a wild amplitude estimate; data terms stay well inside
                    e = 1.0
                elif e < -1.0:
                    e = -1.0
            if order == 3:
                fst[_RINT] += w0 * w0 * w0 * e * T
                fst[_FINT] += (fst[_RINT] + ka * w0 * w0 * e) * T
                fst[_FREQ] = fst[_FINT] + kb * w0 * e
            else:
                fst[_FINT] += w0 * w0 * e * T
                fst[_FREQ] = fst[_FINT] + ka * w0 * e
        else:
            fst[_FINT] += fst[_RINT] * T
            fst[_FREQ] = fst[_FINT]
        fill_phasor(ph_re, ph_im, L, fst[_PH], fst[_FREQ] / fs)
        ist[_NBLK] += 1
        if ist[_NBLK] < M:
            continue
        # ---- lock-detector interval end ----
        ist[_NBLK] = 0
        I = fst[_LRE]
        Q = fst[_LIM]
        fst[_LRE] = 0.0
        fst[_LIM] = 0.0
        lp = fst[_LP]
        fst[_LP] = 0.0
        if lp > 0.0:  # an interval without any input power (erased or blanked) teaches nothing: skipped
            if fst[_AMP] <= 0.0:  # amplitude unknown (loop open so far): take it from this coherent sum
                fst[_AMP] = math.sqrt(I * I + Q * Q) / Nl
            ist[_KLK] += 1
            al = max(alpha, 1.0 / ist[_KLK])
            fst[_EI2] += al * (I * I - fst[_EI2])
            fst[_EQ2] += al * (Q * Q - fst[_EQ2])
            if ist[_KLK] > 1:  # noise from successive in-phase sums: the carrier cancels, no data there
                dI = I - fst[_IPREV]
                ad = max(alpha, 1.0 / (ist[_KLK] - 1))
                fst[_ED] += ad * (dI * dI - fst[_ED])
            fst[_IPREV] = I
            ei2 = fst[_EI2]
            eq2 = fst[_EQ2]
            nd = 0.5 * fst[_ED]  # noise power in one arm of an interval sum
            metric = (ei2 - eq2) / (ei2 + eq2) if ei2 + eq2 > 0.0 else 0.0
            warm = ist[_KLK] * alpha >= 0.5  # half a time constant of evidence before any decision
            if ist[_LOCKED] == 1:
                if metric < lock_off and warm:
                    ist[_LOCKED] = 0
                    ist[_ULSINCE] = ist[_NABS]
            elif metric > lock_on and warm and tracking:
                ist[_LOCKED] = 1
                ist[_EVERLOCK] = 1
            if ist[_KLK] > 2 and ei2 > nd and nd > 0.0:
                fst[_CN0] = fs * (ei2 - nd) / (2.0 * Nl * nd)
                if ist[_LOCKED] == 1:
                    fst[_AMP] = math.sqrt(ei2 - nd) / Nl
            else:
                fst[_CN0] = 0.0
        if ist[_LOCKED] == 1:
            fst[_SNAPF] = fst[_FINT]
            fst[_SNAPR] = fst[_RINT]
            fst[_SNAPN] = ist[_NABS]
            ist[_ULSINCE] = ist[_NABS]
        elif tracking and ist[_NABS] - ist[_ULSINCE] > hold:
            # lost (or never found) for too long: coast on the last good frequency and rate
            ist[_MODE] = 1
            dt = (ist[_NABS] - fst[_SNAPN]) / fs
            fst[_FINT] = fst[_SNAPF] + fst[_SNAPR] * dt
            fst[_RINT] = fst[_SNAPR]
            fst[_FREQ] = fst[_FINT]
            fill_phasor(ph_re, ph_im, L, fst[_PH], fst[_FREQ] / fs)
        ist[_NLK] += 1
        if ist[_NLK] >= track_every:
            ist[_NLK] = 0
            if nrow < track.shape[0]:
                phase = fst[_PHI] + fst[_PH]
                track[nrow, 0] = ist[_NABS]
                # mean frequency since the previous row (exactly consistent with the phase track)
                track[nrow, 1] = (phase - fst[_ROWPH]) * fs / (ist[_NABS] - fst[_ROWN]) if ist[_NABS] > fst[_ROWN] else fst[_FREQ]
                track[nrow, 2] = phase
                fst[_ROWPH] = phase
                fst[_ROWN] = ist[_NABS]
                track[nrow, 3] = ist[_LOCKED]
                track[nrow, 4] = fst[_CN0] if ist[_LOCKED] == 1 else -1.0
                track[nrow, 5] = ist[_MODE]
                nrow += 1
        if reacq and ist[_MODE] == 1 and ist[_NABS] - fst[_LASTACQ] >= acq_every:
            return _RET_ACQUIRE, i, nrow
    return _RET_DONE, i, nrow


class CarrierPll:
    """Residual-carrier PLL over a complex stream; ``process(chunk)`` returns phase-corrected complex64.

    ``freq_hz`` is the initial carrier frequency (Hz, from acquisition); ``None`` makes the
    loop acquire by itself once ``acq_time`` seconds of input have arrived.  ``rate_hz_s``
    seeds the 3rd-order loop's frequency rate (Hz/s).  ``amplitude`` is the carrier
    amplitude per sample (input units); if omitted the loop stays open for the first 2 ms
    and measures it.  ``start_unix_s`` is the UNIX time (s) of the first sample (track
    times).  ``lock_time`` (s) smooths the lock detector and C/N0; after ``hold_time`` (s)
    without lock the loop coasts, and with ``reacquire`` it searches ``acq_window_hz``
    around the coasting frequency every ``acq_interval`` s on the last ``acq_time`` s.
    Track rows accumulate until :meth:`pop_track`; call it regularly.  ``blank_factor``
    (None: off) sets the burst blanker (see the module notes).
    """

    def __init__(
        self,
        samp_rate: float,
        freq_hz: float | None = None,
        *,
        bandwidth_hz: float = 15.0,
        order: int = 3,
        rate_hz_s: float = 0.0,
        amplitude: float | None = None,
        start_unix_s: float = 0.0,
        track_interval: float = 0.01,
        lock_time: float = 0.1,
        hold_time: float = 0.5,
        reacquire: bool = True,
        acq_window_hz: float = 25e3,
        acq_time: float = 0.25,
        acq_interval: float = 0.5,
        acq_bin_hz: float = 20.0,
        pfa: float = 1e-6,
        blank_factor: float | None = BLANK_FACTOR,
    ):
        if order not in (2, 3):
            raise UserError(f"PLL order must be 2 or 3, got {order}")
        if blank_factor is not None and not blank_factor > 1:
            raise UserError(f"blank_factor must be > 1 (or None: no blanking), got {blank_factor}")
        if not samp_rate > 0:
            raise UserError(f"sample rate must be positive, got {samp_rate}")
        if not 0 < bandwidth_hz < samp_rate / 100:
            raise UserError(f"PLL bandwidth {bandwidth_hz} Hz is out of range for {samp_rate:.0f} samples/s")
        self.samp_rate = float(samp_rate)
        self.bandwidth_hz = float(bandwidth_hz)
        self.order = int(order)
        self.start_unix_s = float(start_unix_s)
        self._L = max(8, int(round(self.samp_rate * 1e-4)))
        self._M = max(1, int(round(2e-3 * self.samp_rate / self._L)))
        lock_int = self._L * self._M / self.samp_rate
        self._track_every = max(1, int(round(track_interval / lock_int)))
        self.track_interval = self._track_every * lock_int
        self._alpha = min(1.0, lock_int / lock_time)
        self.blank_factor = float(blank_factor) if blank_factor is not None else _NO_LIMIT
        self._alpha_blank = min(1.0, self._L / self.samp_rate / 0.1)  # blanking reference: 0.1 s average
        self.n_nonfinite = 0  #: input samples with a NaN/inf component, replaced by 0
        if order == 3:
            # closed-loop poles at w0 * {-1, (-1 +- 1j) / sqrt(2)}: (s + 1)(s^2 + 1.414 s + 1); Bn = 0.903 w0
            k = 1.0 + math.sqrt(2.0)
            self._w0, self._ka, self._kb = bandwidth_hz / 0.9030, k, k
        else:
            # zeta = 0.707: Bn = 0.530 w0
            self._w0, self._ka, self._kb = bandwidth_hz / 0.5303, math.sqrt(2.0), 0.0
        self._hold = int(round(hold_time * self.samp_rate))
        self._acq_every = int(round(acq_interval * self.samp_rate))
        self.reacquire = bool(reacquire)
        self.acq_window_hz = float(acq_window_hz)
        self.acq_bin_hz = float(acq_bin_hz)
        self.pfa = float(pfa)
        self._acq_len = max(int(round(acq_time * self.samp_rate)), int(2 * self.samp_rate / acq_bin_hz))
        self._ring = np.zeros(0, np.complex64)
        self._fst = np.zeros(_NF)
        self._ist = np.zeros(_NI, np.int64)
        self._ph_re = np.empty(self._L)
        self._ph_im = np.empty(self._L)
        self._tracks: list[np.ndarray] = []
        #: (sample, result) of the latest 32 carrier searches; ``n_acquisitions`` counts all of them
        self.acquisitions: deque[tuple[int, CarrierAcquisition]] = deque(maxlen=32)
        self.n_acquisitions = 0
        self._fst[_LASTACQ] = -1e18
        if freq_hz is None:
            self._ist[_MODE] = 1
            self._fill()
        else:
            self.reset(freq_hz, rate_hz_s, amplitude)

    # ---- state -------------------------------------------------------------------------
    def _fill(self) -> None:
        fill_phasor(self._ph_re, self._ph_im, self._L, self._fst[_PH], self._fst[_FREQ] / self.samp_rate)

    def reset(self, freq_hz: float, rate_hz_s: float = 0.0, amplitude: float | None = None) -> None:
        """Restart tracking at ``freq_hz`` (Hz) and ``rate_hz_s`` (Hz/s); the phase stays continuous.

        Between block boundaries (every ~0.1 ms) the new frequency takes effect at the next one.
        """
        f, ist = self._fst, self._ist
        f[_FINT] = f[_SNAPF] = float(freq_hz)
        f[_RINT] = f[_SNAPR] = float(rate_hz_s) if self.order == 3 else 0.0
        f[_SNAPN] = ist[_NABS]
        f[_EI2] = f[_EQ2] = f[_CN0] = f[_ED] = 0.0
        ist[_MODE] = 0
        ist[_LOCKED] = 0
        ist[_KLK] = 0
        ist[_ULSINCE] = ist[_NABS]
        # unknown amplitude: the kernel keeps the loop open for one lock interval and measures it
        f[_AMP] = 0.0 if amplitude is None else float(amplitude)
        if ist[_POS] == 0:
            f[_FREQ] = f[_FINT]
            self._fill()

    @property
    def freq_hz(self) -> float:
        """Current carrier frequency estimate (Hz): the loop's frequency integrator."""
        return float(self._fst[_FINT])

    @property
    def rate_hz_s(self) -> float:
        """Current frequency-rate estimate (Hz/s; 3rd order only)."""
        return float(self._fst[_RINT])

    @property
    def phase_cycles(self) -> float:
        """Unwrapped NCO phase (cycles) that the next input sample will be derotated by."""
        f, ist = self._fst, self._ist
        return float(f[_PHI] + f[_PH] + f[_FREQ] * ist[_POS] / self.samp_rate)

    @property
    def amplitude(self) -> float:
        """Carrier amplitude per sample (input units) the phase detector divides by; 0 while unknown."""
        return float(self._fst[_AMP])

    @property
    def locked(self) -> bool:
        """Lock-detector verdict."""
        return bool(self._ist[_LOCKED])

    @property
    def coasting(self) -> bool:
        """True while the loop is not tracking (lost lock, waiting for re-acquisition)."""
        return bool(self._ist[_MODE])

    @property
    def cn0_dbhz(self) -> float:
        """Latest carrier C/N0 estimate (dB-Hz), NaN if none."""
        c = self._fst[_CN0]
        return float(10 * np.log10(c)) if c > 0 else float("nan")

    @property
    def n_processed(self) -> int:
        """Samples processed so far."""
        return int(self._ist[_NABS])

    @property
    def n_blanked(self) -> int:
        """Samples blanked as bursts so far (above ``blank_factor`` times the reference power)."""
        return int(self._ist[_NBL])

    # ---- processing --------------------------------------------------------------------
    def _acquire(self, x: np.ndarray, upto: int) -> None:
        n_abs = int(self._ist[_NABS])
        self._fst[_LASTACQ] = n_abs
        need = self._acq_len
        have = x[:upto]
        if have.size < need:
            buf = np.concatenate((self._ring[max(0, self._ring.size - (need - have.size)):], have))
        else:
            buf = have[have.size - need:]
        if buf.size < int(2 * self.samp_rate / self.acq_bin_hz):
            self._fst[_LASTACQ] = n_abs - self._acq_every + (need - buf.size)  # retry once enough data
            return
        center = self._fst[_FINT]
        window = min(self.acq_window_hz, 0.45 * self.samp_rate - 60 * self.acq_bin_hz)
        res = acquire_carrier(buf, self.samp_rate, center_hz=center, window_hz=window,
                              bin_hz=self.acq_bin_hz, pfa=self.pfa)
        self.acquisitions.append((n_abs, res))
        self.n_acquisitions += 1
        if res.detected:
            rate = self._fst[_RINT]
            lag = (buf.size - res.center_sample) / self.samp_rate
            self.reset(res.freq_hz + rate * lag, rate, float(abs(res.channel_gain[0])))

    def process(self, x: np.ndarray) -> np.ndarray:
        """Track the carrier through one chunk ((n,) complex); returns the phase-corrected chunk (complex64)."""
        x = np.asarray(x)
        if x.ndim != 1:
            raise UserError(f"the PLL takes one complex stream (n,), got shape {x.shape}; combine polarizations first")
        x = np.ascontiguousarray(x, dtype=np.complex64)
        x, bad = zero_nonfinite(x)
        self.n_nonfinite += bad
        y = np.empty_like(x)
        xf = x.view(np.float32)
        yf = y.view(np.float32)
        rows_max = x.size // (self._L * self._M * self._track_every) + 2
        track = np.empty((rows_max, 6))
        pos = 0
        while True:
            code, pos2, nrow = _pll_kernel(
                xf, yf, pos, self.samp_rate, self._L, self._M, self._track_every, self.order,
                self._w0, self._ka, self._kb, self._alpha, 0.4, 0.2, self._hold, self._acq_every,
                self.reacquire, self.blank_factor, self._alpha_blank, self._fst, self._ist, self._ph_re, self._ph_im,
                track,
            )
            self._store_track(track[:nrow])
            pos = pos2
            if code == _RET_ACQUIRE:
                self._acquire(x, pos)
                continue
            break
        keep = self._acq_len
        if x.size >= keep:
            self._ring = x[x.size - keep:].copy()
        else:
            self._ring = np.concatenate((self._ring[max(0, self._ring.size - (keep - x.size)):], x))
        return y

    def _store_track(self, t: np.ndarray) -> None:
        if t.shape[0] == 0:
            return
        out = np.empty(t.shape[0], TRACK_DTYPE)
        out["sample"] = t[:, 0].astype(np.int64)
        out["time"] = self.start_unix_s + t[:, 0] / self.samp_rate
        out["freq_hz"] = t[:, 1]
        out["phase_cycles"] = t[:, 2]
        out["locked"] = t[:, 3] > 0
        cn0 = t[:, 4]
        with np.errstate(divide="ignore", invalid="ignore"):
            out["cn0_dbhz"] = np.where(cn0 > 0, 10 * np.log10(np.maximum(cn0, 1e-30)), np.nan)
        out["state"] = t[:, 5].astype(np.int8)
        self._tracks.append(out)

    def pop_track(self) -> np.ndarray:
        """Track rows produced since the last call (structured array, :data:`TRACK_DTYPE`)."""
        if not self._tracks:
            return np.zeros(0, TRACK_DTYPE)
        out = np.concatenate(self._tracks)
        self._tracks = []
        return out


def carrier_phase_derotation(z: np.ndarray, freq_hz: float, samp_rate: float, span_s: float = ALIGN_S) -> np.complex64:
    """Unit phasor that rotates the carrier at ``freq_hz`` onto the positive real axis at the first sample.

    The phase is the mean of ``z[n] exp(-j 2 pi f n / fs)`` over the first ``span_s`` (at least 16
    samples): bi-phase-L data has no power at the carrier, so this is the residual carrier's phase;
    multiplying the stream by the result starts a PLL phase-aligned (no pull-in).  1 when ``z`` is empty
    or the mean is 0.
    """
    n = min(np.shape(z)[-1], max(16, int(span_s * samp_rate)))
    if n == 0:
        return np.complex64(1.0)
    c = np.mean(np.asarray(z)[..., :n] * np.exp(-2j * np.pi * freq_hz * np.arange(n) / samp_rate))
    return np.complex64(np.conj(c) / abs(c)) if abs(c) > 0 else np.complex64(1.0)


def track_carrier(x: np.ndarray, samp_rate: float, freq_hz: float | None = None, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """One-shot :class:`CarrierPll` over a whole array: returns (phase-corrected samples, track)."""
    pll = CarrierPll(samp_rate, freq_hz, **kwargs)
    y = pll.process(x)
    return y, pll.pop_track()

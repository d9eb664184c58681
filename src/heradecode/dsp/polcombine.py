"""Polarization combining: maximal-ratio weights for X and Y estimated on the residual carrier.

Both channels carry the same signal with complex gains g_x, g_y plus independent
noise of powers s_x^2, s_y^2.  The combiner isolates the carrier in each channel
(derotation by the carrier frequency, 1 ms coherent sums c_x, c_y) and keeps
exponential averages (``time_constant``) of

    c_x conj(c_y)  -> relative phase arg(g_x) - arg(g_y) (the common carrier phase cancels),
    |c_x|^2, |c_y|^2 and the wideband powers -> carrier amplitudes |g| (noise subtracted).

The noise power is the wideband power less the signal power (carrier power times the
total/carrier power ratio, measured as |<X Y*>| / |<c_x c_y*>| when both channels
carry the carrier).  The weights ``w = conj(g) / s^2`` (maximal ratio) are normalised
so that the combined noise has unit power per sample; a channel carrying only noise
gets a weight near 0.  The phase reference slides smoothly towards the stronger
channel, so the combined carrier phase does not jump when one channel fades.  A fast
(0.1 s), weight-independent test of carrier power in either channel freezes the
averages and holds the weights during fades and before any signal.  A slow
frequency-locked loop on the combined 1 ms carrier samples follows the carrier
frequency (ramps of tens of Hz/s); the caller may also set it, e.g. from the PLL.

The carrier frequency only needs to be known to within ~±100 Hz (the 1 ms sums
decorrelate beyond), so a frequency from acquisition or from the PLL is ample.

Bursts and erasures.  A sample whose power exceeds ``BLANK_FACTOR`` (30, i.e. 15 dB)
times its channel's reference power is blanked (set to 0, counted in ``n_blanked``): for
Gaussian noise that happens with probability e^-30, a constant-envelope signal never
reaches it, but a
burst of full-scale samples (ADC overload, RFI, a corrupted stretch of a file) no longer
pulls the gain, phase and noise averages for a time constant after it.  The reference is
an average of each channel's block power over 0.1 s whose growth is limited to a factor
of 2 per block update (so a burst raises it by at most e-fold per 0.1 s, while a genuine
step up in level is followed within a few tenths of a second).  A channel's sample that
is blanked or exactly 0 (an erasure, e.g. NaN replaced upstream) is missing: the other
channel's term is then scaled by ``1/sqrt(its share of the output noise)`` (the shares are
``g_x / (g_x + g_y)`` and ``g_y / (g_x + g_y)`` with the per-channel carrier SNRs g), so
the output noise stays at unit power and its carrier phase does not move (both weighted
terms carry the same phase by construction); the combined SNR falls to that one channel's,
as it must.  A 1 ms block in which a channel has no sample leaves that channel's averages
(and the cross terms) untouched, so the weights are held across a dropout.  Samples with a
NaN/inf component are replaced by 0 and counted in ``n_nonfinite``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from heradecode.dsp.nco import BLANK_FACTOR, fill_phasor, zero_nonfinite
from heradecode.errors import UserError

__all__ = ["WEIGHT_DTYPE", "PolCombiner", "combine_polarizations"]

#: combiner track rows: sample index, weights (complex, X and Y), combined carrier C/N0 (dB-Hz), carrier frequency (Hz), held flag
WEIGHT_DTYPE = np.dtype(
    [("sample", "i8"), ("weight", "c8", (2,)), ("cn0_dbhz", "f4"), ("freq_hz", "f8"), ("held", "?")]
)

# float state
(_PH, _FC, _FCB, _WXR, _WXI, _WYR, _WYI, _P0, _P1, _C0R, _C0I, _C1R, _C1I,
 _RR, _RI, _PXX, _PYY, _NX, _NY, _ALPHA, _PREVR, _PREVI, _FLR, _FLI, _SNR,
 _X01R, _X01I, _WRR, _WRI, _KTOT, _F0, _F1, _FW0, _FW1, _SNRF, _BR0, _BR1, _R0, _R1, _RXS) = range(40)
_NF = 40
# int state
_NABS, _POS, _KEMA, _NFLL, _NTRK, _HELD, _KF, _NBL, _M0, _M1 = range(10)
_NI = 10
_NO_LIMIT = 1e300  # blanking threshold while a channel has no reference power yet


@njit(cache=True, fastmath=True)
def _update_weights(fst, ist, L2, hold_snr):  # pragma: no cover - numba
    """Recompute the weights from the averages; returns the combined carrier SNR per L2 block."""
    px = max(fst[_NX], 1e-30)  # wideband power: noise plus signal
    py = max(fst[_NY], 1e-30)
    ax2 = max(fst[_PXX] - L2 * px, 0.0)  # carrier power in 1 ms sums (noise subtracted)
    ay2 = max(fst[_PYY] - L2 * py, 0.0)
    # noise = wideband power minus signal power (carrier power times total/carrier ratio K)
    k = fst[_KTOT]
    sx2 = max(px - k * ax2 / (L2 * L2), 0.05 * px)
    sy2 = max(py - k * ay2 / (L2 * L2), 0.05 * py)
    gx = ax2 / sx2  # proportional to per-channel carrier SNR
    gy = ay2 / sy2
    snr = (gx + gy) / L2
    fst[_SNR] = snr
    if snr < hold_snr:
        ist[_HELD] = 1
        return snr
    ist[_HELD] = 0
    a_new = math.atan2(fst[_RI], fst[_RR])
    d = a_new - fst[_ALPHA]
    d -= 2.0 * math.pi * math.floor(d / (2.0 * math.pi) + 0.5)
    fst[_ALPHA] += d
    alpha = fst[_ALPHA]
    G = gx + gy
    if not G > 0.0:  # cannot happen with snr >= hold_snr > 0; guards the divisions below
        ist[_HELD] = 1
        return snr
    rx = gx / G
    ry = gy / G
    fst[_RXS] = rx  # X's share of the combined noise power (Y's is 1 - rx)
    mx = math.sqrt(ax2) / sx2 / math.sqrt(G)
    my = math.sqrt(ay2) / sy2 / math.sqrt(G)
    fst[_WXR] = mx * math.cos(-alpha * ry)
    fst[_WXI] = mx * math.sin(-alpha * ry)
    fst[_WYR] = my * math.cos(alpha * rx)
    fst[_WYI] = my * math.sin(alpha * rx)
    return snr


@njit(cache=True, fastmath=True)
def _combine_kernel(x0, x1, z, fs, L2, alpha, alpha_fast, hold_snr, fll_every, fll_gain, track_fll, track_every,
                    blank, fst, ist, ph_re, ph_im, track):  # pragma: no cover - numba
    """Combine x0, x1 (interleaved float32) into z; returns the number of track rows written.

    Works in 1 ms blocks of L2 samples (block position carried in ist[_POS]); the carrier
    phasor table of the current block lives in ph_re/ph_im.  Samples above ``blank`` times
    their channel's reference power are treated as 0.
    """
    n = z.shape[0] // 2
    T2 = L2 / fs
    nrow = 0
    i = 0
    while i < n:
        pos = ist[_POS]
        m = min(L2 - pos, n - i)
        thr0 = blank * fst[_BR0] if fst[_BR0] > 0.0 else _NO_LIMIT
        thr1 = blank * fst[_BR1] if fst[_BR1] > 0.0 else _NO_LIMIT
        r0 = 0.0
        r1 = 0.0
        nbl = 0
        m0 = 0
        m1 = 0
        wxr = np.float32(fst[_WXR])
        wxi = np.float32(fst[_WXI])
        wyr = np.float32(fst[_WYR])
        wyi = np.float32(fst[_WYI])
        # one channel missing (blanked or zero): the other one's weight scaled to keep unit output noise
        sx = np.float32(1.0 / math.sqrt(min(max(fst[_RXS], 1e-3), 1.0)))
        sy = np.float32(1.0 / math.sqrt(min(max(1.0 - fst[_RXS], 1e-3), 1.0)))
        a0 = x0[2 * i:2 * (i + m)]
        a1 = x1[2 * i:2 * (i + m)]
        zz = z[2 * i:2 * (i + m)]
        pr = ph_re[pos:pos + m]
        pim = ph_im[pos:pos + m]
        c0r = 0.0
        c0i = 0.0
        c1r = 0.0
        c1i = 0.0
        p0 = 0.0
        p1 = 0.0
        xr = 0.0
        xi = 0.0
        for k in range(m):
            ar = a0[2 * k]
            ai = a0[2 * k + 1]
            br = a1[2 * k]
            bi = a1[2 * k + 1]
            pa = np.float64(ar) * ar + np.float64(ai) * ai  # float64: no overflow for any float32 sample
            pb = np.float64(br) * br + np.float64(bi) * bi
            r0 += pa
            r1 += pb
            gone0 = pa > thr0 or pa == 0.0
            gone1 = pb > thr1 or pb == 0.0
            if gone0:
                if pa > 0.0:
                    nbl += 1
                ar = np.float32(0.0)
                ai = np.float32(0.0)
                pa = 0.0
                m0 += 1
            if gone1:
                if pb > 0.0:
                    nbl += 1
                br = np.float32(0.0)
                bi = np.float32(0.0)
                pb = 0.0
                m1 += 1
            ur = wxr * ar - wxi * ai
            ui = wxr * ai + wxi * ar
            vr = wyr * br - wyi * bi
            vi = wyr * bi + wyi * br
            if gone1 and not gone0:
                ur *= sx
                ui *= sx
            elif gone0 and not gone1:
                vr *= sy
                vi *= sy
            zz[2 * k] = ur + vr
            zz[2 * k + 1] = ui + vi
            cr = pr[k]
            ci = pim[k]
            c0r += ar * cr - ai * ci
            c0i += ar * ci + ai * cr
            c1r += br * cr - bi * ci
            c1i += br * ci + bi * cr
            p0 += pa
            p1 += pb
            xr += ar * br + ai * bi
            xi += ai * br - ar * bi
        fst[_X01R] += xr
        fst[_X01I] += xi
        fst[_C0R] += c0r
        fst[_C0I] += c0i
        fst[_C1R] += c1r
        fst[_C1I] += c1i
        fst[_P0] += p0
        fst[_P1] += p1
        fst[_R0] += r0
        fst[_R1] += r1
        ist[_NBL] += nbl
        ist[_M0] += m0
        ist[_M1] += m1
        i += m
        ist[_NABS] += m
        pos += m
        if pos < L2:
            ist[_POS] = pos
            break
        ist[_POS] = 0
        # 1 ms narrowband carrier samples
        ph = fst[_PH] + fst[_FCB] * L2 / fs
        fst[_PH] = ph - math.floor(ph)
        c0r = fst[_C0R]
        c0i = fst[_C0I]
        c1r = fst[_C1R]
        c1i = fst[_C1I]
        nx = fst[_P0] / L2
        ny = fst[_P1] / L2
        wxr = fst[_X01R] / L2
        wxi = fst[_X01I] / L2
        fst[_C0R] = 0.0
        fst[_C0I] = 0.0
        fst[_C1R] = 0.0
        fst[_C1I] = 0.0
        fst[_P0] = 0.0
        fst[_P1] = 0.0
        fst[_X01R] = 0.0
        fst[_X01I] = 0.0
        # blanking references: block power before blanking, growth limited to 2x per block, zero blocks skipped
        for c in range(2):
            rb = fst[_R0 + c] / L2
            fst[_R0 + c] = 0.0
            if rb > 0.0:
                ref = fst[_BR0 + c]
                fst[_BR0 + c] = rb if ref <= 0.0 else ref + alpha_fast * (min(rb, 2.0 * ref) - ref)
        # a channel whose every sample in the block was blanked or zero teaches nothing: its averages are kept
        e0 = ist[_M0] >= L2 or nx == 0.0
        e1 = ist[_M1] >= L2 or ny == 0.0
        ist[_M0] = 0
        ist[_M1] = 0
        if e0 and e1:
            # no data in this block (erased, or blanked on both channels): nothing to learn, weights held
            snr = fst[_SNR]
            fst[_PREVR] = 0.0
            fst[_PREVI] = 0.0
        else:
            # fast, weight-independent presence test: is there carrier power in either channel?
            p0c = c0r * c0r + c0i * c0i
            p1c = c1r * c1r + c1i * c1i
            ist[_KF] += 1
            af = max(alpha_fast, 1.0 / ist[_KF])
            if not e0:
                fst[_F0] += af * (p0c - fst[_F0])
                fst[_FW0] += af * (nx - fst[_FW0])
            if not e1:
                fst[_F1] += af * (p1c - fst[_F1])
                fst[_FW1] += af * (ny - fst[_FW1])
            snrf = max(fst[_F0] - L2 * fst[_FW0], 0.0) / (L2 * L2 * max(fst[_FW0], 1e-30)) * L2
            snrf += max(fst[_F1] - L2 * fst[_FW1], 0.0) / (L2 * L2 * max(fst[_FW1], 1e-30)) * L2
            fst[_SNRF] = snrf
            if snrf >= hold_snr or ist[_KEMA] == 0:
                ist[_KEMA] += 1
                al = max(alpha, 1.0 / ist[_KEMA])
                if not e0:
                    fst[_PXX] += al * (p0c - fst[_PXX])
                    fst[_NX] += al * (nx - fst[_NX])
                if not e1:
                    fst[_PYY] += al * (p1c - fst[_PYY])
                    fst[_NY] += al * (ny - fst[_NY])
                if not (e0 or e1):
                    fst[_RR] += al * ((c0r * c1r + c0i * c1i) - fst[_RR])
                    fst[_RI] += al * ((c0i * c1r - c0r * c1i) - fst[_RI])
                    fst[_WRR] += al * (wxr - fst[_WRR])
                    fst[_WRI] += al * (wxi - fst[_WRI])
                # total/carrier power ratio K = |<X Y*>| / (|<c_x c_y*>| / L2^2), once the cross terms are solid
                rn = math.sqrt(fst[_RR] * fst[_RR] + fst[_RI] * fst[_RI]) / (L2 * L2)
                rw = math.sqrt(fst[_WRR] * fst[_WRR] + fst[_WRI] * fst[_WRI])
                nn = math.sqrt(fst[_NX] * fst[_NY])
                meff = min(float(ist[_KEMA]), 2.0 / alpha)
                # both cross-correlations at least 5 standard deviations above their noise
                if rn * L2 * math.sqrt(meff) > 5.0 * nn and rw * math.sqrt(meff * L2) > 5.0 * nn:
                    fst[_KTOT] = min(max(rw / rn, 1.0), 30.0)
            # combined narrowband carrier with the weights in use: frequency discriminator
            ccr = fst[_WXR] * c0r - fst[_WXI] * c0i + fst[_WYR] * c1r - fst[_WYI] * c1i
            cci = fst[_WXR] * c0i + fst[_WXI] * c0r + fst[_WYR] * c1i + fst[_WYI] * c1r
            fst[_FLR] += ccr * fst[_PREVR] + cci * fst[_PREVI]
            fst[_FLI] += cci * fst[_PREVR] - ccr * fst[_PREVI]
            fst[_PREVR] = ccr
            fst[_PREVI] = cci
            snr = _update_weights(fst, ist, L2, hold_snr) if snrf >= hold_snr else fst[_SNR]
            ist[_HELD] = 0 if snrf >= hold_snr and ist[_HELD] == 0 else 1
            ist[_NFLL] += 1
            if ist[_NFLL] >= fll_every:
                ist[_NFLL] = 0
                if track_fll and ist[_HELD] == 0 and ist[_KEMA] > fll_every:
                    ferr = math.atan2(fst[_FLI], fst[_FLR]) / (2.0 * math.pi * T2)
                    fst[_FC] += fll_gain * ferr
                fst[_FLR] = 0.0
                fst[_FLI] = 0.0
        fst[_FCB] = fst[_FC]  # frequency used for the next block's phasors
        fill_phasor(ph_re, ph_im, L2, fst[_PH], fst[_FCB] / fs)
        ist[_NTRK] += 1
        if ist[_NTRK] >= track_every:
            ist[_NTRK] = 0
            if nrow < track.shape[0]:
                track[nrow, 0] = ist[_NABS]
                track[nrow, 1] = fst[_WXR]
                track[nrow, 2] = fst[_WXI]
                track[nrow, 3] = fst[_WYR]
                track[nrow, 4] = fst[_WYI]
                track[nrow, 5] = snr / T2
                track[nrow, 6] = fst[_FC]
                track[nrow, 7] = 1 if e0 and e1 else ist[_HELD]
                nrow += 1
    return nrow


class PolCombiner:
    """Maximal-ratio combiner for two polarizations; ``process((2, n) chunk)`` returns the combined (n,) complex64.

    ``carrier_hz`` is the carrier frequency in the input (Hz, to ~±100 Hz); ``time_constant``
    (s) the averaging time of the gain estimates.  ``prior`` (a
    :class:`~heradecode.dsp.acquisition.CarrierAcquisition` on both channels) seeds the
    estimates so the first samples are already combined well.  Output noise power is 1
    per sample once the weights are estimated.  ``blank_factor`` (None: off) sets the burst
    blanker (see the module notes).
    """

    def __init__(
        self,
        samp_rate: float,
        carrier_hz: float = 0.0,
        *,
        time_constant: float = 1.0,
        track_freq: bool = True,
        hold_cn0_dbhz: float = 25.0,
        track_interval: float = 0.01,
        prior=None,
        blank_factor: float | None = BLANK_FACTOR,
    ):
        if not samp_rate > 0:
            raise UserError(f"sample rate must be positive, got {samp_rate}")
        if blank_factor is not None and not blank_factor > 1:
            raise UserError(f"blank_factor must be > 1 (or None: no blanking), got {blank_factor}")
        if not time_constant > 0:
            raise UserError(f"time constant must be positive, got {time_constant}")
        self.samp_rate = float(samp_rate)
        self._L2 = max(1, int(round(1e-3 * self.samp_rate)))
        self._T2 = self._L2 / self.samp_rate
        self._alpha = min(1.0, self._T2 / time_constant)
        self._alpha_fast = min(1.0, self._T2 / 0.1)
        self._hold_snr = 10 ** (hold_cn0_dbhz / 10) * self._T2
        self._fll_every = max(1, int(round(0.02 / self._T2)))
        self._fll_gain = 0.2
        self.track_freq = bool(track_freq)
        self._track_every = max(1, int(round(track_interval / self._T2)))
        self._fst = np.zeros(_NF)
        self._ist = np.zeros(_NI, np.int64)
        self._fst[_FC] = self._fst[_FCB] = float(carrier_hz)
        self._fst[_KTOT] = 1.0  # until measured: subtract the carrier power only
        self._fst[_RXS] = 0.5  # X's share of the output noise until the weights are estimated
        self._ist[_HELD] = 1
        self._ph_re = np.empty(self._L2)
        self._ph_im = np.empty(self._L2)
        self._init_weights = prior is None
        self._tracks: list[np.ndarray] = []
        self.blank_factor = float(blank_factor) if blank_factor is not None else _NO_LIMIT
        self.n_nonfinite = 0  #: input samples (per channel) with a NaN/inf component, replaced by 0
        if prior is not None:
            self._seed(prior)
        self._fill()

    def _fill(self) -> None:
        fill_phasor(self._ph_re, self._ph_im, self._L2, self._fst[_PH], self._fst[_FCB] / self.samp_rate)

    def _seed(self, acq) -> None:
        g = np.asarray(acq.channel_gain)
        nz = np.asarray(acq.noise_power, dtype=float)
        if g.size != 2:
            raise UserError("the polarization combiner needs an acquisition made on both channels")
        L2 = self._L2
        f = self._fst
        r = L2 * L2 * g[0] * np.conj(g[1])
        f[_RR], f[_RI] = r.real, r.imag
        f[_PXX] = L2 * L2 * abs(g[0]) ** 2 + L2 * nz[0]
        f[_PYY] = L2 * L2 * abs(g[1]) ** 2 + L2 * nz[1]
        f[_NX], f[_NY] = nz[0], nz[1]
        f[_F0], f[_F1], f[_FW0], f[_FW1] = f[_PXX], f[_PYY], nz[0], nz[1]
        # blanking references: noise plus carrier power per sample (the data sidebands add less than 10 dB)
        f[_BR0], f[_BR1] = nz[0] + abs(g[0]) ** 2, nz[1] + abs(g[1]) ** 2
        self._ist[_KF] = 1
        f[_FC] = f[_FCB] = acq.freq_hz
        self._ist[_KEMA] = max(1, int(acq.n_spectra * acq.bin_hz ** -1 / self._T2))
        _update_weights(f, self._ist, float(L2), self._hold_snr)
        if self._ist[_HELD]:
            self._init_weights = True

    def set_carrier_hz(self, freq_hz: float) -> None:
        """Set the carrier frequency (Hz) used to isolate the carrier, e.g. from the PLL (effective from the next 1 ms block)."""
        self._fst[_FC] = float(freq_hz)
        if self._ist[_POS] == 0:
            self._fst[_FCB] = self._fst[_FC]
            self._fill()

    @property
    def carrier_hz(self) -> float:
        """Carrier frequency in use (Hz)."""
        return float(self._fst[_FC])

    @property
    def weights(self) -> np.ndarray:
        """Current complex weights (X, Y)."""
        f = self._fst
        return np.array([complex(f[_WXR], f[_WXI]), complex(f[_WYR], f[_WYI])])

    @property
    def cn0_dbhz(self) -> float:
        """Combined carrier C/N0 estimate (dB-Hz)."""
        s = self._fst[_SNR] / self._T2
        return float(10 * np.log10(s)) if s > 0 else float("nan")

    @property
    def n_blanked(self) -> int:
        """Samples (per channel) blanked as bursts so far (above BLANK_FACTOR times the channel's reference power)."""
        return int(self._ist[_NBL])

    @property
    def held(self) -> bool:
        """True while the weights are held (carrier too weak to estimate them)."""
        return bool(self._ist[_HELD])

    def process(self, x: np.ndarray) -> np.ndarray:
        """Combine one chunk shaped (2, n); returns (n,) complex64."""
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[0] != 2:
            raise UserError(f"the polarization combiner needs two channels shaped (2, n), got {x.shape}")
        x = np.ascontiguousarray(x, dtype=np.complex64)
        x, bad = zero_nonfinite(x)
        self.n_nonfinite += bad
        n = x.shape[1]
        if self._init_weights and n:
            p = np.mean(np.abs(x[:, : min(n, 4096)]) ** 2, axis=1)
            p = np.maximum(p, 1e-30)
            self._fst[_WXR] = 1 / np.sqrt(2 * p[0])
            self._fst[_WYR] = 1 / np.sqrt(2 * p[1])
            self._fst[_WXI] = self._fst[_WYI] = 0.0
            self._init_weights = False
        z = np.empty(n, np.complex64)
        rows = n // (self._L2 * self._track_every) + 2
        track = np.empty((rows, 8))
        nrow = _combine_kernel(
            x[0].view(np.float32), x[1].view(np.float32), z.view(np.float32), self.samp_rate, self._L2,
            self._alpha, self._alpha_fast, self._hold_snr, self._fll_every, self._fll_gain, self.track_freq, self._track_every,
            self.blank_factor, self._fst, self._ist, self._ph_re, self._ph_im, track,
        )
        if nrow:
            t = track[:nrow]
            out = np.empty(nrow, WEIGHT_DTYPE)
            out["sample"] = t[:, 0].astype(np.int64)
            out["weight"][:, 0] = t[:, 1] + 1j * t[:, 2]
            out["weight"][:, 1] = t[:, 3] + 1j * t[:, 4]
            with np.errstate(divide="ignore"):
                out["cn0_dbhz"] = np.where(t[:, 5] > 0, 10 * np.log10(np.maximum(t[:, 5], 1e-30)), np.nan)
            out["freq_hz"] = t[:, 6]
            out["held"] = t[:, 7] > 0
            self._tracks.append(out)
        return z

    def pop_track(self) -> np.ndarray:
        """Weight track rows since the last call (structured array, :data:`WEIGHT_DTYPE`)."""
        if not self._tracks:
            return np.zeros(0, WEIGHT_DTYPE)
        out = np.concatenate(self._tracks)
        self._tracks = []
        return out


def combine_polarizations(x: np.ndarray, samp_rate: float, carrier_hz: float = 0.0, **kwargs) -> np.ndarray:
    """One-shot :class:`PolCombiner` over a whole (2, n) array; returns (n,) complex64."""
    return PolCombiner(samp_rate, carrier_hz, **kwargs).process(x)

"""Residual-carrier acquisition: FFT search for a spectral line within a window around the expected frequency.

Power spectra (Hann window, non-overlapping segments) are averaged over time and,
for several channels (X and Y polarizations, whose relative phase is unknown before
combining), summed after each channel is normalised by its own noise floor.  The
noise floor is estimated locally (cell-averaging CFAR: mean of neighbouring bins
on either side, guard bins excluded), which also copes with the sloping data
spectrum near the carrier.  The detection threshold follows from the exact
distribution of the averaged, normalised bin power under noise alone (an F
distribution), for a false-alarm probability over all bins searched.

The Manchester data spectrum has no power at the carrier, so the carrier stands
out as a line; the frequency is refined by parabolic interpolation of the log
power of the peak bin and its neighbours (Hann window: error below ~2 % of a bin).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.fft
from scipy import stats

from heradecode.errors import UserError

__all__ = ["CarrierAcquisition", "CarrierAcquirer", "acquire_carrier"]

_GUARD = 3  # bins either side of the cell excluded from its noise estimate
_REF = 48  # reference bins on each side for the noise estimate
_PEAK_HALF = 2  # bins either side of the peak summed for the carrier power (Hann: >99.9 %)


@dataclass(frozen=True)
class CarrierAcquisition:
    """Result of a carrier search."""

    detected: bool  #: peak above the threshold
    freq_hz: float  #: carrier frequency (Hz, relative to the input's 0 Hz), mean over the analysed span
    cn0_dbhz: float  #: carrier power to noise density, maximal-ratio sum over channels (dB-Hz)
    snr_db: float  #: detection statistic: peak normalised bin power (dB over the noise floor)
    threshold_db: float  #: detection threshold on the same scale (dB)
    bin_hz: float  #: FFT bin width (Hz)
    n_spectra: int  #: spectra averaged per channel
    center_sample: float  #: sample index (from the first sample fed) of the middle of the analysed span
    channel_cn0_dbhz: np.ndarray = field(repr=False)  #: per channel (dB-Hz)
    channel_gain: np.ndarray = field(repr=False)  #: complex carrier amplitude per channel (sqrt of power per sample, phase relative to channel 0)
    noise_power: np.ndarray = field(repr=False)  #: noise power per sample per channel (input units squared)
    freqs_hz: np.ndarray = field(repr=False)  #: bin frequencies of the searched window (Hz)
    spectrum: np.ndarray = field(repr=False)  #: normalised summed power per bin of the window (noise = n_channels)


class CarrierAcquirer:
    """Accumulate power spectra chunk by chunk; :meth:`result` searches the window.

    ``x`` given to :meth:`feed` is ``(n,)`` or ``(n_channels, n)`` complex at ``samp_rate``.
    ``bin_hz`` sets the FFT length (rounded to a fast size); ``exclude_hz`` lists
    ``(low, high)`` frequency ranges never to report (e.g. a receiver DC spur).
    """

    def __init__(
        self,
        samp_rate: float,
        *,
        center_hz: float = 0.0,
        window_hz: float = 25e3,
        bin_hz: float = 20.0,
        pfa: float = 1e-6,
        exclude_hz: list[tuple[float, float]] | tuple = (),
    ):
        if not samp_rate > 0:
            raise UserError(f"sample rate must be positive, got {samp_rate}")
        if not 0 < window_hz:
            raise UserError(f"acquisition window must be positive, got {window_hz} Hz")
        if not 0 < pfa < 1:
            raise UserError(f"false-alarm probability must be in (0, 1), got {pfa}")
        self.samp_rate = float(samp_rate)
        self.center_hz = float(center_hz)
        self.window_hz = float(window_hz)
        self.pfa = float(pfa)
        self.exclude_hz = list(exclude_hz)
        n = scipy.fft.next_fast_len(int(round(self.samp_rate / bin_hz)))
        self.fft_size = n
        self.bin_hz = self.samp_rate / n
        if 2 * self.window_hz + 2 * (_REF + _GUARD + 2) * self.bin_hz > self.samp_rate:
            raise UserError(
                f"acquisition window ±{self.window_hz:.0f} Hz does not fit the sample rate {self.samp_rate:.0f} samples/s"
            )
        self._win = np.hanning(n + 2)[1:-1].astype(np.float32)  # periodic-ish, no zero end points
        # bins of the window plus the reference margin, as indices into the fft output
        k_lo = int(np.floor((self.center_hz - self.window_hz) / self.bin_hz)) - _REF - _GUARD - 2
        k_hi = int(np.ceil((self.center_hz + self.window_hz) / self.bin_hz)) + _REF + _GUARD + 2
        self._k = np.arange(k_lo, k_hi + 1)
        self._idx = np.mod(self._k, n)
        self.reset()

    def reset(self) -> None:
        """Drop all accumulated spectra."""
        self._pending: np.ndarray | None = None
        self._psum: np.ndarray | None = None  # (nch, nbins) summed |X|^2
        self._xsum: np.ndarray | None = None  # (nch, nbins) summed X * conj(X_channel0)
        self._nseg = 0
        self._nch: int | None = None

    @property
    def n_spectra(self) -> int:
        """Spectra accumulated so far (per channel)."""
        return self._nseg

    def feed(self, x: np.ndarray) -> "CarrierAcquirer":
        """Add samples; every complete FFT segment is transformed and accumulated."""
        x = np.asarray(x)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or not np.iscomplexobj(x):
            raise UserError(f"acquisition expects complex samples shaped (n,) or (channels, n), got {x.dtype} {x.shape}")
        if self._nch is None:
            self._nch = x.shape[0]
        elif x.shape[0] != self._nch:
            raise UserError(f"channel count changed from {self._nch} to {x.shape[0]}")
        if self._pending is not None and self._pending.shape[1]:
            x = np.concatenate((self._pending, x.astype(np.complex64, copy=False)), axis=1)
        n = self.fft_size
        nseg = x.shape[1] // n
        if nseg:
            seg = x[:, : nseg * n].reshape(self._nch, nseg, n).astype(np.complex64, copy=False)
            spec = scipy.fft.fft(seg * self._win, axis=-1, workers=1)[:, :, self._idx]  # (nch, nseg, nbins)
            p = (spec.real**2 + spec.imag**2).sum(axis=1)
            xs = (spec * np.conj(spec[0])).sum(axis=1)
            if self._psum is None:
                self._psum = p.astype(np.float64)
                self._xsum = xs.astype(np.complex128)
            else:
                self._psum += p
                self._xsum += xs
            self._nseg += nseg
        self._pending = np.array(x[:, nseg * n:], dtype=np.complex64)
        return self

    def result(self) -> CarrierAcquisition:
        """Search the window in the spectra accumulated so far."""
        if self._nseg == 0 or self._psum is None:
            raise UserError(
                f"not enough samples for carrier acquisition: need at least {self.fft_size} "
                f"({self.fft_size / self.samp_rate:.3f} s)"
            )
        K = self._nseg
        nch = self._nch
        p = self._psum / K  # mean power per bin, (nch, nbins)
        nb = p.shape[1]
        # local noise floor: mean of _REF bins each side beyond the guard
        csum = np.concatenate((np.zeros((nch, 1)), np.cumsum(p, axis=1)), axis=1)
        j = np.arange(nb)
        lo_a = np.clip(j - _GUARD - _REF, 0, nb)
        lo_b = np.clip(j - _GUARD, 0, nb)
        hi_a = np.clip(j + _GUARD + 1, 0, nb)
        hi_b = np.clip(j + _GUARD + 1 + _REF, 0, nb)
        cnt = (lo_b - lo_a) + (hi_b - hi_a)
        floor = ((csum[:, lo_b] - csum[:, lo_a]) + (csum[:, hi_b] - csum[:, hi_a])) / np.maximum(cnt, 1)
        stat = (p / floor).sum(axis=0)  # noise only: mean nch
        freqs = self._k * self.bin_hz
        inwin = (np.abs(freqs - self.center_hz) <= self.window_hz) & (cnt >= 2 * _REF)
        for lo, hi in self.exclude_hz:
            inwin &= ~((freqs >= lo) & (freqs <= hi))
        if not inwin.any():
            raise UserError("the acquisition window is empty after exclusions")
        cand = np.flatnonzero(inwin)
        m = cand[np.argmax(stat[cand])]
        n_bins = cand.size
        # noise only: K*p/floor ~ Gamma(K)/(Gamma(K*REF2)/REF2) per channel -> F(2K, 2K*REF2); sum over channels
        dof_ref = 2 * K * 2 * _REF
        thr = stats.f.isf(self.pfa / n_bins, 2 * K * nch, dof_ref) * nch
        detected = bool(stat[m] > thr)
        # frequency refinement (parabola through log powers)
        if 0 < m < nb - 1:
            a, b, c = np.log(np.maximum(stat[m - 1 : m + 2], 1e-30))
            den = a - 2 * b + c
            delta = 0.5 * (a - c) / den if den < 0 else 0.0
            delta = float(np.clip(delta, -0.5, 0.5))
        else:
            delta = 0.0
        freq = float((self._k[m] + delta) * self.bin_hz)
        # carrier power per channel: C/N0 = bin_hz * sum (P_k / N_k - 1) over the peak bins
        lo = max(m - _PEAK_HALF, 0)
        hi = min(m + _PEAK_HALF + 1, nb)
        ratio = p[:, lo:hi] / floor[:, lo:hi] - 1.0
        cn0 = np.maximum(self.bin_hz * ratio.sum(axis=1), 1e-3)
        # noise power per sample: floor / sum(w^2)
        w2 = float(np.sum(self._win.astype(np.float64) ** 2))
        noise = floor[:, m] / w2
        # complex gain: cross-spectrum with channel 0 at the peak bin gives the relative phase
        phase = np.angle(self._xsum[:, m])
        gain = np.sqrt(cn0 * noise / self.samp_rate) * np.exp(1j * phase)
        total = float(cn0.sum())
        win = np.flatnonzero(inwin | (np.abs(freqs - self.center_hz) <= self.window_hz))
        used = K * self.fft_size
        return CarrierAcquisition(
            detected=detected,
            freq_hz=freq,
            cn0_dbhz=float(10 * np.log10(total)),
            snr_db=float(10 * np.log10(stat[m] / nch)),
            threshold_db=float(10 * np.log10(thr / nch)),
            bin_hz=self.bin_hz,
            n_spectra=K,
            center_sample=used / 2.0,
            channel_cn0_dbhz=10 * np.log10(cn0),
            channel_gain=gain.astype(np.complex128),
            noise_power=noise,
            freqs_hz=freqs[win],
            spectrum=stat[win],
        )


def acquire_carrier(
    x: np.ndarray,
    samp_rate: float,
    *,
    center_hz: float = 0.0,
    window_hz: float = 25e3,
    bin_hz: float = 20.0,
    pfa: float = 1e-6,
    exclude_hz: list[tuple[float, float]] | tuple = (),
) -> CarrierAcquisition:
    """Search ``center_hz ± window_hz`` (Hz) for the residual carrier in ``x`` ((n,) or (channels, n) complex).

    Uses every complete segment of ``samp_rate / bin_hz`` samples; longer input gives a
    more sensitive search.  ``pfa`` is the false-alarm probability of the whole search.
    """
    acq = CarrierAcquirer(samp_rate, center_hz=center_hz, window_hz=window_hz, bin_hz=bin_hz, pfa=pfa, exclude_hz=exclude_hz)
    return acq.feed(x).result()

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

Wide and blind search (:class:`WideCarrierSearch`)
--------------------------------------------------
Before any Doppler correction or decimation the carrier may lie anywhere in the
recorded band (an unknown LO offset, a wrong ephemeris) and drift by up to
~60 Hz/s.  The wide search takes Hann-windowed FFTs of ``1 / bin_hz`` seconds
(the coherent integration: 50 ms at 20 Hz, over which a 60 Hz/s drift moves the
line by 0.15 bin) over the full sample rate, on segments spread over a bounded
stretch of ``span_s`` seconds (every ``stride``-th one), and keeps the power
spectrogram ``P[m, k]`` (segment m at time ``t_m`` from the middle of the span,
bin k; the channels summed after each is scaled by its noise level).
Non-coherent integration along a drifting line is a shift-and-add in the
spectrogram, one dechirp hypothesis per drift rate ``r``::

    S_r[k] = mean_m  P[m, k + s_m] / floor[k + s_m],   s_m = round(r t_m / bin_hz)

with rates on a grid of step ``bin_hz / span_s`` (the edge segments are then at
most 1/4 bin off the line; hypotheses with identical shifts are merged).
``floor`` is the local noise level (cell-averaging CFAR over ±48 bins beyond ±3
guard bins, censored: bins above 4x a first estimate are clipped so that a strong
line does not raise its neighbours' floor).  The threshold is the F-distribution
quantile for the false-alarm probability over all (bin, rate) cells.  Distinct
lines above it are kept (non-maximum suppression over the drift's reach); for
each, frequency and rate are refined by a weighted least-squares line through
the per-segment peak positions (parabolic interpolation of log power), which
gives the rate to a fraction of a Hz/s at C/N0 40 dB-Hz.

Corrupt data: a segment with more than 3x the median segment power (a burst of
full-scale samples, a rail) is skipped and counted; NaN and inf count as zeros;
a line whose power comes mostly from one segment (an impulse) is not a carrier.

Which line is the carrier:

* data sidebands are wide, not lines: the CFAR floor follows them, and only a
  narrow line stands out;
* a receiver DC spike (a stationary line at 0 Hz of the raw recording) is masked:
  the bins within ``±dc_exclude_hz`` of 0 Hz count as noise in every segment, so a
  drifting carrier crossing 0 Hz loses only those segments; only when no line is
  found elsewhere is the search repeated without the mask;
* sanity check on every line: a residual carrier with PCM/PM bi-phase-L data sits
  in the middle of the Manchester data spectrum ``T(x) = sin^4(pi x / 2) / (pi x / 2)^2``
  (``x = (f - fc) / Rs``: a notch at the carrier, main lobes peaking at 0.74 ``Rs``).
  The band spectrum within ±1.3 ``Rs`` of the line is fitted by least squares on
  ``[1, f - fc, T]`` (noise level, slope of the receiver's passband, data); a line
  has data sidebands when the data coefficient exceeds 2 % of the noise and 6
  standard errors (from the fit residuals, so receiver ripple widens them).  A spur
  beside the carrier sees the sidebands off-centre and fits a lower level;
* the carrier is then the line with the best data fit (with a prediction
  ``prefer_hz``: the closest to it among the lines within 3 dB of the best fit);
  when no line shows data, the strongest line (with a prediction: the closest
  among those within ``prefer_db`` of the strongest).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.fft
from scipy import stats

from heradecode.errors import UserError

__all__ = ["CarrierAcquisition", "CarrierAcquirer", "acquire_carrier", "WideAcquisition", "LineCandidate",
           "WideCarrierSearch", "search_carrier_wide"]

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


# ---------------------------------------------------------------------------------------------- wide search
_CLIP = 4.0  # censored CFAR: bins above this many times the first floor estimate are clipped
_MAX_LINES = 8  # distinct lines examined
_DATA_Z = 6.0  # data-sideband fit: standard errors required ...
_DATA_LEVEL = 0.02  # ... and a peak data density at least this over the noise
_MANCHESTER_PEAK = 0.5251  # max of sin^4(pi x / 2) / (pi x / 2)^2 (at x = 0.742)
_BURST = 3.0  # a segment with more than this many times the median segment power is corrupt
_STEADY = 0.5  # a line whose strongest segment holds more than this fraction of its power is an impulse
_COARSE = 8  # FFT bins summed per bin of the band spectrum kept for the data-sideband test


@dataclass(frozen=True)
class LineCandidate:
    """One spectral line found by the wide search."""

    freq_hz: float  #: frequency at the middle of the analysed span (Hz, relative to the input's 0 Hz)
    rate_hz_s: float  #: frequency drift rate (Hz/s)
    snr_db: float  #: detection statistic: mean normalised power along the line (dB over the noise floor)
    cn0_dbhz: float  #: line power to noise density, summed over channels (dB-Hz)
    data_z: float  #: data-sideband fit: level over its standard error (NaN when no symbol rate fits the band)
    data_level: float  #: data-sideband fit: peak data spectral density over the noise (0: no data)
    symbol_rate: float | None  #: the symbol rate whose sidebands fit best (baud), None if none tested
    in_dc_region: bool  #: the line sits within the DC-spur region
    steady: bool  #: the power is spread over the segments (False: one segment holds most of it, an impulse)

    @property
    def has_data(self) -> bool:
        """Whether bi-phase-L data sidebands surround the line."""
        return bool(self.data_z > _DATA_Z and self.data_level > _DATA_LEVEL)


@dataclass(frozen=True)
class WideAcquisition:
    """Result of a wide (or blind) carrier search."""

    detected: bool  #: a line above the threshold was found
    freq_hz: float  #: carrier frequency at ``center_sample`` (Hz, relative to the input's 0 Hz); NaN if none
    rate_hz_s: float  #: carrier drift rate (Hz/s); NaN if none
    snr_db: float  #: detection statistic of the chosen line (dB over the noise floor)
    threshold_db: float  #: detection threshold on the same scale (dB)
    cn0_dbhz: float  #: carrier power to noise density, summed over channels (dB-Hz)
    has_data: bool  #: bi-phase-L data sidebands were seen around the chosen line
    symbol_rate: float | None  #: the symbol rate whose sidebands fit best (baud)
    bin_hz: float  #: FFT bin width (Hz)
    n_spectra: int  #: spectra (segments) analysed
    n_corrupt: int  #: of which skipped as corrupt (bursts: far more power than the others)
    n_rates: int  #: drift-rate hypotheses
    center_sample: float  #: sample index (from the first sample fed) of the middle of the analysed span
    dc_masked: bool  #: the DC region was masked in the search that gave the result
    #: every distinct line above the threshold, strongest first
    candidates: tuple[LineCandidate, ...] = field(repr=False)


class WideCarrierSearch:
    """Search ``center_hz ± window_hz`` (or the whole band) of full-rate samples for a drifting residual carrier.

    Feed chunks ((n,) or (channels, n) complex) until :attr:`full` (``span_s`` of
    signal), then call :meth:`result`.  Memory: one float32 spectrogram of
    ``span_s * bin_hz`` segments by the searched bins, and a band spectrum 8x coarser.
    ``rate_center_hz_s`` ± ``max_rate_hz_s`` (Hz/s) is the drift range searched;
    ``prefer_hz`` (Hz, at the middle of the span) the predicted carrier; ``symbol_rates``
    (baud) the data rates whose sidebands identify the carrier; ``dc_exclude_hz`` the
    half-width of the masked DC region (0: none).  With ``stride`` s > 1 only every s-th
    segment of the span is analysed (1/s of the cost; the rate precision depends mostly on
    the span, the sensitivity on the segments analysed).
    """

    def __init__(self, samp_rate: float, *, center_hz: float = 0.0, window_hz: float | None = None,
                 bin_hz: float = 20.0, span_s: float = 1.0, max_rate_hz_s: float = 60.0,
                 rate_center_hz_s: float = 0.0, pfa: float = 1e-6, dc_exclude_hz: float = 200.0,
                 prefer_hz: float | None = None, prefer_db: float = 6.0,
                 symbol_rates: tuple[float, ...] | list[float] = (), stride: int = 1) -> None:
        if not samp_rate > 0 or not np.isfinite(samp_rate):
            raise UserError(f"sample rate must be positive, got {samp_rate}")
        if window_hz is not None and not window_hz > 0:
            raise UserError(f"acquisition window must be positive, got {window_hz} Hz")
        if not bin_hz > 0 or not span_s > 0 or not max_rate_hz_s >= 0:
            raise UserError("wide carrier search: bin width and span must be positive, the drift range not negative")
        if not 0 < pfa < 1:
            raise UserError(f"false-alarm probability must be in (0, 1), got {pfa}")
        self.samp_rate = float(samp_rate)
        n = scipy.fft.next_fast_len(int(round(self.samp_rate / bin_hz)))
        n += (-n) % _COARSE  # whole coarse bins
        self.fft_size = n
        self.bin_hz = self.samp_rate / n
        if int(stride) < 1:
            raise UserError(f"segment stride must be at least 1, got {stride}")
        self.stride = int(stride)
        slots = max(2, int(round(span_s * self.bin_hz)))  # segment-long slots in the span
        self.n_segments = max(2, (slots - 1) // self.stride + 1)
        self.span_samples = ((self.n_segments - 1) * self.stride + 1) * n
        self.center_hz = float(center_hz)
        self.pfa = float(pfa)
        self.dc_exclude_hz = float(dc_exclude_hz)
        self.prefer_hz = None if prefer_hz is None else float(prefer_hz)
        self.prefer_db = float(prefer_db)
        self.symbol_rates = tuple(float(r) for r in symbol_rates)
        # rate hypotheses: a step of bin/span keeps the edge segments within 1/4 bin of the line
        step = self.bin_hz / (self.span_samples / self.samp_rate)
        nr = int(np.ceil(2 * max_rate_hz_s / step)) + 1 if max_rate_hz_s > 0 else 1
        rates = np.linspace(-max_rate_hz_s, max_rate_hz_s, nr) if nr > 1 else np.zeros(1)
        rates = rates[np.argsort(np.abs(rates), kind="stable")]
        self.rates_hz_s = float(rate_center_hz_s) + rates
        self.rate_step_hz_s = float(step) if nr > 1 else 0.0
        # hypotheses whose rounded shifts coincide are one: keep the one closest to the centre rate
        _, first = np.unique(self._shifts_for(self.n_segments), axis=0, return_index=True)
        self.rates_hz_s = self.rates_hz_s[np.sort(first)]
        reach = int(np.abs(self._shifts_for(self.n_segments)).max())
        # bins searched (FFT indices k, possibly negative) plus the CFAR and drift margins
        margin = _REF + _GUARD + 2 + reach
        half = n // 2 - 1
        if window_hz is None:
            k_lo, k_hi = -half, half
        else:
            k_lo = int(np.floor((self.center_hz - window_hz) / self.bin_hz)) - margin
            k_hi = int(np.ceil((self.center_hz + window_hz) / self.bin_hz)) + margin
            k_lo, k_hi = max(k_lo, -half), min(k_hi, half)  # wider than the band: the whole band
        if k_hi - k_lo < 2 * margin + 1:
            raise UserError(f"the carrier search window {self.center_hz:+.0f} ± {window_hz:.0f} Hz lies outside "
                            f"the recorded band (± {self.samp_rate / 2:.0f} Hz)")
        self.window_hz = window_hz
        self._k = np.arange(k_lo, k_hi + 1)
        self._idx = np.mod(self._k, n)
        self._win = np.hanning(n + 2)[1:-1].astype(np.float32)
        self.reset()

    def reset(self) -> None:
        """Drop everything fed so far."""
        self._pending: np.ndarray | None = None  # samples of the segment being filled
        self._pos = 0  # stream position (samples since the first fed) of the next sample expected
        self._seg_pos = 0  # stream position of the segment being filled
        self._starts = np.zeros(self.n_segments, np.int64)  # stream position of each segment analysed
        self._spec: np.ndarray | None = None  # (n_segments, nbins) float32, channels combined
        self._band: np.ndarray | None = None  # (n_segments, fft_size / _COARSE) float32, fftshifted, coarse
        self._energy = np.zeros(self.n_segments)  # combined power of each segment (all bins)
        self._scale: np.ndarray | None = None  # per-channel 1 / noise power per bin
        self._nseg = 0
        self._nch: int | None = None

    @property
    def full(self) -> bool:
        """Whether ``span_s`` of signal has been analysed."""
        return self._nseg >= self.n_segments

    @property
    def n_spectra(self) -> int:
        """Segments analysed so far."""
        return self._nseg

    @property
    def samples_needed(self) -> int:
        """Samples of the stream (from the next position, gaps included) still wanted before the search is full."""
        return max(0, self.span_samples - self._pos)

    def wanted(self) -> tuple[int, int]:
        """[start, stop) stream positions of the samples the next segment still needs (empty when full)."""
        if self.full:
            return self._pos, self._pos
        if self._pending is not None:
            a = self._seg_pos + self._pending.shape[1]
            return a, self._seg_pos + self.fft_size
        a = max(self._nseg * self.stride * self.fft_size, self._pos)
        return a, a + self.fft_size

    def feed(self, x: np.ndarray, at: int | None = None) -> "WideCarrierSearch":
        """Add samples; what the span does not need (gaps between strided segments, the end) is skipped.

        ``x`` is complex, (n,) or (channels, n), or interleaved I/Q with a trailing axis of 2
        (e.g. raw int16 as :meth:`~heradecode.io.Recording.read_ci16` gives; the scale does not matter).
        ``at`` is the stream position of ``x[0]`` (samples since the first sample of the span; default:
        right after the previous call); positions may jump forward (see :meth:`wanted`), not back.
        A segment is the first ``fft_size`` contiguous samples from its slot's start on.
        """
        x = np.asarray(x)
        pos0 = self._pos if at is None else int(at)
        if pos0 < self._pos:
            raise UserError(f"carrier search: samples at {pos0} fed after {self._pos}")
        iq = x.ndim == 3 and x.shape[-1] == 2 and not np.iscomplexobj(x)
        if x.ndim == 1:
            x = x[None, :]
        if (x.ndim != 2 or not np.iscomplexobj(x)) and not iq:
            raise UserError("carrier search expects complex samples shaped (n,) or (channels, n), "
                            f"got {x.dtype} {x.shape}")
        if self._nch is None:
            self._nch = x.shape[0]
        elif x.shape[0] != self._nch:
            raise UserError(f"channel count changed from {self._nch} to {x.shape[0]}")
        n = self.fft_size
        end = pos0 + x.shape[1]
        pos = pos0
        while not self.full and pos < end:
            if self._pending is not None and pos != self._seg_pos + self._pending.shape[1]:
                self._pending = None  # a jump inside a segment: it restarts
            if self._pending is None:
                pos = max(pos, self._nseg * self.stride * n)  # skip the gap before this segment's slot
                if pos >= end:
                    break
                self._seg_pos = pos
                need = n
            else:
                need = n - self._pending.shape[1]
            part = x[:, pos - pos0:min(end, pos + need) - pos0]
            if iq:
                part = np.ascontiguousarray(part, dtype=np.float32).view(np.complex64)[..., 0]
            part = part.astype(np.complex64, copy=False)
            pos += part.shape[1]
            self._pending = part if self._pending is None else np.concatenate((self._pending, part), axis=1)
            if self._pending.shape[1] == n:
                self._starts[self._nseg] = self._seg_pos
                self._add_segment(self._pending)
                self._pending = None
        self._pos = max(self._pos, end)
        return self

    def _add_segment(self, seg: np.ndarray) -> None:
        seg = seg.astype(np.complex64, copy=False)
        spec = scipy.fft.fft(seg * self._win, axis=-1, workers=1)
        p = spec.real ** 2 + spec.imag ** 2  # (nch, n) float32
        if not np.isfinite(p.sum(dtype=np.float64)):
            # NaN, inf or overflowing samples (a corrupt stretch): they count as silence
            seg = np.where(np.isfinite(seg) & (np.abs(seg) < 1e15), seg, 0).astype(np.complex64)
            spec = scipy.fft.fft(seg * self._win, axis=-1, workers=1)
            p = spec.real ** 2 + spec.imag ** 2
        if self._scale is None:
            # per-channel noise power per bin from the median (exponential: mean = median / ln 2); a dead
            # channel (all zero) gets weight 0
            med = np.median(p, axis=1).astype(np.float64) / np.log(2.0)
            self._scale = np.where(med > 0, 1.0 / np.maximum(med, 1e-300), 0.0).astype(np.float32)
            self._spec = np.empty((self.n_segments, self._k.size), np.float32)
            self._band = np.empty((self.n_segments, self.fft_size // _COARSE), np.float32)
        comb = self._scale @ p  # channels combined, each in units of its noise per bin
        m = self._nseg
        self._spec[m] = comb[self._idx]
        self._band[m] = np.fft.fftshift(comb).reshape(-1, _COARSE).sum(axis=1)
        self._energy[m] = float(self._band[m].sum(dtype=np.float64))
        self._nseg += 1

    # ------------------------------------------------------------------ the search
    def result(self) -> WideAcquisition:
        """Search the spectra analysed so far (at least two segments)."""
        if self._nseg < 2 or self._spec is None:
            raise UserError(f"not enough samples for the carrier search: need at least {2 * self.fft_size} "
                            f"({2 * self.fft_size / self.samp_rate:.3f} s)")
        res = self._search(mask_dc=self.dc_exclude_hz > 0)
        if not res.detected and self.dc_exclude_hz > 0:
            alt = self._search(mask_dc=False)
            if alt.detected:
                return alt
        return res

    def _corrupt(self, K: int) -> np.ndarray:
        """Segments holding far more power than the median one (bursts, rails): skipped."""
        e = self._energy[:K]
        if K < 4:
            return np.zeros(K, bool)
        return e > _BURST * float(np.median(e))

    def _search(self, mask_dc: bool) -> WideAcquisition:
        K = self._nseg
        nch = int(np.count_nonzero(self._scale)) or 1
        n_rates = self.rates_hz_s.size
        freqs = self._k * self.bin_hz
        bad = self._corrupt(K)
        good = ~bad
        spec = self._spec[:K]
        shifts = self._shifts_for(K, self._starts)
        t_rel, mid = self._times(K, self._starts)
        reach = int(np.abs(shifts).max())
        dc = (np.abs(freqs) <= self.dc_exclude_hz) if mask_dc else np.zeros(freqs.size, bool)
        mean = spec[good].mean(axis=0, dtype=np.float64)
        if dc.any() and not dc.all():
            # the masked bins take the level just outside the mask (for the floor of their neighbours)
            edge = np.flatnonzero(~dc)
            mean[dc] = np.interp(np.flatnonzero(dc), edge, mean[edge])
        floor = _cfar_floor(mean)
        floor = np.maximum(_cfar_floor(np.minimum(mean, _CLIP * floor)), 1e-30)
        q = spec / floor.astype(np.float32)  # (K, nb): noise mean ~1
        q[bad] = 1.0
        if dc.any():
            q[:, dc] = 1.0
        nb = freqs.size
        lo, hi = reach, nb - reach  # bins whose whole trajectory lies in the spectrum
        stat = np.zeros((n_rates, nb), np.float32)
        for r in range(n_rates):
            acc = stat[r, lo:hi]
            for m in np.flatnonzero(good):
                s = int(shifts[r, m])
                acc += q[m, lo + s:hi + s]
        stat = stat / np.float32(good.sum()) if good.any() else stat
        best_r = np.argmax(stat, axis=0)
        best = stat[best_r, np.arange(nb)]
        valid = np.zeros(nb, bool)
        valid[lo + _REF + _GUARD:hi - _REF - _GUARD] = True
        if self.window_hz is not None:
            valid &= np.abs(freqs - self.center_hz) <= self.window_hz
        n_cells = max(int(valid.sum()), 1) * n_rates
        k_good = max(int(good.sum()), 1)
        thr = float(stats.f.isf(self.pfa / n_cells, 2 * k_good * nch, 2 * k_good * nch * 2 * _REF))
        above = np.flatnonzero(valid & (best > thr))
        peaks: list[int] = []
        if above.size:
            order = above[np.argsort(best[above])[::-1]]
            taken = np.zeros(nb, bool)
            nms = 2 * reach + _GUARD + 3
            for k in order:
                if taken[k]:
                    continue
                taken[max(0, k - nms):k + nms + 1] = True
                peaks.append(int(k))
                if len(peaks) >= _MAX_LINES:
                    break
        refined = [self._refine(k, int(best_r[k]), q, shifts, t_rel, good, nch) for k in peaks]
        band = self._band_spectrum([r[0] for r in refined], reach, good) if refined and self.symbol_rates else None
        lines = []
        for k, (freq, rate, cn0, steady) in zip(peaks, refined):
            z, level, rs = self._data_sidebands(freq, band, nch)
            in_dc = abs(freq) <= self.dc_exclude_hz + (reach + _GUARD) * self.bin_hz
            lines.append(LineCandidate(freq, rate, float(10 * np.log10(max(best[k], 1e-30))), cn0, z, level, rs,
                                       bool(in_dc), steady))
        chosen = self._choose(lines)
        half_span = mid
        common = dict(threshold_db=float(10 * np.log10(thr)), bin_hz=self.bin_hz, n_spectra=K,
                      n_corrupt=int(bad.sum()), n_rates=n_rates, center_sample=half_span, dc_masked=mask_dc,
                      candidates=tuple(lines))
        if chosen is None:
            top = float(np.max(best[valid])) if valid.any() else 1e-30
            return WideAcquisition(False, float("nan"), float("nan"), float(10 * np.log10(max(top, 1e-30))),
                                   cn0_dbhz=float("nan"), has_data=False, symbol_rate=None, **common)
        return WideAcquisition(True, chosen.freq_hz, chosen.rate_hz_s, chosen.snr_db, cn0_dbhz=chosen.cn0_dbhz,
                               has_data=chosen.has_data, symbol_rate=chosen.symbol_rate, **common)

    def _times(self, K: int, starts: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """(time of each segment's middle from the middle of the span in s, stream position of that middle)."""
        n = self.fft_size
        if starts is None:
            starts = np.arange(K) * self.stride * n
        mid = 0.5 * (float(starts[0]) + float(starts[K - 1]) + n)
        return (starts[:K] + 0.5 * n - mid) / self.samp_rate, mid

    def _shifts_for(self, K: int, starts: np.ndarray | None = None) -> np.ndarray:
        """Bin shift of segment m (of K) under each rate hypothesis, from the middle of the span."""
        t_rel, _ = self._times(K, starts)
        return np.round(self.rates_hz_s[:, None] * t_rel[None, :] / self.bin_hz).astype(np.int64)

    def _refine(self, k: int, r: int, q: np.ndarray, shifts: np.ndarray, t_rel: np.ndarray, good: np.ndarray,
                nch: int) -> tuple[float, float, float, bool]:
        """(frequency at mid-span in Hz, rate in Hz/s, C/N0 in dB-Hz, steady) of the line at bin ``k``, rate ``r``."""
        K = shifts.shape[1]
        nb = q.shape[1]
        rate0 = float(self.rates_hz_s[r])
        # per-segment peak near the hypothesised trajectory, parabolic interpolation, weighted by excess power
        pos = np.zeros(K)
        wgt = np.zeros(K)
        pwr = np.zeros(K)
        for m in np.flatnonzero(good):
            c = k + int(shifts[r, m])
            a, b = max(c - 2, 1), min(c + 3, nb - 1)
            j = a + int(np.argmax(q[m, a:b]))
            y0, y1, y2 = np.log(np.maximum(q[m, j - 1:j + 2], 1e-6))
            den = y0 - 2 * y1 + y2
            d = float(np.clip(0.5 * (y0 - y2) / den, -0.5, 0.5)) if den < 0 else 0.0
            pos[m] = j + d
            wgt[m] = max(float(q[m, j]) - 1.0, 0.0)
            pwr[m] = float(np.sum(q[m, max(j - _PEAK_HALF, 0):j + _PEAK_HALF + 1] - 1.0))
        excess = np.maximum(pwr, 0.0)
        steady = not (good.sum() >= 4 and excess.max() > _STEADY * max(excess.sum(), 1e-30))
        pos0 = float(k)
        rate = rate0
        if np.count_nonzero(wgt) >= 3:
            w = wgt / wgt.sum()
            tm = float(np.sum(w * t_rel))
            fm = float(np.sum(w * pos))
            var_t = float(np.sum(w * (t_rel - tm) ** 2))
            if var_t > 0:
                slope = float(np.sum(w * (t_rel - tm) * (pos - fm))) / var_t  # bins per second
                step = self.rate_step_hz_s
                if step:  # the fit may not leave the neighbourhood of the hypothesis (hypotheses merged: 2 steps)
                    slope = float(np.clip(slope, (rate0 - 2 * step) / self.bin_hz, (rate0 + 2 * step) / self.bin_hz))
                rate = slope * self.bin_hz
                pos0 = fm - slope * tm
                if abs(pos0 - k) > 2:  # the fit wandered off (weak line): keep the grid values
                    pos0, rate = float(k), rate0
        freq = float((self._k[0] + pos0) * self.bin_hz)
        # C/N0: excess power in the peak bins, per segment, over the noise in one bin (channels summed)
        cn0 = max(float(np.mean(pwr[good])) * self.bin_hz * nch, 1e-3)
        return freq, rate, float(10 * np.log10(cn0)), steady

    def _band_spectrum(self, lines: list[float], reach: int, good: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """(frequencies, mean combined power, segments) of the usable coarse band for the data-sideband test.

        Band edges (beyond ±45 % of the sample rate), the DC region, every line found and the
        corrupt segments are left out.
        """
        nc = self.fft_size // _COARSE
        bw = _COARSE * self.bin_hz
        f = (np.arange(nc) * _COARSE - self.fft_size // 2 + (_COARSE - 1) / 2) * self.bin_hz  # coarse bin centres
        usable = np.abs(f) <= 0.45 * self.samp_rate
        if self.dc_exclude_hz > 0:
            usable &= np.abs(f) > self.dc_exclude_hz + bw / 2
        guard = (_GUARD + 3 + reach) * self.bin_hz + bw / 2
        for fl in lines:
            usable &= np.abs(f - fl) > guard
        n_good = max(int(good.sum()), 1)
        band = self._band[:good.size][good].mean(axis=0, dtype=np.float64)
        return f[usable], band[usable], n_good

    def _data_sidebands(self, fc: float, band: tuple[np.ndarray, np.ndarray, int] | None,
                        nch: int) -> tuple[float, float, float | None]:
        """(z, level, symbol rate) of the data-sideband fit around ``fc`` (Hz); NaN, 0 and None when no rate fits.

        Least squares of the band spectrum within ±1.3 Rs of ``fc`` on [1, f - fc, T((f - fc) / Rs)],
        T the Manchester data spectrum (sin^4(pi x / 2) / (pi x / 2)^2, scaled to a peak of 1): the
        level is the fitted T coefficient over the noise (the intercept), z that coefficient over its
        standard error from the residuals (receiver ripple widens it).  A spur beside the carrier sees
        the sidebands off-centre and fits a lower level.  The window must hold the notch around
        ``fc`` and 40 % of each main lobe (a one-sided fit would take another signal for data).
        """
        if band is None:
            return float("nan"), 0.0, None
        f, spec, _ = band
        best: tuple[float, float, float | None] = (float("nan"), 0.0, None)
        bw = _COARSE * self.bin_hz
        for rs in self.symbol_rates:
            lo, hi = np.searchsorted(f, fc - 1.3 * rs), np.searchsorted(f, fc + 1.3 * rs, side="right")
            x = (f[lo:hi] - fc) / rs
            y = spec[lo:hi]
            ax = np.abs(x)
            lobe = 0.4 * 0.7 * rs / bw  # 40 % of a main lobe (0.4 .. 1.1 Rs) on each side
            if (np.count_nonzero(ax <= 0.15) < 2 or np.count_nonzero((x >= 0.4) & (x <= 1.1)) < lobe
                    or np.count_nonzero((x <= -0.4) & (x >= -1.1)) < lobe):
                continue
            u = 0.5 * np.pi * x
            with np.errstate(invalid="ignore", divide="ignore"):
                t = np.where(ax > 1e-9, np.sin(u) ** 4 / np.maximum(u * u, 1e-30), 0.0) / _MANCHESTER_PEAK
            design = np.stack([np.ones_like(x), x, t], axis=1)
            coef, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
            if rank < 3 or not coef[0] > 0:
                continue
            resid = y - design @ coef
            dof = max(y.size - 3, 1)
            cov = np.linalg.pinv(design.T @ design) * (float(resid @ resid) / dof)
            sigma = float(np.sqrt(max(cov[2, 2], 1e-30)))
            z = float(coef[2] / sigma)
            level = float(coef[2] / coef[0])
            if best[2] is None or level > best[1]:
                best = (z, level, rs)
        return best

    def _choose(self, lines: list[LineCandidate]) -> LineCandidate | None:
        """The carrier among the lines (module docstring): steady, away from DC, with the best data fit.

        Without data sidebands anywhere: the strongest line or, with a prediction, the closest to
        it among those within ``prefer_db`` of the strongest; lines with data: the best fit or,
        with a prediction, the closest among those within 3 dB of the best fit.
        """
        steady = [c for c in lines if c.steady]
        if not steady:
            return None
        pool = [c for c in steady if not c.in_dc_region] or steady
        data = [c for c in pool if c.has_data]
        if data:
            top = max(data, key=lambda c: c.data_level)
            if self.prefer_hz is None:
                return top
            close = [c for c in data if c.data_level >= 0.5 * top.data_level]
            return min(close, key=lambda c: abs(c.freq_hz - self.prefer_hz))
        top = max(pool, key=lambda c: c.snr_db)
        if self.prefer_hz is None:
            return top
        close = [c for c in pool if c.snr_db >= top.snr_db - self.prefer_db]
        return min(close, key=lambda c: abs(c.freq_hz - self.prefer_hz))


def _cfar_floor(p: np.ndarray) -> np.ndarray:
    """Mean of the ``_REF`` bins on each side beyond ``_GUARD`` guard bins (fewer at the edges)."""
    nb = p.size
    csum = np.concatenate(([0.0], np.cumsum(p, dtype=np.float64)))
    j = np.arange(nb)
    lo_a = np.clip(j - _GUARD - _REF, 0, nb)
    lo_b = np.clip(j - _GUARD, 0, nb)
    hi_a = np.clip(j + _GUARD + 1, 0, nb)
    hi_b = np.clip(j + _GUARD + 1 + _REF, 0, nb)
    cnt = (lo_b - lo_a) + (hi_b - hi_a)
    return ((csum[lo_b] - csum[lo_a]) + (csum[hi_b] - csum[hi_a])) / np.maximum(cnt, 1)


def search_carrier_wide(x: np.ndarray, samp_rate: float, **kwargs) -> WideAcquisition:
    """One-shot :class:`WideCarrierSearch` over ``x`` ((n,) or (channels, n) complex); ``span_s``: all of it."""
    x = np.asarray(x)
    kwargs.setdefault("span_s", x.shape[-1] / samp_rate)
    return WideCarrierSearch(samp_rate, **kwargs).feed(x).result()

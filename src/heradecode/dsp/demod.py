"""PCM/PM/bi-phase-L demodulator: residual carrier in, soft symbols (LLRs) out.

:class:`PcmPmDemodulator` chains, with state carried across chunks:

1. :class:`~heradecode.dsp.acquisition.CarrierAcquirer`: FFT search for the residual carrier
   on the first ``acq_time_s`` of signal (spans without a carrier are dropped and searched again);
2. :class:`~heradecode.dsp.polcombine.PolCombiner`: maximal-ratio combining of X and Y
   (two-channel input only);
3. :class:`~heradecode.dsp.pll.CarrierPll`: the residual-carrier PLL, started phase-aligned;
4. :class:`~heradecode.dsp.biphase.BiphaseDemodulator`: Manchester matched filter, symbol timing, LLRs.

Its input is complex baseband at ``samp_rate`` with the carrier within ``acq_window_hz`` of 0 Hz
(Doppler already removed, decimated to a few samples per symbol); the receiver and the
GNU Radio block :mod:`heradecode.gr.biphase_demod` both use it, after a wide search of the raw
band (:class:`~heradecode.dsp.acquisition.WideCarrierSearch`) has put the carrier within a few
hertz of 0 Hz: they then give it a narrow window (±5 kHz), so that a receiver spur further away
is not taken for the carrier, neither at the start nor when re-acquiring after a fade.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heradecode.dsp.acquisition import CarrierAcquirer, CarrierAcquisition
from heradecode.dsp.biphase import BiphaseDemodulator
from heradecode.dsp.pll import TRACK_DTYPE, CarrierPll
from heradecode.dsp.polcombine import PolCombiner

LLR_CLIP = 64.0  #: LLRs beyond +-LLR_CLIP carry no more certainty (clipping also bounds the warm-up)
MIN_ESN0_DB = -12.0  #: below this running Es/N0 the demodulator's symbols are treated as erasures


@dataclass(frozen=True)
class DemodOutput:
    """Soft symbols and carrier track rows produced by one call."""

    llr: np.ndarray  #: float32 LLR per symbol (positive = bit 0), clipped; erasures are 0
    sample: np.ndarray  #: float64 position of each symbol's start (input samples since the stream start)
    esn0_db: np.ndarray  #: float32 running Es/N0 estimate at each symbol (dB)
    track: np.ndarray  #: carrier track rows (:data:`~heradecode.dsp.pll.TRACK_DTYPE`), ``sample`` in input samples

    def __len__(self) -> int:
        return int(self.llr.size)

    @staticmethod
    def empty() -> "DemodOutput":
        """No symbols, no track rows."""
        z = np.zeros(0, np.float32)
        return DemodOutput(z, np.zeros(0), z, np.zeros(0, TRACK_DTYPE))


class PcmPmDemodulator:
    """Residual-carrier bi-phase-L demodulator for one or two (X, Y) channels; feed chunks to :meth:`process`."""

    def __init__(self, samp_rate: float, symbol_rate: float, *, start_time: float = 0.0,
                 acq_window_hz: float = 25e3, acq_time_s: float = 0.25, reacq_time_s: float = 0.1,
                 pll_bandwidth_hz: float = 15.0, pll_order: int = 3,
                 llr_clip: float = LLR_CLIP, min_esn0_db: float = MIN_ESN0_DB) -> None:
        self.samp_rate = float(samp_rate)
        self.symbol_rate = float(symbol_rate)
        self.start_time = float(start_time)
        self.acq_window_hz = float(acq_window_hz)
        self.reacq_time_s = float(reacq_time_s)
        self.pll_bandwidth_hz = float(pll_bandwidth_hz)
        self.pll_order = int(pll_order)
        self.llr_clip = float(llr_clip)
        self.min_esn0_db = float(min_esn0_db)
        self.acquirer = CarrierAcquirer(self.samp_rate, window_hz=self.acq_window_hz)
        self.acquisition: CarrierAcquisition | None = None
        self.acquisition_failures = 0
        self.combiner: PolCombiner | None = None
        self.pll: CarrierPll | None = None
        self.biphase = BiphaseDemodulator(self.samp_rate, self.symbol_rate)
        self.n_samples = 0  #: input samples consumed (demodulated or dropped)
        self._acq_buffer: list[np.ndarray] = []
        self._acq_len = int(acq_time_s * self.samp_rate)
        self._pll_first = 0
        self._derotate = np.complex64(1.0)

    @property
    def esn0_db(self) -> float:
        """Running Es/N0 estimate of the symbols (dB)."""
        return self.biphase.esn0_db

    @property
    def locked(self) -> bool:
        """Whether the carrier PLL is locked."""
        return self.pll is not None and self.pll.locked

    def process(self, y: np.ndarray) -> DemodOutput:
        """Feed complex samples, shape (n,) or (channels, n); return the symbols now available."""
        y = np.asarray(y, dtype=np.complex64)
        if y.ndim == 1:
            y = y[None, :]
        if y.shape[-1] == 0:
            return DemodOutput.empty()
        if self.pll is None:
            self._acq_buffer.append(y)
            self.acquirer.feed(y)
            return self._try_acquire(final=False)
        return self._demodulate(y)

    def finish(self) -> DemodOutput:
        """End of stream: search the carrier in what is still buffered and demodulate it."""
        if self.pll is None and self._acq_buffer:
            return self._try_acquire(final=True)
        return DemodOutput.empty()

    def _try_acquire(self, final: bool) -> DemodOutput:
        buffered = sum(b.shape[-1] for b in self._acq_buffer)
        if buffered < self._acq_len and not final:
            return DemodOutput.empty()
        res = self.acquirer.result() if self.acquirer.n_spectra else None
        if res is None or not res.detected:
            # No carrier in this span: drop it (nothing to demodulate) and search the next one.
            self.acquisition_failures += 1
            self.n_samples += buffered
            self._acq_buffer = []
            self.acquirer.reset()
            return DemodOutput.empty()
        self.acquisition = res
        data = np.concatenate(self._acq_buffer, axis=1)
        self._acq_buffer = []
        if data.shape[0] == 2:
            self.combiner = PolCombiner(self.samp_rate, res.freq_hz, prior=res)
        self.pll = CarrierPll(self.samp_rate, res.freq_hz, bandwidth_hz=self.pll_bandwidth_hz,
                              order=self.pll_order, start_time=self.start_time + self.n_samples / self.samp_rate,
                              acq_window_hz=self.acq_window_hz, acq_time=self.reacq_time_s,
                              acq_interval=self.reacq_time_s,
                              amplitude=float(abs(res.channel_gain[0])) if data.shape[0] == 1 else None)
        self._pll_first = self.n_samples
        z0 = self.combiner.process(data) if self.combiner is not None else data[0]
        # Start the PLL phase-aligned: estimate the carrier phase on the first 20 ms (the Manchester data has
        # no power at the carrier) and rotate the stream by it, so the loop needs no pull-in.
        n = min(z0.size, max(16, int(0.02 * self.samp_rate)))
        ph = np.exp(-2j * np.pi * res.freq_hz * np.arange(n) / self.samp_rate)
        c = np.mean(z0[:n] * ph)
        if abs(c) > 0:
            self._derotate = np.complex64(np.conj(c) / abs(c))
        return self._demodulate(z0, combined=True)

    def _demodulate(self, y: np.ndarray, combined: bool = False) -> DemodOutput:
        if combined:
            z = y
        else:
            z = self.combiner.process(y) if self.combiner is not None else y[0]
        c = self.pll.process(z * self._derotate)
        track = self.pll.pop_track()
        if track.size:
            track = track.copy()
            track["sample"] += self._pll_first
            if self.combiner is not None and self.pll.locked:
                self.combiner.set_carrier_hz(self.pll.freq_hz)
        sym = self.biphase.process(c)
        self.n_samples += z.shape[-1]
        # Where the demodulator sees no data (Es/N0 below min_esn0_db, e.g. a bare carrier) its LLR scale is
        # meaningless and bursts of it fake sync markers: those symbols become erasures.
        llr = np.where(sym.esn0_db > self.min_esn0_db, np.clip(sym.llr, -self.llr_clip, self.llr_clip),
                       np.float32(0.0)).astype(np.float32, copy=False)
        return DemodOutput(llr, sym.sample + self._pll_first, sym.esn0_db, track)

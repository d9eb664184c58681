"""GNU Radio bi-phase-L demodulator: residual carrier in (one or two polarizations), LLR soft symbols out.

The block first finds the carrier as the receiver does (:class:`~heradecode.dsp.acquisition.WideCarrierSearch`
on the first ``search_s`` of full-rate input, held meanwhile): within ``acq_window_hz`` of 0 Hz
(the Doppler removed upstream), preferring the line closest to 0 Hz, or, with ``acq_window_hz`` 0,
blindly over the whole band (raw SDR samples: the DC spike at 0 Hz is masked).  The frequency and
drift rate found are then removed (a coarse shift before decimation when the carrier is far from
0 Hz, the rest after it), the decimation is planned around the carrier, and
:class:`~heradecode.dsp.demod.PcmPmDemodulator` searches ±``TRACK_WINDOW_HZ`` around it and tracks
it.  The rate is extrapolated linearly: the carrier loop follows what is left, and for long passes
the Doppler should be removed upstream.  When no carrier is found in the first stretch the
demodulator searches ``acq_window_hz`` (±25 kHz when blind) around 0 Hz by itself, as before.
The narrow window around a carrier found keeps a receiver spur a few kHz away from being taken for it.
The demodulator's look-back works here as in the receiver: after the first lock and after every
re-acquisition, the symbols demodulated before the loops settled are demodulated again backwards
from the settled state (:mod:`heradecode.dsp.demod`); the output is delayed meanwhile (by at most
``LOOKBACK_S`` plus the settling time), never while locked.
"""

from __future__ import annotations

import numpy as np
import pmt
from gnuradio import gr

from heradecode.dsp.acquisition import WideAcquisition, WideCarrierSearch
from heradecode.dsp.demod import DemodOutput, PcmPmDemodulator
from heradecode.dsp.frontend import FALLBACK_WINDOW_HZ, TRACK_WINDOW_HZ, FrontEnd, plan_decimation
from heradecode.gr.tags import EOS, RX_TIME, SYMBOL_TIME, rx_time_value
from heradecode.io.dopplerfile import DopplerProfile

SEARCH_S = 0.5  #: full-rate input held and searched for the carrier (s)


class biphase_demod(gr.basic_block):  # noqa: N801 - GNU Radio block naming
    """Carrier search, decimation, X/Y combining, residual-carrier PLL, Manchester matched filter and timing.

    Input: complex baseband at ``samp_rate``, the carrier within ``acq_window_hz`` of 0 Hz
    (Doppler removed) or, with ``acq_window_hz`` 0, anywhere in the band (blind search).
    Output: float32 LLRs (positive = bit 0; 0 = erasure), one per symbol.  The first symbol of
    each output batch carries a ``heradecode_time`` tag (input sample index, UNIX time, samples
    per symbol, samp_rate); the time comes from the input's ``rx_time`` tag or
    ``start_unix_time``.  ``decimation`` 0 chooses the factor for the symbol rate.
    """

    def __init__(self, samp_rate: float, symbol_rate: float, channels: int = 2, start_unix_time: float = 0.0,
                 acq_window_hz: float = 100e3, pll_bandwidth_hz: float = 15.0, decimation: int = 0) -> None:
        if int(channels) not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        gr.basic_block.__init__(self, name="heradecode_biphase_demod", in_sig=[np.complex64] * int(channels),
                                out_sig=[np.float32])
        self.set_tag_propagation_policy(gr.TPP_DONT)
        self.set_min_output_buffer(1 << 16)  # symbols: fewer, larger calls of the synchronizer
        self.samp_rate = float(samp_rate)
        self.symbol_rate = float(symbol_rate)
        if self.samp_rate < 4 * self.symbol_rate:
            raise ValueError(f"{self.samp_rate:.0f} samples/s cannot carry {self.symbol_rate:.0f} baud bi-phase-L "
                             "(4 samples per symbol at least)")
        if not acq_window_hz >= 0:
            raise ValueError(f"acq_window_hz must be 0 (blind) or positive, got {acq_window_hz}")
        self.acq_window_hz = float(acq_window_hz)
        self.pll_bandwidth_hz = float(pll_bandwidth_hz)
        self.decimation = int(decimation)
        # built once the carrier search is over (_setup)
        self.factor = 1
        self.front_end: FrontEnd | None = None
        self.search: WideCarrierSearch | None = None
        self.acquisition: WideAcquisition | None = None  #: the carrier search's result (None until it ran)
        self.start_unix_time = float(start_unix_time)
        self.demod: PcmPmDemodulator | None = None
        self._held: list[np.ndarray] = []
        self._started = False
        self._queue = np.zeros(0, np.float32)
        self._tags: list[tuple[int, pmt.pmt_t]] = []  # (symbol index, value) not yet written
        self._n_sym = 0  # symbols queued so far (absolute index of the next one)
        self._ended = False

    @property
    def ended(self) -> bool:
        """Whether the end-of-stream tag arrived (the demodulator flushed everything it held)."""
        return self._ended

    def forecast(self, noutput_items, ninputs):
        """Ask for input only when nothing is waiting to go out."""
        need = 0 if self._queue.size else 1
        return [need] * ninputs

    # ------------------------------------------------------------------ set-up
    def _begin(self) -> None:
        blind = self.acq_window_hz == 0
        self.search = WideCarrierSearch(self.samp_rate, window_hz=None if blind else self.acq_window_hz,
                                        span_s=SEARCH_S, dc_exclude_hz=200.0 if blind else 0.0,
                                        prefer_hz=None if blind else 0.0, symbol_rates=(self.symbol_rate,))

    def _setup(self, res: WideAcquisition | None) -> None:
        """Plan the shift, decimation and demodulator around the carrier found (or 0 Hz without one)."""
        self.acquisition = res
        found = res is not None and res.detected
        freq = res.freq_hz if found else 0.0
        rate = res.rate_hz_s if found else 0.0
        window = TRACK_WINDOW_HZ if found else (self.acq_window_hz or FALLBACK_WINDOW_HZ)
        plan = plan_decimation(self.samp_rate, self.symbol_rate, freq, window, factor=self.decimation or None)
        self.factor = plan.factor
        t0 = self.start_unix_time
        model = None
        if found and rate:
            t_fix = t0 + res.center_sample / self.samp_rate
            t = np.array([t0 - 1.0, t_fix, t0 + 1e7])  # the drift, extrapolated (beyond the ends: held)
            model = DopplerProfile(t, rate * (t - t_fix))
        self.front_end = FrontEnd(plan, self.symbol_rate, start_unix_s=t0, offset_hz=freq, carrier_model=model,
                                  search_window_hz=window, pll_bandwidth_hz=self.pll_bandwidth_hz)
        self.demod = self.front_end.demod
        held, self._held = self._held, []
        for x in held:
            self._process(x)

    # ------------------------------------------------------------------ processing
    def _push(self, x: np.ndarray) -> None:
        if self.demod is not None:
            self._process(x)
            return
        self.search.feed(x)
        self._held.append(np.array(x, np.complex64))
        if self.search.full:
            self._setup(self.search.result())

    def _process(self, x: np.ndarray) -> None:
        self._queue_symbols(self.front_end.process(x))

    def _finish(self) -> None:
        if self.demod is None:
            self._setup(self.search.result() if self.search is not None and self.search.n_spectra >= 2 else None)
        self._queue_symbols(self.front_end.flush())

    def _queue_symbols(self, out: DemodOutput) -> None:
        if not len(out):
            return
        sample = self.front_end.plan.input_sample(float(out.sample[0]))
        value = pmt.make_tuple(pmt.from_uint64(int(round(sample))),
                               pmt.from_double(self.start_unix_time + sample / self.samp_rate),
                               pmt.from_double(self.samp_rate / self.symbol_rate),
                               pmt.from_double(self.samp_rate))
        self._tags.append((self._n_sym, value))
        self._queue = np.concatenate((self._queue, out.llr))
        self._n_sym += len(out)

    def general_work(self, input_items, output_items):
        """Demodulate every input available; write what fits of the symbols produced."""
        n = min(len(x) for x in input_items)
        if n and not self._ended:
            first = self.nitems_read(0)
            tags = self.get_tags_in_range(0, first, first + n)
            if not self._started:
                for t in tags:
                    if pmt.eq(t.key, RX_TIME) and t.offset == first:
                        self.start_unix_time = rx_time_value(t.value)
                self._started = True
                self._begin()
            self._push(np.stack([inp[:n] for inp in input_items]))
            if any(pmt.eq(t.key, EOS) for t in tags):
                self._ended = True
                self._finish()
                self._tags.append((self._n_sym - 1, None))  # EOS on the last symbol
            for i in range(len(input_items)):
                self.consume(i, n)
        elif n:
            for i in range(len(input_items)):
                self.consume(i, n)
        out = output_items[0]
        m = min(len(out), self._queue.size)
        if m == 0:
            return 0
        out[:m] = self._queue[:m]
        self._queue = self._queue[m:]
        written = self.nitems_written(0)
        base = self._n_sym - self._queue.size - m  # symbol index of out[0]
        keep = []
        for idx, value in self._tags:
            if idx < base + m:
                offset = written + max(idx - base, 0)
                if value is None:
                    self.add_item_tag(0, offset, EOS, pmt.PMT_T)
                else:
                    self.add_item_tag(0, offset, SYMBOL_TIME, value)
            else:
                keep.append((idx, value))
        self._tags = keep
        return m

"""GNU Radio bi-phase-L demodulator: residual carrier in (one or two polarizations), LLR soft symbols out."""

from __future__ import annotations

import numpy as np
import pmt
from gnuradio import gr

from heradecode.dsp.decimate import Decimator, mode_decimation
from heradecode.dsp.demod import DemodOutput, PcmPmDemodulator
from heradecode.gr.tags import EOS, RX_TIME, SYMBOL_TIME, rx_time_value


class biphase_demod(gr.basic_block):  # noqa: N801 - GNU Radio block naming
    """Decimation, carrier acquisition, X/Y combining, residual-carrier PLL, Manchester matched filter and timing.

    Input: complex baseband at ``samp_rate`` with the carrier within ``acq_window_hz`` of 0 Hz
    (Doppler removed).  Output: float32 LLRs (positive = bit 0; 0 = erasure), one per symbol.
    The first symbol of each output batch carries a ``heradecode_time`` tag (input sample index,
    UNIX time, samples per symbol, samp_rate); the time comes from the input's ``rx_time`` tag or
    ``start_unix_time``.  ``decimation`` 0 chooses the factor for the symbol rate.
    """

    def __init__(self, samp_rate: float, symbol_rate: float, channels: int = 2, start_unix_time: float = 0.0,
                 acq_window_hz: float = 25e3, pll_bandwidth_hz: float = 15.0, decimation: int = 0) -> None:
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
        self.acq_window_hz = float(acq_window_hz)
        self.pll_bandwidth_hz = float(pll_bandwidth_hz)
        factor, passband = mode_decimation(self.symbol_rate, self.samp_rate, max_offset_hz=self.acq_window_hz + 5e3)
        self.factor = int(decimation) if decimation else factor
        self.decimator = (Decimator(self.samp_rate, self.factor, passband_hz=passband if not decimation else None)
                          if self.factor > 1 else None)
        self.start_unix_time = float(start_unix_time)
        self.demod: PcmPmDemodulator | None = None
        self._queue = np.zeros(0, np.float32)
        self._tags: list[tuple[int, pmt.pmt_t]] = []  # (symbol index, value) not yet written
        self._n_sym = 0  # symbols queued so far (absolute index of the next one)
        self._ended = False

    def forecast(self, noutput_items, ninputs):
        """Ask for input only when nothing is waiting to go out."""
        need = 0 if self._queue.size else 1
        return [need] * ninputs

    def _start(self) -> None:
        fs = self.samp_rate / self.factor
        self.demod = PcmPmDemodulator(fs, self.symbol_rate, start_time=self.start_unix_time,
                                      acq_window_hz=self.acq_window_hz, pll_bandwidth_hz=self.pll_bandwidth_hz)

    def _queue_symbols(self, out: DemodOutput) -> None:
        if not len(out):
            return
        sample = float(out.sample[0]) * self.factor
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
            if self.demod is None:
                for t in tags:
                    if pmt.eq(t.key, RX_TIME) and t.offset == first:
                        self.start_unix_time = rx_time_value(t.value)
                self._start()
            x = np.stack([inp[:n] for inp in input_items])
            y = self.decimator.process(x) if self.decimator is not None else x
            self._queue_symbols(self.demod.process(y))
            if any(pmt.eq(t.key, EOS) for t in tags):
                self._ended = True
                if self.decimator is not None:
                    self._queue_symbols(self.demod.process(self.decimator.flush()))
                self._queue_symbols(self.demod.finish())
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

"""GNU Radio source of a SigMF (or raw X/Y) recording: one complex stream per channel."""

from __future__ import annotations

import numpy as np
import pmt
from gnuradio import gr

from heradecode.gr.tags import BIG_BUFFER, EOS, RX_FREQ, RX_RATE, RX_TIME, rx_time_pmt
from heradecode.io.reader import open_recording


PAD_TO = 4096  #: the stream's length is padded with zeros to a multiple of this (see sigmf_source)


class sigmf_source(gr.sync_block):  # noqa: N801 - GNU Radio block naming
    """Streams a recording read with :func:`heradecode.io.open_recording` (any SigMF datatype, X/Y pairs).

    The first item of every output carries ``rx_time``, ``rx_rate`` and ``rx_freq`` tags (as a
    USRP source does) and the last one ``heradecode_eos``, on which heradecode's blocks flush.
    The recording is followed by up to ``PAD_TO - 1`` zero samples (erasures to every heradecode
    stage), so that the stream's length is a multiple of ``PAD_TO``: blocks that work on aligned
    multiples of items (``multiply_cc`` mixing in the Doppler source: multiples of 8) would
    otherwise never pass on the last items, nor the end-of-stream tag on them.
    ``samp_rate``, ``center_freq_hz`` and ``start_unix_time`` are needed for raw files only
    (0 = from the metadata).
    """

    def __init__(self, recording: str, channels: int = 2, samp_rate: float = 0.0, center_freq_hz: float = 0.0,
                 start_unix_time: float = 0.0, chunk_s: float = 0.02) -> None:
        self.recording = open_recording(recording, samp_rate=samp_rate or None,
                                        center_freq_hz=center_freq_hz or None, start_time=start_unix_time or None,
                                        allow_truncated=True)  # whole samples, with a warning
        n_ch = self.recording.num_channels
        if int(channels) != n_ch:
            raise ValueError(f"{recording}: the recording has {n_ch} channel(s), the block is set to {channels}")
        gr.sync_block.__init__(self, name="heradecode_sigmf_source", in_sig=None, out_sig=[np.complex64] * n_ch)
        self.set_min_output_buffer(BIG_BUFFER)
        self._pos = 0
        self._chunk = max(1024, int(chunk_s * self.recording.samp_rate))

    def work(self, input_items, output_items):
        """Copy the next samples of every channel; WORK_DONE at the end of the recording."""
        rec = self.recording
        total = -(-rec.num_samples // PAD_TO) * PAD_TO  # the recording, then zeros to a multiple of PAD_TO
        n = min(len(output_items[0]), total - self._pos, self._chunk)
        if n <= 0:
            return -1
        m = max(0, min(n, rec.num_samples - self._pos))  # recorded samples in this call; the rest are zeros
        data = rec.read(self._pos, m) if m else None
        for ch, out in enumerate(output_items):
            if m:
                out[:m] = data[ch]
            out[m:n] = 0
        if self._pos == 0:
            for ch in range(len(output_items)):
                self.add_item_tag(ch, 0, RX_TIME, rx_time_pmt(float(rec.sample_unix_time(0))))
                self.add_item_tag(ch, 0, RX_RATE, pmt.from_double(rec.samp_rate))
                self.add_item_tag(ch, 0, RX_FREQ, pmt.from_double(rec.center_freq_hz))
        self._pos += n
        if self._pos >= total:
            for ch in range(len(output_items)):
                self.add_item_tag(ch, self.nitems_written(ch) + n - 1, EOS, pmt.PMT_T)
        return n

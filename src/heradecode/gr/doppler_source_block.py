"""GNU Radio source of a Doppler-correction phasor from a ``unix_time hz`` profile."""

from __future__ import annotations

import numpy as np
from gnuradio import gr

from heradecode.dsp.nco import Nco
from heradecode.gr.tags import BIG_BUFFER
from heradecode.io.dopplerfile import read_doppler_profile


class doppler_source(gr.sync_block):  # noqa: N801 - GNU Radio block naming
    """Emits ``exp(-j 2 pi phase(t))``, the phase integrating the profile plus ``offset_hz``, from ``start_unix_time``.

    Multiply a recording by it (stock Multiply block) to remove the Doppler phase-continuously:
    the carrier then sits near 0 Hz.  An empty ``profile`` removes ``offset_hz`` only.
    """

    def __init__(self, samp_rate: float, start_unix_time: float, profile: str = "", offset_hz: float = 0.0) -> None:
        gr.sync_block.__init__(self, name="heradecode_doppler_source", in_sig=None, out_sig=[np.complex64])
        doppler = read_doppler_profile(profile) if profile else None
        if doppler is not None and not doppler.covers(float(start_unix_time), float(start_unix_time)):
            raise ValueError(f"{profile} covers UNIX times {doppler.start:.0f}..{doppler.end:.0f} s, not the start "
                             f"time {float(start_unix_time):.0f} s (wrong profile or start time?)")
        self.nco = Nco(float(samp_rate), doppler=doppler, offset_hz=float(offset_hz), start_unix_s=float(start_unix_time))
        self._ones = np.ones(0, np.complex64)
        self.set_min_output_buffer(BIG_BUFFER)

    def work(self, input_items, output_items):
        """Fill the output with the next phasor samples."""
        out = output_items[0]
        n = len(out)
        if self._ones.size < n:
            self._ones = np.ones(n, np.complex64)
        out[:] = self.nco.process(self._ones[:n])
        return n

"""The front end: coarse shift, decimation, carrier NCO and PCM/PM demodulator, raw samples in, LLRs out.

One plan and one chain of stages for every consumer (the receiver, the GNU Radio demodulator
block, a notebook), so that they decimate and demodulate alike.

Plan (:func:`plan_decimation`).  Given the carrier's expected positions over the stream
(``expected_hz``, Hz from the centre frequency, before any correction) and the window the
demodulator will search around it, the carrier must stay inside the decimator's passband with
room to wander, ``margin = max(window, FALLBACK_WINDOW_HZ) + WANDER_HZ``:

* a coarse shift before the decimator, ``pre_shift = round(mean(expected), 1 kHz)``, only when
  ``max |expected| + margin > PRE_SHIFT_LIMIT_HZ`` (a carrier near the centre is not moved: the
  shift costs a complex multiply per input sample);
* the decimation factor and passband of :func:`heradecode.dsp.decimate.mode_decimation` for the
  symbol rate with ``max_offset_hz = max |expected - pre_shift| + margin``.

Decimated sample ``m`` is input sample ``m * factor`` (:meth:`DecimationPlan.input_sample`).

Chain (:class:`FrontEnd`): ``Nco(pre_shift)`` at the input rate, :class:`~heradecode.dsp.decimate.Decimator`,
``Nco(carrier law + offset - pre_shift)`` at the decimated rate (burst blanking included), then
:class:`~heradecode.dsp.demod.PcmPmDemodulator`, whose own carrier search spans
``min(window, 0.45 fs_out - 1200 Hz)`` (the FFT search needs 60 bins of 20 Hz inside Nyquist).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heradecode.dsp.decimate import MAX_RATE_OUT, Decimator, mode_decimation
from heradecode.dsp.demod import DemodOutput, PcmPmDemodulator
from heradecode.dsp.nco import BLANK_FACTOR, Nco
from heradecode.io.dopplerfile import DopplerProfile

__all__ = ["DecimationPlan", "plan_decimation", "FrontEnd", "FALLBACK_WINDOW_HZ", "TRACK_WINDOW_HZ"]

TRACK_WINDOW_HZ = 5e3  #: the demodulator's search (± Hz) around a carrier already found, and after fades
FALLBACK_WINDOW_HZ = 25e3  #: its search (± Hz) around the prediction when nothing was found beforehand
WANDER_HZ = 5e3  #: room (Hz) for the carrier to wander beyond the search window, inside the passband
PRE_SHIFT_LIMIT_HZ = 60e3  #: a carrier expected further than this (plus the margin) from the centre is shifted first


@dataclass(frozen=True)
class DecimationPlan:
    """Coarse shift and decimation of a stream: where the carrier goes and at what rate it is demodulated."""

    samp_rate_in: float  #: input sample rate (samples/s)
    pre_shift_hz: float  #: coarse shift before the decimator (0: none)
    factor: int  #: decimation factor (1: none)
    passband_hz: float  #: decimator passband (± Hz); the output Nyquist band when ``factor`` is 1

    @property
    def samp_rate(self) -> float:
        """Sample rate after decimation (samples/s)."""
        return self.samp_rate_in / self.factor

    def input_sample(self, decimated_sample):
        """Input sample index (float) of a decimated sample index (scalar or array)."""
        return np.asarray(decimated_sample, dtype=np.float64) * self.factor if np.ndim(decimated_sample) \
            else float(decimated_sample) * self.factor


def plan_decimation(samp_rate: float, symbol_rate_baud: float, expected_hz, window_hz: float,
                    factor: int | None = None, max_rate_out_sps: float | None = MAX_RATE_OUT) -> DecimationPlan:
    """The coarse shift and decimation for a carrier expected at ``expected_hz`` (Hz from the centre; one value or
    its values over the stream) and searched ±``window_hz`` around; ``factor`` overrides the chosen factor;
    ``max_rate_out_sps`` caps the decimated rate (None: the band-loss budget alone decides)."""
    f = np.atleast_1d(np.asarray(expected_hz, dtype=np.float64))
    margin = max(float(window_hz), FALLBACK_WINDOW_HZ) + WANDER_HZ
    pre = float(np.round(np.mean(f), -3)) if float(np.max(np.abs(f))) + margin > PRE_SHIFT_LIMIT_HZ else 0.0
    chosen, passband = mode_decimation(symbol_rate_baud, samp_rate, max_offset_hz=float(np.max(np.abs(f - pre))) + margin,
                                       max_rate_out=max_rate_out_sps)
    if factor and int(factor) != chosen:  # the decimator's default passband, 80 % of the output Nyquist band
        chosen, passband = int(factor), 0.4 * samp_rate / int(factor)
    if chosen == 1:
        passband = 0.5 * samp_rate
    return DecimationPlan(samp_rate_in=float(samp_rate), pre_shift_hz=pre, factor=int(chosen), passband_hz=float(passband))


class FrontEnd:
    """Coarse shift, decimation, carrier NCO and demodulator with state across chunks: samples in, LLRs out.

    ``offset_hz`` is the carrier's position (Hz from the centre) that the NCO removes on top of
    ``carrier_model`` (a Doppler law, Hz versus UNIX time, or None); the demodulator searches
    ``search_window_hz`` around what is left.  ``demod_options`` go to
    :class:`~heradecode.dsp.demod.PcmPmDemodulator`.
    """

    def __init__(self, plan: DecimationPlan, symbol_rate_baud: float, *, start_unix_s: float,
                 offset_hz: float = 0.0, carrier_model: DopplerProfile | None = None,
                 search_window_hz: float = FALLBACK_WINDOW_HZ, blank_factor: float | None = BLANK_FACTOR,
                 **demod_options) -> None:
        self.plan = plan
        fs_in, fs = plan.samp_rate_in, plan.samp_rate
        t0 = float(start_unix_s)
        self.pre_nco = Nco(fs_in, offset_hz=plan.pre_shift_hz, start_unix_s=t0) if plan.pre_shift_hz else None
        self.decimator = Decimator(fs_in, plan.factor, passband_hz=plan.passband_hz) if plan.factor > 1 else None
        residual_hz = float(offset_hz) - plan.pre_shift_hz
        self.nco: Nco | None = None
        if carrier_model is not None or residual_hz or blank_factor:
            self.nco = Nco(fs, doppler=carrier_model, offset_hz=residual_hz, start_unix_s=t0, blank_factor=blank_factor)
        window = min(float(search_window_hz), 0.45 * fs - 60 * 20.0)
        self.demod = PcmPmDemodulator(fs, symbol_rate_baud, start_unix_s=t0, acq_window_hz=window, **demod_options)

    @property
    def takes_int16(self) -> bool:
        """Whether :meth:`process` takes raw int16 I/Q (channels, n, 2): the decimator converts while filtering."""
        return self.decimator is not None and self.pre_nco is None

    def process(self, x: np.ndarray) -> DemodOutput:
        """Feed input samples, complex (channels, n) or int16 I/Q (channels, n, 2) when :attr:`takes_int16`;
        symbol positions are in decimated samples since the start."""
        if self.pre_nco is not None:
            x = self.pre_nco.process(x)
        y = self.decimator.process(x) if self.decimator is not None else np.asarray(x, np.complex64)
        return self._demodulate(y)

    def flush(self) -> DemodOutput:
        """End of stream: the decimator's last outputs and the demodulator's held symbols."""
        parts = [self._demodulate(self.decimator.flush())] if self.decimator is not None else []
        parts.append(self.demod.finish())
        return DemodOutput.concatenate(parts)

    def _demodulate(self, y: np.ndarray) -> DemodOutput:
        if y.shape[-1] == 0:
            return DemodOutput.empty()
        # the decimator's output is a fresh array nobody else holds: the NCO may overwrite it
        return self.demod.process(self.nco.process(y, inplace=self.decimator is not None) if self.nco is not None else y)

    @property
    def n_nonfinite(self) -> int:
        """Input samples (per channel) with a NaN/inf component, replaced by 0 by the shift, decimator or NCO."""
        return sum(getattr(st, "n_nonfinite", 0) for st in (self.pre_nco, self.decimator, self.nco) if st is not None)

    @property
    def n_blanked(self) -> int:
        """Samples blanked as bursts by the NCO, the polarization combiner and the PLL."""
        d = self.demod
        return (self.nco.n_blanked if self.nco is not None else 0) + sum(
            st.n_blanked for st in (d.combiner, d.pll) if st is not None)

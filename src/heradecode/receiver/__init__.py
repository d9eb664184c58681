"""The receiver: from a dual-polarization IQ recording to decoded, CRC-checked TM frames.

Stages, each an object with state carried across chunks (usable alone on numpy arrays):

0. :func:`find_carrier`: a wide search of the raw recording for the residual carrier
   (:class:`~heradecode.dsp.acquisition.WideCarrierSearch` on a bounded stretch of
   ``search_span_s``): with a Doppler profile (or a given carrier offset), ±100 kHz around
   the prediction, preferring the line closest to it; without, the whole recorded band (a
   blind search: an unknown LO offset and Doppler).  The frequency and drift rate found
   correct the prediction (or replace it) for everything below, so that the decimation is
   centred on the carrier; a fix far from the prediction is reported in one warning line;
1. :class:`~heradecode.dsp.decimate.Decimator` to a rate that suits the mode (after an
   optional coarse frequency shift when the carrier sits far from the centre);
2. :class:`~heradecode.dsp.nco.Nco` removing the carrier model (the Doppler profile and the
   expected carrier offset, corrected by the fix), phase-continuously;
3. :class:`~heradecode.dsp.demod.PcmPmDemodulator`: FFT search for the residual carrier,
   maximal-ratio combining of X and Y, residual-carrier PLL (re-acquires after fades),
   Manchester matched filter, timing, LLRs;
7. :class:`~heradecode.fec.asm.FrameSync`: soft 128-bit ASM search, both polarities;
8. :class:`~heradecode.ccsds.codeblock.CodeblockDecoder`: derandomization, turbo decoding, CRC-16,
   Es/N0 and the frame identity read by the mission's frame parser.

:class:`Receiver` runs them over a :class:`~heradecode.io.Recording` (or a span of it)
and yields :class:`DecodedCodeblock` records as codeblocks are decoded.  The receiver is
an edge module: it assembles the layers ``io`` → ``dsp`` → ``fec`` → ``ccsds``.

The package: :mod:`~heradecode.receiver.config` (settings), :mod:`~heradecode.receiver.carrier` (the
wide carrier search and the front end's plan), :mod:`~heradecode.receiver.core` (the streaming
:class:`Receiver`), :mod:`~heradecode.receiver.parallel` (segment plan and parallel decode of a whole
recording) and :mod:`~heradecode.receiver.mode` (mode detection); everything a user calls is
importable from ``heradecode.receiver``.
"""

from heradecode.receiver.carrier import (DC_EXCLUDE_HZ, FAR_OFFSET_HZ, FAR_RATE_HZ_S, WIDE_WINDOW_HZ, CarrierFix,
                                         CarrierOffsetWarning, FrontEndPlan, carrier_model, clear_carrier_cache,
                                         find_carrier, plan_front_end)
from heradecode.receiver.config import (SYMBOL_RATES, ReceiverConfig, check_symbol_rate, decode_header,
                                        expected_offset_hz, nominal_downlink_hz)
from heradecode.receiver.core import Receiver, ReceiverStats
from heradecode.receiver.mode import detect_mode, soft_symbol_sample
from heradecode.receiver.parallel import Segment, decode_recording, decode_segment, plan_segments

__all__ = [
    "DC_EXCLUDE_HZ", "FAR_OFFSET_HZ", "FAR_RATE_HZ_S", "WIDE_WINDOW_HZ", "CarrierFix", "CarrierOffsetWarning",
    "FrontEndPlan", "carrier_model", "clear_carrier_cache", "find_carrier", "plan_front_end",
    "SYMBOL_RATES", "ReceiverConfig", "check_symbol_rate", "decode_header", "expected_offset_hz", "nominal_downlink_hz",
    "Receiver", "ReceiverStats", "detect_mode", "soft_symbol_sample",
    "Segment", "decode_recording", "decode_segment", "plan_segments",
]

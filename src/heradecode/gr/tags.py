"""Stream tags and PDU conversions shared by heradecode's GNU Radio blocks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pmt
from gnuradio import gr

from heradecode.io.reader import open_recording

#: tag on the last item of a finite stream: blocks flush their state when they see it
EOS = pmt.intern("heradecode_eos")
#: tag on soft symbols: (input sample index, UNIX time s) of the tagged symbol's start
SYMBOL_TIME = pmt.intern("heradecode_time")
RX_TIME = pmt.intern("rx_time")
RX_RATE = pmt.intern("rx_rate")
RX_FREQ = pmt.intern("rx_freq")
#: output buffer (items) of heradecode's full-rate blocks: large enough that a work call moves
#: ~20 ms of a 6.144 Msps recording (GNU Radio's default of a few thousand items makes the
#: per-call Python overhead dominate)
BIG_BUFFER = 1 << 17


@dataclass(frozen=True)
class RecordingInfo:
    """What a flowgraph needs to know about a recording before it runs."""

    samp_rate: float  #: samples/s
    center_freq_hz: float  #: centre frequency (Hz)
    start_unix_time: float  #: UNIX time (s) of the first sample
    num_channels: int
    num_samples: int


def recording_info(path: str, samp_rate: float = 0.0, center_freq_hz: float = 0.0,
                   start_unix_time: float = 0.0) -> RecordingInfo:
    """Sample rate, centre frequency and start time of a recording (SigMF metadata, or the values given)."""
    rec = open_recording(path, samp_rate=samp_rate or None, center_freq_hz=center_freq_hz or None,
                         start_time=start_unix_time or None, allow_truncated=True)
    return RecordingInfo(rec.samp_rate, rec.center_freq_hz, float(rec.sample_unix_time(0)),
                         rec.num_channels, rec.num_samples)


def rx_time_pmt(unix_time: float) -> Any:
    """UNIX time as the (uint64 seconds, double fraction) tuple of a UHD ``rx_time`` tag."""
    secs = math.floor(unix_time)
    return pmt.make_tuple(pmt.from_uint64(int(secs)), pmt.from_double(unix_time - secs))


def rx_time_value(value: Any) -> float:
    """UNIX time (s) of an ``rx_time`` tag value."""
    return pmt.to_uint64(pmt.tuple_ref(value, 0)) + pmt.to_double(pmt.tuple_ref(value, 1))


def meta_to_pmt(meta: dict[str, Any]) -> Any:
    """A dict of ints, floats, bools and strings as a PMT dictionary."""
    d = pmt.make_dict()
    for key, val in meta.items():
        if isinstance(val, (bool, np.bool_)):
            p = pmt.from_bool(bool(val))
        elif isinstance(val, (int, np.integer)):
            p = pmt.from_long(int(val))
        elif isinstance(val, (float, np.floating)):
            p = pmt.from_double(float(val))
        else:
            p = pmt.intern(str(val))
        d = pmt.dict_add(d, pmt.intern(key), p)
    return d


def pmt_to_meta(d: Any) -> dict[str, Any]:
    """A PMT dictionary as a Python dict."""
    if not pmt.is_dict(d):
        return {}
    return {str(k): v for k, v in (pmt.to_python(d) or {}).items()}


_IS_VECTOR = {"u8": pmt.is_u8vector, "f32": pmt.is_f32vector}


def pdu_vector(msg: Any, kind: str, length: int) -> tuple[dict[str, Any], Any] | None:
    """(metadata, vector) of a PDU whose vector holds ``length`` items of ``kind`` ('u8' or 'f32'); else None."""
    parts = pdu_parts(msg)
    if parts is None or not _IS_VECTOR[kind](parts[1]) or pmt.length(parts[1]) != length:
        return None
    return parts


def count_rejected(block: Any, what: str) -> None:
    """Count (``block.n_rejected``) and log a message the block cannot use; never fatal."""
    block.n_rejected += 1
    gr.log.warn(f"heradecode {block.name()}: skipped a message that is not {what} ({block.n_rejected} so far)")


def pdu_parts(msg: Any) -> tuple[dict[str, Any], Any] | None:
    """(metadata, vector) of a PDU message, or None when the message is not a PDU."""
    try:
        if not (pmt.is_pair(msg) and pmt.is_uniform_vector(pmt.cdr(msg))):
            return None
        return pmt_to_meta(pmt.car(msg)), pmt.cdr(msg)
    except (ValueError, TypeError, AttributeError, RuntimeError):  # metadata PMT cannot convert: not our PDU
        return None

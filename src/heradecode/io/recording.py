"""An IQ recording on disk: sample format, metadata, exact timestamps and streaming reads.

A :class:`Recording` describes one or two complex sample streams (channels,
X then Y polarization) stored in one file with the channels interleaved per
sample, or in one file per channel.  Samples are read in chunks through short
memory maps of just the bytes needed, so memory does not grow with file size;
the raw ci16 path (:meth:`Recording.read_ci16`) instead reads the bytes (pread) into a
small reused buffer (256 kB, per thread) piece by piece and gathers the channels from it
while in cache, which costs less CPU.

Fixed-point samples are scaled as SigMF readers do: a component value ``v`` of
a ``b``-bit signed type is returned as ``v / 2**(b-1)`` (full scale = 1.0);
unsigned types are first offset by ``2**(b-1)``.  Float samples are returned
unscaled.

Plausible values only: a sample rate in 1 .. 1e10 samples/s, a centre
frequency of magnitude at most 1e12 Hz, and a last sample before 2262-04-11
(the end of nanosecond time stamps); anything else is a one-line UserError, before
any sample is read.

Timestamps are exact: sample ``n`` is taken at ``start_time + n / samp_rate``,
computed with integer nanoseconds (exact for integer sample rates, to well
under 1 ns for others) so sub-microsecond precision holds over hours.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from heradecode.errors import UserError

RECEIVER_OFFSET_KEY = "heradecode:carrier_offset_hz"
"""Global SigMF key: a known frequency error of the receiver (Hz): the carrier lies this far from the nominal
downlink plus Doppler (the simulator writes its simulated LO offset there)."""
_NS_PER_S = 1_000_000_000
_UNIX_EPOCH = np.datetime64(0, "ns")
_MAX_NS = np.iinfo(np.int64).max - _NS_PER_S  # last representable datetime64[ns], with a second to spare


# --------------------------------------------------------------------------- datatypes
@dataclass(frozen=True)
class SampleFormat:
    """A complex sample datatype: its SigMF name, numpy component dtype and scaling."""

    name: str
    component: np.dtype
    scale: float  # multiply a component by this to get full-scale-1.0 units
    offset: float  # subtract this from a component first (unsigned types)

    @property
    def sample_bytes(self) -> int:
        """Bytes per complex sample of one channel."""
        return 2 * self.component.itemsize

    @property
    def is_fixed_point(self) -> bool:
        """True for integer types."""
        return self.component.kind in "iu"


def _make_formats() -> dict[str, SampleFormat]:
    fmts: dict[str, SampleFormat] = {}
    for kind in ("i", "u"):
        for bits in (8, 16, 32):
            scale = 2.0 ** -(bits - 1)
            offset = 2.0 ** (bits - 1) if kind == "u" else 0.0
            orders = {"": "<"} if bits == 8 else {"_le": "<", "_be": ">"}
            for suffix, order in orders.items():
                name = f"c{kind}{bits}{suffix}"
                fmts[name] = SampleFormat(name, np.dtype(f"{order}{kind}{bits // 8}"), scale, offset)
            if bits == 8:  # some tools write ci8_le; same bytes
                for suffix in ("_le", "_be"):
                    fmts[f"c{kind}8{suffix}"] = SampleFormat(f"c{kind}8", np.dtype(f"{kind}1"), scale, offset)
    for bits in (32, 64):
        for suffix, order in (("_le", "<"), ("_be", ">")):
            name = f"cf{bits}{suffix}"
            fmts[name] = SampleFormat(name, np.dtype(f"{order}f{bits // 8}"), 1.0, 0.0)
    return fmts


_FORMATS = _make_formats()
SUPPORTED_DATATYPES: tuple[str, ...] = tuple(
    sorted({f.name for f in _FORMATS.values()}, key=lambda n: (n[1], int(re.sub(r"\D", "", n)), n))
)


def sample_format(datatype: str) -> SampleFormat:
    """The :class:`SampleFormat` of a SigMF datatype name; UserError if unsupported."""
    fmt = _FORMATS.get(str(datatype).strip().lower())
    if fmt is None:
        raise UserError(
            f"unsupported sample datatype {datatype!r}: supported are complex types "
            f"{', '.join(SUPPORTED_DATATYPES)}"
        )
    return fmt


# --------------------------------------------------------------------------- plausible values
MIN_SAMPLE_RATE = 1.0
"""Lowest sample rate accepted (samples/s)."""
MAX_SAMPLE_RATE = 1e10
"""Highest sample rate accepted (samples/s): far above any recorder, far below what would overflow sizes."""
MAX_ABS_FREQUENCY_HZ = 1e12
"""Largest centre frequency magnitude accepted (Hz), as SigMF's schema bounds core:frequency."""


def _finite_float(value: Any, what: str, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise UserError(f"{what} must be a number of {unit}, got {str(value)[:60]!r}")
    try:
        v = float(value)
    except OverflowError:  # an integer beyond float range
        v = float("inf")
    if not np.isfinite(v):
        raise UserError(f"{what} must be a finite number of {unit}, got {v!r}")
    return v


def check_sample_rate(value: Any, what: str = "the sample rate") -> float:
    """A plausible sample rate in samples/s (1 .. 1e10) as float; UserError naming ``what`` otherwise."""
    v = _finite_float(value, what, "samples/s")
    if v <= 0:
        raise UserError(f"{what} must be positive, got {v:g}")
    if not MIN_SAMPLE_RATE <= v <= MAX_SAMPLE_RATE:
        raise UserError(
            f"{what} {v:g} is implausible: give at least {MIN_SAMPLE_RATE:g} and at most {MAX_SAMPLE_RATE:g} "
            "samples/s"
        )
    return v


def check_center_freq(value: Any, what: str = "the centre frequency") -> float:
    """A plausible centre frequency in Hz (magnitude at most 1e12) as float; UserError naming ``what`` otherwise."""
    v = _finite_float(value, what, "Hz")
    if abs(v) > MAX_ABS_FREQUENCY_HZ:
        raise UserError(f"{what} {v:g} Hz is implausible: its magnitude must be at most {MAX_ABS_FREQUENCY_HZ:g} Hz")
    return v


# --------------------------------------------------------------------------- time
_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


def parse_utc(value: Any) -> np.datetime64:
    """Convert an ISO-8601 string, datetime, datetime64 or UNIX seconds to datetime64[ns] UTC.

    Strings without a zone are taken as UTC; a ``+hh:mm`` offset is applied.
    Fractions of a second are kept to the nanosecond.
    """
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise UserError("the start time is NaT")
        return value.astype("datetime64[ns]")
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        if not 1678 <= value.year <= 2261:
            raise UserError(f"the time {value} is outside 1678..2261 (nanosecond datetime range)")
        return np.datetime64(value, "us").astype("datetime64[ns]")
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if not np.isfinite(value) or abs(value) > 9.2e9:
            raise UserError(f"the time {value!r} is not a usable number of UNIX seconds")
        whole = int(np.floor(value))
        frac_ns = int(round((float(value) - whole) * _NS_PER_S))
        return _UNIX_EPOCH + np.timedelta64(whole * _NS_PER_S + frac_ns, "ns")
    if isinstance(value, str):
        text = value.strip()
        m = _ISO_RE.match(text)
        if m is None:
            try:  # plain UNIX seconds given as text
                return parse_utc(float(text))
            except (ValueError, UserError):
                raise UserError(
                    f"cannot read the time {value!r}: use ISO-8601 UTC like 2024-10-07T16:24:20.5Z "
                    "or UNIX seconds"
                ) from None
        year, month, day, hh, mm, ss, frac, zone = m.groups()
        try:
            base = _dt.datetime(int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0))
        except ValueError as exc:
            raise UserError(f"cannot read the time {value!r}: {exc}") from None
        if not 1678 <= base.year <= 2261:
            raise UserError(f"the time {value!r} is outside 1678..2261 (nanosecond datetime range)")
        ns = int((frac or "0")[:9].ljust(9, "0"))
        result = np.datetime64(base, "s").astype("datetime64[ns]") + np.timedelta64(ns, "ns")
        if zone and zone.upper() not in ("Z", "UTC"):
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            offset_min = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
            result -= np.timedelta64(sign * offset_min * 60 * _NS_PER_S, "ns")
        return result
    raise UserError(f"cannot read the time {value!r} (type {type(value).__name__})")


_ISO_TIME_RE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def parse_iso_utc(value: Any) -> np.datetime64:
    """An ISO-8601 date and time of day (text only; not UNIX seconds, not a bare date) as datetime64[ns] UTC."""
    if not isinstance(value, str):
        raise UserError(f"must be an ISO-8601 UTC time like 2024-10-07T16:24:20.5Z, got {value!r}")
    if not _ISO_TIME_RE.match(value) or _ISO_RE.match(value) is None:
        raise UserError(f"must be an ISO-8601 UTC time like 2024-10-07T16:24:20.5Z, got {value[:60]!r}")
    return parse_utc(value)


def format_utc(t: np.datetime64) -> str:
    """ISO-8601 UTC text with nanoseconds and a trailing Z, as SigMF's core:datetime."""
    return np.datetime_as_string(np.datetime64(t, "ns"), unit="ns", timezone="naive") + "Z"


def unix_seconds(t: np.datetime64) -> float:
    """datetime64 → UNIX seconds (float64; resolution about 0.2 µs in this century)."""
    ns = int((np.datetime64(t, "ns") - _UNIX_EPOCH) // np.timedelta64(1, "ns"))
    return ns // _NS_PER_S + (ns % _NS_PER_S) / _NS_PER_S


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Annotation:
    """One SigMF annotation: a sample range with a label and any other fields."""

    start_sample: int
    num_samples: int | None
    label: str | None = None
    comment: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A block of samples: ``data[channel, i]`` is sample ``start_sample + i`` (complex64)."""

    start_sample: int
    data: np.ndarray

    @property
    def num_samples(self) -> int:
        """Samples per channel in this chunk."""
        return int(self.data.shape[1])

    @property
    def stop_sample(self) -> int:
        """Index one past the last sample of this chunk."""
        return self.start_sample + int(self.data.shape[1])


@dataclass(frozen=True)
class ChannelSource:
    """Where one channel's samples live: a file, a byte offset, and the channel's slot in each sample."""

    path: Path
    offset_bytes: int
    file_channels: int
    channel_in_file: int


class Recording:
    """A dual- or single-channel complex IQ recording with exact sample timestamps.

    Build it with :func:`heradecode.io.open_recording`.  Channels are ordered
    X, Y.  ``chunks()`` streams the samples; ``read()`` gives random access.
    """

    def __init__(
        self,
        *,
        sources: list[ChannelSource],
        datatype: str,
        samp_rate: float,
        center_freq_hz: float,
        start_time: Any,
        num_samples: int,
        channel_names: tuple[str, ...] | None = None,
        annotations: tuple[Annotation, ...] = (),
        metadata: dict[str, Any] | None = None,
        meta_paths: tuple[Path, ...] = (),
        truncated: bool = False,
        expected_num_samples: int | None = None,
    ) -> None:
        if not sources:
            raise UserError("a recording needs at least one channel")
        samp_rate = check_sample_rate(samp_rate)
        center_freq_hz = check_center_freq(center_freq_hz)
        if num_samples < 0:
            raise UserError("a recording cannot hold a negative number of samples")
        start_time = parse_utc(start_time)
        end_ns = int((start_time - _UNIX_EPOCH) // np.timedelta64(1, "ns")) + num_samples * _NS_PER_S / samp_rate
        if end_ns >= _MAX_NS:
            raise UserError(
                f"{num_samples} samples at {samp_rate:g} samples/s from {format_utc(start_time)} would end after "
                "2262-04-11, beyond nanosecond time stamps"
            )
        self._fmt = sample_format(datatype)
        self._sources = list(sources)
        self.datatype: str = self._fmt.name
        self.samp_rate: float = samp_rate
        self.center_freq_hz: float = center_freq_hz
        self.start_time: np.datetime64 = start_time
        self.num_samples: int = int(num_samples)
        self.num_channels: int = len(sources)
        default_names = ("X", "Y") if len(sources) == 2 else tuple(f"ch{i}" for i in range(len(sources)))
        self.channel_names: tuple[str, ...] = tuple(channel_names) if channel_names else default_names
        self.annotations: tuple[Annotation, ...] = tuple(annotations)
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.paths: tuple[Path, ...] = tuple(dict.fromkeys(s.path for s in sources))
        self.meta_paths: tuple[Path, ...] = tuple(meta_paths)
        self.truncated: bool = bool(truncated)
        self.expected_num_samples: int = int(expected_num_samples if expected_num_samples is not None else num_samples)
        rate_int = round(samp_rate)
        self._int_rate: int | None = rate_int if rate_int == samp_rate and rate_int < 2**40 else None

    # ------------------------------------------------------------------ description
    @property
    def receiver_offset_hz(self) -> float:
        """The receiver frequency error the metadata states (``heradecode:carrier_offset_hz``, Hz), else 0."""
        value = self.metadata.get(RECEIVER_OFFSET_KEY, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) \
                or abs(value) > 1e9:
            warnings.warn(f"{RECEIVER_OFFSET_KEY} in the metadata is not a number of Hz ({str(value)[:40]!r}); "
                          f"ignored")
            return 0.0
        return float(value)

    @property
    def duration_s(self) -> float:
        """Length of the recording in seconds."""
        return self.num_samples / self.samp_rate

    @property
    def end_time(self) -> np.datetime64:
        """Time of the sample just after the last one (datetime64[ns])."""
        return self.sample_time(self.num_samples)

    @property
    def full_scale(self) -> float:
        """Magnitude of a full-scale component in returned units (1.0 for integer types)."""
        return 1.0

    @property
    def sample_format(self) -> SampleFormat:
        """The on-disk sample format."""
        return self._fmt

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.paths)
        return (
            f"Recording({names}: {self.num_channels} ch {'/'.join(self.channel_names)}, {self.datatype}, "
            f"{self.samp_rate:g} sps, {self.center_freq_hz / 1e6:.6f} MHz, start {format_utc(self.start_time)}, "
            f"{self.num_samples} samples = {self.duration_s:.3f} s{', TRUNCATED' if self.truncated else ''})"
        )

    # ------------------------------------------------------------------ timestamps
    def _offset_ns(self, index: Any) -> Any:
        if np.ndim(index) == 0:
            i = int(index)
            if self._int_rate is not None:
                r = self._int_rate
                return (i * _NS_PER_S * 2 + r) // (2 * r)
            return int(round(i * _NS_PER_S / self.samp_rate))
        idx = np.asarray(index, dtype=np.int64)
        if self._int_rate is not None:
            r = np.int64(self._int_rate)
            sec, rem = np.divmod(idx, r)
            return sec * _NS_PER_S + (rem * _NS_PER_S * 2 + r) // (2 * r)
        return np.rint(idx.astype(np.float64) * (_NS_PER_S / self.samp_rate)).astype(np.int64)

    def sample_time(self, index: int | np.ndarray) -> np.datetime64 | np.ndarray:
        """UTC time (datetime64[ns]) at which sample ``index`` was taken; arrays accepted."""
        off = self._offset_ns(index)
        if np.ndim(off) == 0:
            return self.start_time + np.timedelta64(int(off), "ns")
        return self.start_time + np.asarray(off).astype("timedelta64[ns]")

    def sample_unix_time(self, index: int | np.ndarray) -> float | np.ndarray:
        """UNIX time (s, float64) of sample ``index``; arrays accepted."""
        start_ns = int((self.start_time - _UNIX_EPOCH) // np.timedelta64(1, "ns"))
        off = self._offset_ns(index)
        if np.ndim(off) == 0:
            total = start_ns + int(off)
            return total // _NS_PER_S + (total % _NS_PER_S) / _NS_PER_S
        whole, frac = divmod(start_ns, _NS_PER_S)
        off = np.asarray(off, dtype=np.int64) + frac
        sec, rem = np.divmod(off, _NS_PER_S)
        return (sec + whole).astype(np.float64) + rem / _NS_PER_S

    def sample_index_at(self, t: Any) -> int:
        """Index of the first sample taken at or after time ``t`` (ISO text, datetime64 or UNIX s)."""
        delta_ns = int((parse_utc(t) - self.start_time) // np.timedelta64(1, "ns"))
        if self._int_rate is not None:
            return -((-delta_ns * self._int_rate) // _NS_PER_S)
        return int(np.ceil(delta_ns * self.samp_rate / _NS_PER_S - 1e-9))

    # ------------------------------------------------------------------ samples
    def read(self, start: int = 0, count: int | None = None) -> np.ndarray:
        """Samples ``start .. start+count-1`` of every channel as complex64, shape (channels, count)."""
        start = int(start)
        if count is None:
            count = self.num_samples - start
        count = int(count)
        if start < 0 or count < 0 or start + count > self.num_samples:
            raise UserError(
                f"cannot read samples {start}..{start + count - 1}: the recording holds {self.num_samples}"
            )
        out = np.empty((self.num_channels, count), dtype=np.complex64)
        if count == 0:
            return out
        outf = out.view(np.float32).reshape(self.num_channels, count, 2)
        by_file: dict[tuple[Path, int, int], list[tuple[int, int]]] = {}
        for ch, src in enumerate(self._sources):
            by_file.setdefault((src.path, src.offset_bytes, src.file_channels), []).append((ch, src.channel_in_file))
        for (path, offset, nfc), pairs in by_file.items():
            self._copy_from_file(path, offset, nfc, pairs, start, count, outf)
        return out

    def read_ci16(self, start: int, count: int) -> np.ndarray:
        """Samples of a ci16_le recording as raw int16 I/Q pairs, shape (channels, count, 2), unscaled.

        The fast path for receivers that convert while filtering; other datatypes: use :meth:`read`.
        """
        if self._fmt.name != "ci16_le":
            raise UserError(f"read_ci16 needs a ci16_le recording, this one is {self._fmt.name}")
        start, count = int(start), int(count)
        if start < 0 or count < 0 or start + count > self.num_samples:
            raise UserError(f"cannot read samples {start}..{start + count - 1}: the recording holds {self.num_samples}")
        # Each I/Q pair moves as one 32-bit word.  The file's bytes are read (pread) into a small reused buffer and
        # the channels gathered from it: cheaper than a memory map per chunk (no page faults, no map/unmap).
        out = np.empty((self.num_channels, count), dtype=np.uint32)
        if count:
            by_file: dict[tuple[Path, int, int], list[tuple[int, int]]] = {}
            for ch, src in enumerate(self._sources):
                by_file.setdefault((src.path, src.offset_bytes, src.file_channels), []).append((ch, src.channel_in_file))
            for (path, offset, nfc), pairs in by_file.items():
                pos = offset + start * nfc * self._fmt.sample_bytes
                fd = os.open(path, os.O_RDONLY)
                try:
                    if nfc == 1 and len(pairs) == 1:  # straight into the output
                        _pread_exact(fd, path, pos, out[pairs[0][0]])
                        continue
                    # interleaved channels: through a small buffer that stays in cache, piece by piece
                    step = max(1, _SCRATCH_WORDS // nfc)
                    for a in range(0, count, step):
                        m = min(step, count - a)
                        words = _scratch_words(m * nfc)
                        _pread_exact(fd, path, pos + a * nfc * self._fmt.sample_bytes, words)
                        words = words.reshape(m, nfc)
                        for ch, slot in pairs:
                            out[ch, a:a + m] = words[:, slot]
                finally:
                    os.close(fd)
        return out.view(np.int16).reshape(self.num_channels, count, 2)

    def _copy_from_file(
        self, path: Path, offset: int, nfc: int, pairs: list[tuple[int, int]], start: int, count: int,
        outf: np.ndarray,
    ) -> None:
        """Map just the needed bytes of one file and convert its channels into ``outf``."""
        fmt = self._fmt
        stride = nfc * fmt.sample_bytes
        mm = np.memmap(path, dtype=fmt.component, mode="r", offset=offset + start * stride, shape=(count, nfc, 2))
        scale = np.float32(fmt.scale)
        for ch, slot in pairs:
            src = mm[:, slot, :]
            if fmt.offset:
                np.subtract(src, np.float32(fmt.offset), out=outf[ch], casting="unsafe")
                outf[ch] *= scale
            elif scale != 1.0:
                np.multiply(src, scale, out=outf[ch], casting="unsafe")
            else:
                np.copyto(outf[ch], src, casting="unsafe")
        # the mapping is released when ``mm`` goes out of scope here

    def chunks(
        self, chunk_len: int, overlap: int = 0, *, start: int = 0, stop: int | None = None
    ) -> Iterator[Chunk]:
        """Yield chunks of ``chunk_len`` samples; each repeats the last ``overlap`` samples of the one before.

        Chunk ``k`` covers samples ``start + k*(chunk_len-overlap)`` onwards; the last chunk is shorter
        and ends at ``stop`` (default: the end of the recording).  No chunk holds only repeated samples.
        """
        chunk_len = int(chunk_len)
        overlap = int(overlap)
        if chunk_len <= 0:
            raise UserError(f"chunk length must be positive, got {chunk_len}")
        if not 0 <= overlap < chunk_len:
            raise UserError(f"overlap must be in [0, chunk length {chunk_len}), got {overlap}")
        stop = self.num_samples if stop is None else min(int(stop), self.num_samples)
        pos = max(0, int(start))
        step = chunk_len - overlap
        first = True
        while pos < stop and (first or pos + overlap < stop):
            n = min(chunk_len, stop - pos)
            yield Chunk(pos, self.read(pos, n))
            first = False
            pos += step


_SCRATCH = threading.local()
_SCRATCH_WORDS = 1 << 16  # 256 kB: read_ci16's buffer for files with interleaved channels (stays in cache)


def _scratch_words(n: int) -> np.ndarray:
    """A reused uint32 buffer of ``n`` words (per thread): :meth:`Recording.read_ci16` reads the file into it."""
    buf = getattr(_SCRATCH, "words", None)
    if buf is None or buf.size < n:
        buf = _SCRATCH.words = np.empty(n, np.uint32)
    return buf[:n]


def _pread_exact(fd: int, path: Path, offset: int, buf: np.ndarray) -> None:
    """Fill the contiguous array ``buf`` with the bytes of ``path`` (open as ``fd``) from ``offset``; a file that
    ends early is a UserError."""
    view = memoryview(buf).cast("B")
    done = 0
    while done < view.nbytes:
        got = os.preadv(fd, [view[done:]], offset + done)
        if got <= 0:
            raise UserError(f"{path} ended after {offset + done} bytes, {view.nbytes - done} bytes short of the "
                            "samples asked for")
        done += got


def warn_truncated(message: str) -> None:
    """Issue the warning given when a truncated data file is read on request."""
    warnings.warn(message, TruncatedRecordingWarning, stacklevel=3)


class TruncatedRecordingWarning(UserWarning):
    """A data file was shorter than its metadata says and is being read up to its last whole sample."""


class SinglePolarizationWarning(UserWarning):
    """A recording is read from one polarization only (no X/Y partner, or a single-channel file)."""

"""SigMF recordings, reading (metadata via the ``sigmf`` package): checked metadata, one stream, one recording.

A recording with ``core:num_channels = 2`` carries X and Y interleaved per sample
(``X0 Y0 X1 Y1 ...``, each a complex I/Q pair); a single-channel recording is one
polarization (two of them make an X/Y pair: :mod:`heradecode.io.sigmf_pairs`).

Non-conforming datasets (``core:dataset`` naming a raw file beside the
metadata, with optional ``core:header_bytes`` / ``core:trailing_bytes``) are
read in place; this is what ``heradecode sigmf-wrap`` writes for raw captures.

Metadata rules (:func:`check_metadata`, pure, no file access).  First the whole object is
validated against SigMF's own JSON schema as shipped by sigmf-python (with ``core:version``
not required), so a field of the wrong type anywhere (``core:hw: 5``, a number for
``core:datetime``) or a missing required one is refused in one line naming the file and
field.  sigmf-python itself checks none of this on reading: ``SigMFFile`` overwrites
``core:version`` with its own and validates only when asked.  Then only heradecode's own
limits, each refused in one line naming the file and field:

* ``core:version`` absent (read as the current version, as sigmf-python does)
  or a SigMF 1.x version; another major version is refused;
* an extension in ``core:extensions`` marked ``optional: false`` must be one
  heradecode knows (:data:`KNOWN_EXTENSIONS`: its own, and those whose fields
  it only carries); optional ones are carried unread;
* ``core:datatype`` a complex type; ``core:sample_rate`` a finite number in
  1 .. 1e10 samples/s; ``core:num_channels`` 1 or 2;
* ``core:datetime`` an ISO-8601 text with a time of day (a bare date is refused, never
  taken as 1970); ``core:frequency`` finite, at most 1e12 Hz in magnitude, the same in
  every capture; captures contiguous;
* sample indices and byte counts (``sample_start``, ``sample_count``,
  ``header_bytes``, ``trailing_bytes``, ``offset``,
  ``heradecode:sample_count``) integers in 0 .. 2**63-1, so nothing sized
  from them can overflow or run long; annotations sorted by start.

The writers (:mod:`heradecode.io.sigmf_write`) record the total sample count as
``heradecode:sample_count`` so that a truncated copy of the data file is detected exactly.
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sigmf
from sigmf import schema as sigmf_schema
from sigmf.error import SigMFError

from heradecode.errors import UserError, reading
from heradecode.io.recording import (
    Annotation,
    ChannelSource,
    Recording,
    check_center_freq,
    check_sample_rate,
    format_utc,
    parse_iso_utc,
    parse_utc,
    sample_format,
    warn_truncated,
)


META_EXT = ".sigmf-meta"
DATA_EXT = ".sigmf-data"
COLLECTION_EXT = ".sigmf-collection"
ARCHIVE_EXT = ".sigmf"
SIGMF_EXTS = (META_EXT, DATA_EXT, COLLECTION_EXT)

SAMPLE_COUNT_KEY = "heradecode:sample_count"


# --------------------------------------------------------------------------- names
def strip_sigmf_ext(path: Path) -> Path:
    """``a/b.sigmf-meta`` → ``a/b``; names with dots (``..._16:24:20.35_0x``) are left intact."""
    name = path.name
    for ext in SIGMF_EXTS + (ARCHIVE_EXT,):
        if name.lower().endswith(ext):
            return path.with_name(name[: -len(ext)])
    return path


def is_sigmf_path(path: Path) -> bool:
    """True when the name ends in a SigMF extension."""
    return path.name.lower().endswith(SIGMF_EXTS + (ARCHIVE_EXT,))


def meta_path_of(path: Path) -> Path:
    """The metadata file of a SigMF recording given any of its names."""
    return strip_sigmf_ext(path).with_name(strip_sigmf_ext(path).name + META_EXT)


# --------------------------------------------------------------------------- metadata rules
KNOWN_EXTENSIONS = frozenset({"heradecode", "antenna", "capture_details", "signal", "traceability"})
"""Extensions a recording may require (``optional: false``): ours, and those whose fields are only carried."""

_MAX_INDEX = 2**63 - 1  # SigMF's bound on sample indices and byte counts (a signed 64-bit integer)
_VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)")
_SCHEMA_VALIDATOR: Any = None


@dataclass(frozen=True)
class SigmfMetadata:
    """What this tool uses from one SigMF metadata object, checked (see :func:`check_metadata`)."""

    datatype: str
    samp_rate: float  # samples/s
    num_channels: int
    center_freq_hz: float | None
    start_time: np.datetime64 | None
    capture_starts: tuple[int, ...]
    header_bytes: int
    trailing_bytes: int
    dataset: str | None
    declared_num_samples: int | None  # heradecode:sample_count
    annotations: tuple[Annotation, ...]
    annotations_end: int  # one past the last sample any annotation covers
    global_fields: dict[str, Any]


def _where(meta_path: Any, where: str, key: str) -> str:
    return f"{meta_path}: {where} {key}"


def _number(meta_path: Any, where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"{_where(meta_path, where, key)} must be a number, got {str(value)[:60]!r}")
    try:
        v = float(value)
    except OverflowError:
        v = float("inf")
    if not np.isfinite(v):
        raise UserError(f"{_where(meta_path, where, key)} must be a finite number, got {v!r}")
    return v


def _count(meta_path: Any, where: str, key: str, value: Any, default: int | None = 0) -> int | None:
    """A non-negative integer field below 2**63 (None/absent gives ``default``)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_INDEX:
        shown = value if isinstance(value, int) and value.bit_length() < 80 else str(value)[:40]
        raise UserError(
            f"{_where(meta_path, where, key)} must be a non-negative integer below 2**63, got {shown!r}"
        )
    return value


def check_version(meta_path: Any, glob: dict[str, Any], section: str = "global") -> None:
    version = glob.get("core:version")
    if version is None:  # sigmf-python reads such files as its own version too
        return
    m = _VERSION_RE.match(version) if isinstance(version, str) else None
    if m is None:
        raise UserError(
            f"{meta_path}: {section} core:version must be a version like \"1.2.0\", got {str(version)[:40]!r}"
        )
    if int(m.group(1)) != 1:
        raise UserError(
            f"{meta_path}: {section} core:version {version[:20]!r}: heradecode reads SigMF 1.x metadata only"
        )


def check_extensions(meta_path: Any, glob: dict[str, Any], section: str = "global") -> None:
    exts = glob.get("core:extensions")
    if exts is None:
        return
    if not isinstance(exts, list):
        raise UserError(f"{meta_path}: {section} core:extensions must be a list of extension objects")
    for i, ext in enumerate(exts):
        if not (isinstance(ext, dict) and isinstance(ext.get("name"), str) and isinstance(ext.get("version"), str)
                and isinstance(ext.get("optional"), bool)):
            raise UserError(
                f"{meta_path}: {section} core:extensions entry {i} must be an object with 'name' and 'version' "
                "strings and an 'optional' true/false"
            )
        if not ext["optional"] and ext["name"] not in KNOWN_EXTENSIONS:
            raise UserError(
                f"{meta_path}: the recording requires the SigMF extension {ext['name'][:40]!r} "
                f"(core:extensions, optional: false), which heradecode cannot read; it knows "
                f"{', '.join(sorted(KNOWN_EXTENSIONS))}"
            )


def _schema_validator() -> Any:
    """SigMF's JSON schema (shipped by sigmf-python) as a cached validator; core:version is not required."""
    global _SCHEMA_VALIDATOR
    if _SCHEMA_VALIDATOR is None:
        import jsonschema

        schema = copy.deepcopy(sigmf_schema.get_schema())
        glob = schema["properties"]["global"]
        glob["required"] = [k for k in glob.get("required", []) if k != "core:version"]
        cls = jsonschema.validators.validator_for(schema)
        _SCHEMA_VALIDATOR = cls(schema)
    return _SCHEMA_VALIDATOR


def _check_schema(meta_path: Any, meta: dict[str, Any]) -> None:
    """One line for the first place ``meta`` breaks SigMF's schema (after our own checks, so rarely reached)."""
    import jsonschema

    error = jsonschema.exceptions.best_match(_schema_validator().iter_errors(meta))
    if error is None:
        return
    parts = list(error.absolute_path)
    where = "top level"
    if parts:
        if parts[0] in ("captures", "annotations") and len(parts) > 1:
            where = f"{str(parts[0])[:-1]} {parts[1]} " + " ".join(str(p) for p in parts[2:])
        else:
            where = " ".join(str(p) for p in parts)
    if error.validator == "required":  # "'core:x' is a required property": say which field is missing, as we do
        missing = [k for k in error.validator_value if isinstance(error.instance, dict) and k not in error.instance]
        if missing:
            raise UserError(f"{meta_path}: {where.strip()} {missing[0]} is missing")
    text = " ".join(str(error.message).split())
    if len(text) > 120:
        text = text[:117] + "..."
    raise UserError(f"{meta_path}: not valid SigMF metadata: {where.strip()}: {text}")


def check_metadata(meta: Any, meta_path: str | Path = "<metadata>") -> SigmfMetadata:
    """Check a parsed SigMF metadata object against SigMF's schema and heradecode's rules; no file is touched.

    Returns what heradecode uses from it, or raises a one-line UserError naming ``meta_path`` and the field.
    ``meta`` itself is not modified.
    """
    if not isinstance(meta, dict) or not isinstance(meta.get("global"), dict):
        raise UserError(f"{meta_path}: not SigMF metadata (no 'global' object)")
    meta = dict(meta)
    for section in ("captures", "annotations"):
        items = meta.setdefault(section, [])
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            raise UserError(f"{meta_path}: '{section}' must be a list of objects")
    glob = meta["global"]
    # SigMF's own schema first (types and required fields everywhere); then only what heradecode adds: its limits
    _check_schema(meta_path, meta)
    check_version(meta_path, glob)
    check_extensions(meta_path, glob)
    datatype = glob.get("core:datatype")
    if datatype is None:
        raise UserError(f"{meta_path}: global core:datatype is missing")
    if not isinstance(datatype, str):
        raise UserError(f"{meta_path}: global core:datatype must be a string like \"ci16_le\", got {datatype!r}")
    if not datatype.lower().startswith("c"):
        raise UserError(
            f"{meta_path}: unsupported datatype {datatype[:20]!r}: only complex (I/Q) samples can be decoded"
        )
    try:
        fmt = sample_format(datatype)
    except UserError as exc:
        raise UserError(f"{meta_path}: {exc}") from None
    if "core:sample_rate" not in glob:
        raise UserError(f"{meta_path}: global core:sample_rate is missing")
    samp_rate = check_sample_rate(glob["core:sample_rate"], f"{meta_path}: global core:sample_rate")
    num_channels = glob.get("core:num_channels", 1)
    if isinstance(num_channels, bool) or not isinstance(num_channels, int) or num_channels < 1:
        raise UserError(
            f"{meta_path}: global core:num_channels must be a positive integer, got {str(num_channels)[:40]!r}"
        )
    if num_channels > 2:
        shown = num_channels if num_channels < 10**12 else "too many"
        raise UserError(
            f"{meta_path}: global core:num_channels is {shown}; only 1 or 2 (X, Y) channels are supported"
        )
    _count(meta_path, "global", "core:offset", glob.get("core:offset"))
    trailing = _count(meta_path, "global", "core:trailing_bytes", glob.get("core:trailing_bytes"))
    dataset = glob.get("core:dataset")
    if dataset is not None and (not isinstance(dataset, str) or not dataset or "/" in dataset or "\\" in dataset
                                or dataset in (".", "..") or "\0" in dataset
                                or len(dataset.encode("utf-8", "surrogatepass")) > 255):
        raise UserError(
            f"{meta_path}: global core:dataset must name a file beside the metadata, got {str(dataset)[:60]!r}"
        )
    declared = _count(meta_path, "global", SAMPLE_COUNT_KEY, glob.get(SAMPLE_COUNT_KEY), default=None)

    captures = meta["captures"]
    if not captures:
        raise UserError(f"{meta_path}: no capture segment (the captures list is empty)")
    starts = []
    for i, cap in enumerate(captures):
        s = cap.get("core:sample_start")
        if s is None:
            raise UserError(f"{meta_path}: capture {i} core:sample_start is missing")
        starts.append(_count(meta_path, f"capture {i}", "core:sample_start", s))
    if starts[0] != 0:
        raise UserError(f"{meta_path}: the first capture starts at sample {starts[0]}, not 0")
    if any(b <= a for a, b in zip(starts, starts[1:])):
        raise UserError(f"{meta_path}: capture sample_start values do not increase: {starts[:6]}")

    first = captures[0]
    center = first.get("core:frequency")
    center_hz = None if center is None else check_center_freq(center, f"{meta_path}: capture 0 core:frequency")
    times: list[np.datetime64 | None] = []
    for i, cap in enumerate(captures):
        if cap.get("core:datetime") is None:
            times.append(None)
            continue
        try:
            times.append(parse_iso_utc(cap["core:datetime"]))
        except UserError as exc:
            raise UserError(f"{meta_path}: capture {i} core:datetime {exc}") from None
    start_time = times[0]
    for i, cap in enumerate(captures[1:], 1):
        f = cap.get("core:frequency")
        if f is not None:
            f = check_center_freq(f, f"{meta_path}: capture {i} core:frequency")
        if f is not None and center_hz is not None and f != center_hz:
            raise UserError(
                f"{meta_path}: capture {i} retunes to {f:.0f} Hz (capture 0: {center_hz:.0f} Hz); "
                "recordings with several frequencies are not supported"
            )
        t = times[i]
        if t is not None and start_time is not None:
            expected_ns = starts[i] * 1e9 / samp_rate
            got_ns = int((t - start_time) // np.timedelta64(1, "ns"))
            if abs(got_ns - expected_ns) > max(1000, 1e9 / samp_rate):
                raise UserError(
                    f"{meta_path}: capture {i} datetime is {(got_ns - expected_ns) / 1e3:.1f} µs off continuous "
                    "sampling (a gap in the recording); recordings with gaps are not supported"
                )
        if cap.get("core:header_bytes"):
            raise UserError(f"{meta_path}: capture {i} has core:header_bytes; only a header before the "
                            "first capture is supported")
    header = _count(meta_path, "capture 0", "core:header_bytes", first.get("core:header_bytes"))

    annotations = []
    ann_end = 0
    previous = 0
    for i, a in enumerate(meta["annotations"]):
        s0 = a.get("core:sample_start")
        if s0 is None:
            raise UserError(f"{meta_path}: annotation {i} core:sample_start is missing")
        s0 = _count(meta_path, f"annotation {i}", "core:sample_start", s0)
        n = _count(meta_path, f"annotation {i}", "core:sample_count", a.get("core:sample_count"), default=None)
        if s0 < previous:
            raise UserError(
                f"{meta_path}: annotations are not sorted by core:sample_start (annotation {i} starts at {s0}, "
                f"before {previous})"
            )
        previous = s0
        ann_end = max(ann_end, s0 + (n or 0))
        label, comment = a.get("core:label"), a.get("core:comment")
        for key, text in (("core:label", label), ("core:comment", comment)):
            if text is not None and not isinstance(text, str):
                raise UserError(f"{meta_path}: annotation {i} {key} must be text, got {str(text)[:40]!r}")
        annotations.append(Annotation(s0, n, label, comment, dict(a)))

    return SigmfMetadata(
        datatype=fmt.name,
        samp_rate=samp_rate,
        num_channels=num_channels,
        center_freq_hz=center_hz,
        start_time=start_time,
        capture_starts=tuple(starts),  # type: ignore[arg-type]
        header_bytes=header,  # type: ignore[arg-type]
        trailing_bytes=trailing,  # type: ignore[arg-type]
        dataset=dataset,
        declared_num_samples=declared,
        annotations=tuple(annotations),
        annotations_end=ann_end,
        global_fields=dict(glob),
    )


def check_metadata_text(text: str | bytes, meta_path: str | Path = "<metadata>") -> SigmfMetadata:
    """:func:`check_metadata` on the text (or bytes) of a ``.sigmf-meta`` file; one-line UserError if bad."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise UserError(f"{meta_path}: not a SigMF metadata file (not UTF-8 text)") from None
    if text.startswith("\ufeff"):  # a byte-order mark some editors write; JSON itself forbids it
        text = text[1:]
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{meta_path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except (ValueError, RecursionError) as exc:  # integers of over 4300 digits; nesting too deep
        kind = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0][:80]
        raise UserError(f"{meta_path}: not usable JSON ({kind})") from None
    return check_metadata(meta, meta_path)


# --------------------------------------------------------------------------- one stream
@dataclass
class SigmfStream:
    """One SigMF recording's parsed metadata and its data file."""

    meta_path: Path
    data_path: Path
    datatype: str
    samp_rate: float
    num_channels: int
    center_freq_hz: float | None
    start_time: np.datetime64 | None
    offset_bytes: int
    num_samples: int  # whole samples present in the data file
    expected_num_samples: int  # what the metadata implies (>= num_samples if truncated)
    expected_reason: str
    partial_bytes: int
    annotations: tuple[Annotation, ...]
    global_fields: dict[str, Any]

    @property
    def truncated(self) -> bool:
        """True when the data file holds fewer samples (or a partial sample) than the metadata says."""
        return self.num_samples < self.expected_num_samples or self.partial_bytes > 0


def read_stream(meta_path: Path) -> SigmfStream:
    """Parse one SigMF metadata file and size its data file; UserError on missing or inconsistent fields."""
    meta_path = Path(meta_path)
    with reading(meta_path, "SigMF metadata file"):
        raw = meta_path.read_bytes()
    info = check_metadata_text(raw, meta_path)

    # data file
    try:
        data_path = sigmf.sigmffile.get_dataset_filename_from_metadata(meta_path, {"global": info.global_fields})
    except SigMFError as exc:
        raise UserError(f"{meta_path}: {exc}") from None
    except OSError as exc:  # a name the file system cannot hold
        raise UserError(f"{meta_path}: cannot look for the data file: {exc.strerror or exc}") from None
    if data_path is None:
        expected = strip_sigmf_ext(meta_path).with_name(strip_sigmf_ext(meta_path).name + DATA_EXT)
        raise UserError(f"{meta_path}: data file not found (expected {expected})")
    data_path = Path(data_path)
    header, trailing = info.header_bytes, info.trailing_bytes
    size = data_path.stat().st_size
    usable = size - header - trailing
    if usable < 0:
        raise UserError(
            f"{data_path}: {size} bytes, but the metadata skips {header} header and {trailing} trailing bytes"
        )
    stride = sample_format(info.datatype).sample_bytes * info.num_channels
    num_samples, partial = divmod(usable, stride)

    expected, reason = num_samples, ""
    declared = info.declared_num_samples
    if declared is not None:
        if declared > num_samples:
            expected, reason = declared, f"{SAMPLE_COUNT_KEY} = {declared}"
        elif declared < num_samples:
            warnings.warn(
                f"{data_path}: holds {num_samples} samples, more than the {declared} its metadata declares",
                stacklevel=3,
            )
    if info.annotations_end > expected:
        expected, reason = info.annotations_end, f"an annotation ends at sample {info.annotations_end}"
    last_start = info.capture_starts[-1]
    if last_start >= expected and last_start > 0:
        expected, reason = last_start + 1, f"a capture starts at sample {last_start}"
    if partial and expected == num_samples:
        reason = f"{partial} stray bytes after the last whole {stride}-byte sample"

    return SigmfStream(
        meta_path=meta_path,
        data_path=data_path,
        datatype=info.datatype,
        samp_rate=info.samp_rate,
        num_channels=info.num_channels,
        center_freq_hz=info.center_freq_hz,
        start_time=info.start_time,
        offset_bytes=header,
        num_samples=int(num_samples),
        expected_num_samples=int(expected),
        expected_reason=reason,
        partial_bytes=int(partial),
        annotations=info.annotations,
        global_fields=info.global_fields,
    )


def check_truncation(stream: SigmfStream, allow_truncated: bool) -> None:
    if not stream.truncated:
        return
    msg = (
        f"{stream.data_path.name} is truncated: it holds {stream.num_samples} whole samples "
        f"but the metadata says {stream.expected_num_samples} ({stream.expected_reason})"
    )
    if not allow_truncated:
        raise UserError(msg + "; open_recording(…, allow_truncated=True) reads what is there")
    warn_truncated(msg + f"; reading the {stream.num_samples} whole samples")


# --------------------------------------------------------------------------- assembling
def resolve_time_and_freq(
    streams: list[SigmfStream], center_freq_hz: float | None, start_time: Any, samp_rate: float | None
) -> tuple[float, np.datetime64, float]:
    s0 = streams[0]
    rate = s0.samp_rate
    if samp_rate is not None and float(samp_rate) != rate:
        raise UserError(
            f"{s0.meta_path.name}: the metadata says {rate:g} samples/s but {float(samp_rate):g} was given"
        )
    if center_freq_hz is not None:
        freq = float(center_freq_hz)
        if s0.center_freq_hz is not None and s0.center_freq_hz != freq:
            warnings.warn(
                f"{s0.meta_path.name}: using the given centre frequency {freq:.0f} Hz instead of the "
                f"metadata's {s0.center_freq_hz:.0f} Hz",
                stacklevel=3,
            )
    elif s0.center_freq_hz is None:
        raise UserError(
            f"{s0.meta_path}: capture 0 core:frequency (centre frequency) is missing; give it with --center-freq"
        )
    else:
        freq = s0.center_freq_hz
    if start_time is not None:
        t0 = parse_utc(start_time)
        if s0.start_time is not None and s0.start_time != t0:
            warnings.warn(
                f"{s0.meta_path.name}: using the given start time {format_utc(t0)} instead of the "
                f"metadata's {format_utc(s0.start_time)}",
                stacklevel=3,
            )
    elif s0.start_time is None:
        raise UserError(
            f"{s0.meta_path}: capture 0 core:datetime (start time) is missing; give it with --start-time"
        )
    else:
        t0 = s0.start_time
    return freq, t0, rate


def open_single(
    meta_path: Path,
    *,
    samp_rate: float | None = None,
    center_freq_hz: float | None = None,
    start_time: Any = None,
    allow_truncated: bool = False,
    channel_name: str | None = None,
) -> Recording:
    """Open one SigMF recording (1 or 2 channels)."""
    s = read_stream(meta_path)
    check_truncation(s, allow_truncated)
    freq, t0, rate = resolve_time_and_freq([s], center_freq_hz, start_time, samp_rate)
    sources = [ChannelSource(s.data_path, s.offset_bytes, s.num_channels, c) for c in range(s.num_channels)]
    names = ("X", "Y") if s.num_channels == 2 else ((channel_name,) if channel_name else None)
    return Recording(
        sources=sources,
        datatype=s.datatype,
        samp_rate=rate,
        center_freq_hz=freq,
        start_time=t0,
        num_samples=s.num_samples,
        channel_names=names,
        annotations=s.annotations,
        metadata=s.global_fields,
        meta_paths=(s.meta_path,),
        truncated=s.truncated,
        expected_num_samples=s.expected_num_samples,
    )

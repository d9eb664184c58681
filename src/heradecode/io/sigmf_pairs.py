"""SigMF X/Y pairs: two single-channel recordings as the two polarizations of one recording.

They are matched by a ``.sigmf-collection`` (:func:`read_collection`) or by the ``_0x`` / ``_0y``
name suffixes of the Allen Telescope Array captures (the digit is the antenna slot, the letter
the polarization: :func:`polarization_of`, :func:`partner_of`), and must agree on format,
sample rate, centre frequency and start time (:func:`open_pair`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import sigmf
from sigmf.error import SigMFError

from heradecode.errors import UserError, reading
from heradecode.io.recording import ChannelSource, Recording, format_utc, warn_truncated
from heradecode.io.sigmf_read import (
    META_EXT,
    check_extensions,
    check_truncation,
    check_version,
    meta_path_of,
    read_stream,
    resolve_time_and_freq,
    strip_sigmf_ext,
)


_POL_RE = re.compile(r"^(?P<base>.*_\d*)(?P<pol>[xXyY])$")


def polarization_of(path: Path) -> tuple[str, str] | None:
    """``('…_0', 'X')`` for a name ending ``_0x`` (any SigMF extension), else None."""
    m = _POL_RE.match(strip_sigmf_ext(path).name)
    if m is None:
        return None
    return m.group("base"), m.group("pol").upper()


def partner_of(path: Path) -> Path:
    """The metadata path of the other polarization of an ``_0x``/``_0y`` recording."""
    stem = strip_sigmf_ext(path)
    pol = polarization_of(path)
    assert pol is not None
    base, p = pol
    letter = stem.name[-1]
    other = {"x": "y", "y": "x", "X": "Y", "Y": "X"}[letter]
    return stem.with_name(base + other + META_EXT)


def open_pair(
    meta_x: Path,
    meta_y: Path,
    *,
    samp_rate: float | None = None,
    center_freq_hz: float | None = None,
    start_time: Any = None,
    allow_truncated: bool = False,
) -> Recording:
    """Open two single-channel SigMF recordings as channels X and Y; they must agree on format and timing."""
    sx, sy = read_stream(meta_x), read_stream(meta_y)
    for s in (sx, sy):
        if s.num_channels != 1:
            raise UserError(
                f"{s.meta_path.name} has {s.num_channels} channels; an X/Y pair needs two single-channel recordings"
            )
    if sx.meta_path.resolve() == sy.meta_path.resolve():
        raise UserError(f"the X and Y recordings are the same file: {sx.meta_path}")
    if sx.samp_rate != sy.samp_rate:
        raise UserError(
            f"X and Y recordings have different sample rates: {sx.samp_rate:g} ({sx.meta_path.name}) vs "
            f"{sy.samp_rate:g} ({sy.meta_path.name}) samples/s"
        )
    if sx.datatype != sy.datatype:
        raise UserError(
            f"X and Y recordings have different datatypes: {sx.datatype} ({sx.meta_path.name}) vs "
            f"{sy.datatype} ({sy.meta_path.name})"
        )
    if sx.center_freq_hz is not None and sy.center_freq_hz is not None and sx.center_freq_hz != sy.center_freq_hz:
        raise UserError(
            f"X and Y recordings have different centre frequencies: {sx.center_freq_hz:.0f} vs "
            f"{sy.center_freq_hz:.0f} Hz"
        )
    if sx.start_time is not None and sy.start_time is not None:
        dt_ns = abs(int((sx.start_time - sy.start_time) // np.timedelta64(1, "ns")))
        if dt_ns > 1e9 / sx.samp_rate / 2:
            raise UserError(
                f"X and Y recordings start at different times: {format_utc(sx.start_time)} vs "
                f"{format_utc(sy.start_time)} ({dt_ns / 1e3:.3f} µs apart)"
            )
    for s in (sx, sy):
        check_truncation(s, allow_truncated)
    n = min(sx.num_samples, sy.num_samples)
    if sx.num_samples != sy.num_samples:
        msg = (
            f"X and Y recordings have different lengths: {sx.num_samples} samples ({sx.data_path.name}) vs "
            f"{sy.num_samples} ({sy.data_path.name})"
        )
        if not allow_truncated:
            raise UserError(msg + "; open_recording(…, allow_truncated=True) reads the common part")
        warn_truncated(msg + f"; reading the first {n} samples of both")
    if sx.center_freq_hz is None and sy.center_freq_hz is not None:
        sx.center_freq_hz = sy.center_freq_hz
    if sx.start_time is None and sy.start_time is not None:
        sx.start_time = sy.start_time
    freq, t0, rate = resolve_time_and_freq([sx, sy], center_freq_hz, start_time, samp_rate)
    return Recording(
        sources=[
            ChannelSource(sx.data_path, sx.offset_bytes, 1, 0),
            ChannelSource(sy.data_path, sy.offset_bytes, 1, 0),
        ],
        datatype=sx.datatype,
        samp_rate=rate,
        center_freq_hz=freq,
        start_time=t0,
        num_samples=n,
        channel_names=("X", "Y"),
        annotations=sx.annotations or sy.annotations,
        metadata=sx.global_fields,
        meta_paths=(sx.meta_path, sy.meta_path),
        truncated=sx.truncated or sy.truncated or sx.num_samples != sy.num_samples,
        expected_num_samples=max(sx.expected_num_samples, sy.expected_num_samples),
    )


def order_pair(a: Path, b: Path) -> tuple[Path, Path]:
    """Put two recordings in X, Y order by their ``_0x``/``_0y`` suffixes (given order if unmarked)."""
    pa, pb = polarization_of(a), polarization_of(b)
    if pa and pb and pa[1] != pb[1]:
        return (a, b) if pa[1] == "X" else (b, a)
    if pa and pb and pa[1] == pb[1]:
        raise UserError(f"both recordings are {pa[1]} polarization: {a.name}, {b.name}")
    return a, b


def read_collection(path: Path) -> list[Path]:
    """Metadata paths of the streams of a ``.sigmf-collection`` file, in X, Y order."""
    path = Path(path)
    with reading(path, "SigMF collection"):
        raw = path.read_bytes()
    try:
        meta = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, too deep, integers too long
        text = "nested too deeply" if isinstance(exc, RecursionError) else " ".join(str(exc).split())[:100]
        raise UserError(f"{path}: not a valid SigMF collection ({text})") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("collection"), dict):
        raise UserError(f"{path}: not a SigMF collection (no 'collection' object)")
    check_version(path, meta["collection"], "collection")
    check_extensions(path, meta["collection"], "collection")
    try:
        coll = sigmf.SigMFCollection(metadata=meta, base_path=path.parent, skip_checksums=True)
        names = coll.get_stream_names()
    except (SigMFError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"{path}: invalid SigMF collection: {exc}") from None
    if not names:
        raise UserError(f"{path}: the collection lists no streams (core:streams)")
    if len(names) > 2:
        raise UserError(f"{path}: the collection lists {len(names)} streams; only an X/Y pair is supported")
    metas = [meta_path_of(path.parent / str(n)) for n in names]
    for m in metas:
        if not m.is_file():
            raise UserError(f"{path}: stream metadata not found: {m}")
    if len(metas) == 2:
        return list(order_pair(metas[0], metas[1]))
    return metas

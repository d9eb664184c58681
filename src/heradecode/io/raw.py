"""Raw IQ captures without metadata: interleaved I/Q components (int16 little-endian by default).

One file is one channel; two files are the X and Y polarizations (put in X, Y
order by ``_0x``/``_0y`` name suffixes when present, else as given).  One
``…_0x`` file named alone is paired with the ``…_0y`` beside it (and the other
way round) by :func:`heradecode.io.open_recording`, as SigMF pairs are.  The
sample rate, centre frequency and start time must be given, since the files
carry none; ``heradecode sigmf-wrap`` records them once as SigMF metadata.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from heradecode.errors import UserError
from heradecode.io.recording import ChannelSource, Recording, parse_utc, sample_format, warn_truncated

_POL_RE = re.compile(r"_\d*([xXyY])$")
_EXT_RE = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,7}$")
_OTHER = {"x": "y", "y": "x", "X": "Y", "Y": "X"}


def raw_stem(path: Path) -> tuple[str, str]:
    """(name without its extension, the extension with its dot or ''); only a short word after the last dot
    (``.raw``, ``.bin``, ``.cs16``) is an extension, so ``HERA_2024-10-07T16:24:20.353705_0x`` has none."""
    name = Path(path).name
    m = _EXT_RE.search(name)
    return (name[: m.start()], m.group()) if m and m.start() > 0 else (name, "")


def _split_polarization(path: Path) -> tuple[str, str, str] | None:
    """(name before the letter, the letter, the extension) for ``…_0x``/``…_0y`` names, else None."""
    stem, ext = raw_stem(path)
    m = _POL_RE.search(stem)
    if m is None:
        return None
    return stem[: m.start(1)], m.group(1), ext


def raw_polarization(path: Path) -> str | None:
    """'X' or 'Y' when the file name ends in ``_0x``/``_0y`` (before an optional extension)."""
    parts = _split_polarization(Path(path))
    return parts[1].upper() if parts else None


def raw_partner_of(path: Path) -> Path | None:
    """The raw file of the other polarization (``…_0y`` for ``…_0x``, same extension), or None if unmarked."""
    parts = _split_polarization(Path(path))
    if parts is None:
        return None
    head, letter, ext = parts
    return Path(path).with_name(head + _OTHER[letter] + ext)


def open_raw(
    paths: list[Path],
    *,
    samp_rate: float | None,
    center_freq_hz: float | None,
    start_time: Any,
    datatype: str = "ci16_le",
    allow_truncated: bool = False,
) -> Recording:
    """Open one (single channel) or two (X, Y) raw interleaved-I/Q files."""
    paths = [Path(p) for p in paths]
    names = ", ".join(p.name for p in paths)
    missing = [
        opt
        for opt, val in (("--samp-rate", samp_rate), ("--center-freq", center_freq_hz), ("--start-time", start_time))
        if val is None
    ]
    if missing:
        raise UserError(
            f"{names}: raw data without SigMF metadata needs {', '.join(missing)} "
            "(or wrap it once with 'heradecode sigmf-wrap')"
        )
    if len(paths) not in (1, 2):
        raise UserError(f"give one raw file or an X/Y pair of raw files, not {len(paths)}")
    fmt = sample_format(datatype)
    if len(paths) == 2:
        pols = [raw_polarization(p) for p in paths]
        if pols[0] and pols[1]:
            if pols[0] == pols[1]:
                raise UserError(f"both raw files are {pols[0]} polarization: {names}")
            if pols[0] == "Y":
                paths = paths[::-1]
        if paths[0].resolve() == paths[1].resolve():
            raise UserError(f"the X and Y raw files are the same file: {paths[0]}")
    counts = []
    for p in paths:
        if not p.is_file():
            raise UserError(f"raw data file not found: {p}")
        n, partial = divmod(p.stat().st_size, fmt.sample_bytes)
        if partial:
            msg = (
                f"{p.name} is truncated: {p.stat().st_size} bytes is not a whole number of "
                f"{fmt.sample_bytes}-byte {fmt.name} samples ({n} whole samples + {partial} bytes)"
            )
            if not allow_truncated:
                raise UserError(msg + "; open_recording(…, allow_truncated=True) reads the whole samples")
            warn_truncated(msg + f"; reading the {n} whole samples")
        counts.append(n)
    n = min(counts)
    if len(counts) == 2 and counts[0] != counts[1]:
        msg = (
            f"X and Y raw files have different lengths: {counts[0]} samples ({paths[0].name}) vs "
            f"{counts[1]} ({paths[1].name})"
        )
        if not allow_truncated:
            raise UserError(msg + "; open_recording(…, allow_truncated=True) reads the common part")
        warn_truncated(msg + f"; reading the first {n} samples of both")
    return Recording(
        sources=[ChannelSource(p, 0, 1, 0) for p in paths],
        datatype=fmt.name,
        samp_rate=float(samp_rate),  # type: ignore[arg-type]
        center_freq_hz=float(center_freq_hz),  # type: ignore[arg-type]
        start_time=parse_utc(start_time),
        num_samples=n,
        channel_names=("X", "Y") if len(paths) == 2 else ((raw_polarization(paths[0]) or "ch0"),),
        truncated=len(set(counts)) > 1 or any(p.stat().st_size % fmt.sample_bytes for p in paths),
        expected_num_samples=max(counts),
    )

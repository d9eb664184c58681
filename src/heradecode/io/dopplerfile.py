"""Doppler profile files: one ``unix_time hz`` pair per line, as gr-satellites reads them.

``hz`` is the frequency offset of the received carrier from the nominal
downlink frequency (positive when the spacecraft approaches); ``unix_time`` is
in seconds.  Rules for a file:

* UTF-8 or ASCII text (a leading byte-order mark is skipped; UTF-16 is refused
  with a hint); ``\n``, ``\r\n`` or ``\r`` line ends;
* empty lines and lines starting with ``#`` are ignored; the two numbers are
  separated by spaces, tabs or a comma; further columns are ignored;
* every value is finite; times lie in 1678..2261 (``|t| <= 9.2e9`` s, the
  nanosecond time-stamp range), Doppler magnitudes are at most 1 GHz, and times
  increase strictly from line to line; at least two points;
* a line longer than 4096 characters is refused without being read whole.

Each bad line is one UserError naming the file and the line number.  The file
is streamed line by line into packed arrays (16 bytes per point), so a long
profile costs no more than its values.
"""

from __future__ import annotations

import io
import math
import os
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from heradecode.errors import UserError, reading

MAX_LINE_CHARS = 4096
"""Longest line read (characters)."""
MAX_ABS_UNIX_TIME_S = 9.2e9
"""Largest time magnitude accepted (UNIX s): the datetime64[ns] range, years 1678..2261."""
MAX_ABS_DOPPLER_HZ = 1e9
"""Largest Doppler magnitude accepted (Hz)."""


@dataclass(frozen=True)
class DopplerProfile:
    """Doppler offset (Hz) against UNIX time (s), linearly interpolated between points."""

    unix_time: np.ndarray
    freq_hz: np.ndarray

    def __post_init__(self) -> None:
        t = np.asarray(self.unix_time, dtype=np.float64)
        f = np.asarray(self.freq_hz, dtype=np.float64)
        if t.ndim != 1 or t.shape != f.shape or t.size < 2:
            raise UserError("a Doppler profile needs at least two (unix_time, hz) points")
        if not np.all(np.isfinite(t)) or not np.all(np.isfinite(f)):
            raise UserError("the Doppler profile holds NaN or infinite values")
        if np.any(np.diff(t) <= 0):
            raise UserError("Doppler profile times must increase strictly")
        object.__setattr__(self, "unix_time", t)
        object.__setattr__(self, "freq_hz", f)

    @property
    def start(self) -> float:
        """First time covered (UNIX s)."""
        return float(self.unix_time[0])

    @property
    def end(self) -> float:
        """Last time covered (UNIX s)."""
        return float(self.unix_time[-1])

    def covers(self, t0_unix: float, t1_unix: float) -> bool:
        """True when [t0, t1] lies within the profile."""
        return self.start <= t0_unix and t1_unix <= self.end

    def freq_at(self, unix_time: np.ndarray | float) -> np.ndarray:
        """Doppler offset (Hz) at the given UNIX times; held constant beyond the ends."""
        return np.interp(unix_time, self.unix_time, self.freq_hz)

    def shifted(self, offset_hz: float) -> "DopplerProfile":
        """The same profile with a constant frequency offset added."""
        return DopplerProfile(self.unix_time, self.freq_hz + offset_hz)

    def write(self, path: str | Path) -> None:
        """Write as ``unix_time hz`` lines."""
        with open(path, "w", encoding="ascii") as fh:
            for t, f in zip(self.unix_time, self.freq_hz):
                fh.write(f"{t:.7f} {f:.9f}\n")


def _parse_stream(fh: IO[str], source: str) -> DopplerProfile:
    """Read ``unix_time hz`` lines from a text stream opened with universal newlines."""
    times = array("d")
    freqs = array("d")
    previous = -math.inf
    lineno = 0
    while True:
        line = fh.readline(MAX_LINE_CHARS + 1)
        if not line:
            break
        lineno += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
            raise UserError(f"{source}:{lineno}: line longer than {MAX_LINE_CHARS} characters; not a Doppler file")
        text = line.strip()
        if lineno == 1:
            text = text.lstrip("\ufeff").strip()
        if not text or text.startswith("#"):
            continue
        parts = text.replace(",", " ").split()
        if len(parts) < 2:
            raise UserError(f"{source}:{lineno}: expected 'unix_time hz', got {text[:60]!r}")
        try:
            t, f = float(parts[0]), float(parts[1])
        except ValueError:
            raise UserError(f"{source}:{lineno}: not numbers: {text[:60]!r}") from None
        if not (math.isfinite(t) and math.isfinite(f)):
            raise UserError(f"{source}:{lineno}: value not finite: {text[:60]!r}")
        if abs(t) > MAX_ABS_UNIX_TIME_S:
            raise UserError(f"{source}:{lineno}: {t:g} is not a UNIX time in seconds (years 1678..2261)")
        if abs(f) > MAX_ABS_DOPPLER_HZ:
            raise UserError(
                f"{source}:{lineno}: a Doppler of {f:g} Hz is implausible (magnitude at most {MAX_ABS_DOPPLER_HZ:g} Hz)"
            )
        if t <= previous:
            raise UserError(
                f"{source}:{lineno}: time {parts[0][:30]} does not increase (previous point: {previous!r}); "
                "times must increase strictly"
            )
        previous = t
        times.append(t)
        freqs.append(f)
    if len(times) < 2:
        raise UserError(f"{source}: a Doppler file needs at least two 'unix_time hz' lines, found {len(times)}")
    return DopplerProfile(np.frombuffer(times, dtype=np.float64).copy(), np.frombuffer(freqs, dtype=np.float64).copy())


def _check_not_utf16(head: bytes, source: str) -> None:
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise UserError(f"{source}: UTF-16 text; save the Doppler file as UTF-8 or ASCII")


def parse_doppler_text(text: str | bytes, source: str = "<text>") -> DopplerProfile:
    """A Doppler profile from the contents of a ``unix_time hz`` file (text or bytes); UserError if bad.

    ``source`` names the input in messages (``source:line: …``).
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        data = bytes(text)
        _check_not_utf16(data, source)
        fh: IO[str] = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", errors="replace", newline=None)
    elif isinstance(text, str):
        fh = io.StringIO(text, newline=None)
    else:
        raise UserError(f"{source}: a Doppler profile must be text or bytes, not {type(text).__name__}")
    return _parse_stream(fh, source)


def read_doppler_profile(source: str | os.PathLike | bytes) -> DopplerProfile:
    """Read a ``unix_time hz`` file (a path; bytes are taken as its contents); UserError naming the bad line."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return parse_doppler_text(source, "<bytes>")
    path = Path(source)
    if path.is_dir():
        raise UserError(f"the Doppler file {path} is a directory; give the profile file inside it")
    with reading(path, "Doppler file"), open(path, "rb") as raw:
        _check_not_utf16(raw.read(2), str(path))
        raw.seek(0)
        with io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline=None) as fh:
            return _parse_stream(fh, str(path))

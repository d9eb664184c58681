"""Doppler profile files: one ``unix_time hz`` pair per line, as gr-satellites reads them.

``hz`` is the frequency offset of the received carrier from the nominal
downlink frequency (positive when the spacecraft approaches).  Lines that are
empty or start with ``#`` are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heradecode.errors import UserError


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


def read_doppler_profile(path: str | Path) -> DopplerProfile:
    """Read a ``unix_time hz`` text file; raise UserError with the line number on bad lines."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"Doppler file not found: {path}")
    times: list[float] = []
    freqs: list[float] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            parts = text.replace(",", " ").split()
            if len(parts) < 2:
                raise UserError(f"{path}:{lineno}: expected 'unix_time hz', got {text[:60]!r}")
            try:
                times.append(float(parts[0]))
                freqs.append(float(parts[1]))
            except ValueError:
                raise UserError(f"{path}:{lineno}: not numbers: {text[:60]!r}") from None
    if len(times) < 2:
        raise UserError(f"{path}: a Doppler file needs at least two 'unix_time hz' lines")
    try:
        return DopplerProfile(np.array(times), np.array(freqs))
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None

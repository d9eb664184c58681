"""Helpers of the io tests: small recordings written by hand (independently of the simulator)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heradecode.io.sigmf_write import write_meta

START = "2024-10-07T16:24:20.123456789Z"
FREQ = 8435.75e6
RATE = 6_144_000

_NP = {"ci8": ("i1", 128.0), "ci16_le": ("<i2", 32768.0), "ci16_be": (">i2", 32768.0),
       "ci32_le": ("<i4", 2.0**31), "cf32_le": ("<f4", 1.0), "cf64_le": ("<f8", 1.0), "cu8": ("u1", 128.0)}


def components(datatype: str, n: int, channels: int, seed: int = 0) -> np.ndarray:
    """Random on-disk components, shape (n, channels, 2)."""
    rng = np.random.default_rng(seed)
    dt, _ = _NP[datatype]
    if datatype.startswith("cf"):
        return rng.standard_normal((n, channels, 2)).astype(dt)
    info = np.iinfo(np.dtype(dt))
    return rng.integers(info.min, info.max, (n, channels, 2), endpoint=True).astype(dt)


def expected_complex(datatype: str, comps: np.ndarray) -> np.ndarray:
    """What a reader must return for these components: complex64, shape (channels, n)."""
    _, scale = _NP[datatype]
    c = comps.astype(np.float64)
    if datatype == "cu8":
        c = c - 128.0
    c = c / scale
    return (c[..., 0] + 1j * c[..., 1]).T.astype(np.complex64)


def write_recording(
    base: Path, comps: np.ndarray, datatype: str, *, start=START, rate=RATE, freq=FREQ, num_samples=None, **kw
) -> Path:
    """Write ``base.sigmf-data`` and a valid ``base.sigmf-meta``; return the meta path."""
    comps.tofile(base.with_name(base.name + ".sigmf-data"))
    return write_meta(
        base, datatype=datatype, samp_rate=rate, num_channels=comps.shape[1], center_freq_hz=freq,
        start_time=start, num_samples=comps.shape[0] if num_samples is None else num_samples, **kw,
    )

"""Shared helpers of the radio-science tests: small simulated recordings with a known Doppler, decoded."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heradecode.io import open_recording
from heradecode.io.dopplerfile import DopplerProfile
from heradecode.products.radio_science import PhaseTrack
from heradecode.receiver import ReceiverConfig, decode_recording
from heradecode.sim import SimParams, simulate

START = "2024-10-07T16:40:00Z"
START_UNIX = float(np.datetime64(START.rstrip("Z"), "ns").astype(np.int64)) / 1e9
DOPPLER_HZ = -27000.0  #: Doppler at START (Hz)
RATE_HZ_S = 2.0  #: Doppler rate (Hz/s)


def true_doppler_hz(unix_time: np.ndarray) -> np.ndarray:
    """The simulated Doppler (Hz, received minus nominal) at UNIX times."""
    return DOPPLER_HZ + RATE_HZ_S * (np.asarray(unix_time) - START_UNIX)


def doppler_points(duration_s: float) -> list[tuple[float, float]]:
    """The simulated profile as (unix_time, Hz) points, linear, covering the recording with margin."""
    t = np.array([START_UNIX - 2.0, START_UNIX + duration_s + 2.0])
    return [(float(a), float(b)) for a, b in zip(t, true_doppler_hz(t))]


def simulate_low(path: Path, *, duration_s: float = 20.0, ebn0_db: float = 3.0, seed: int = 3,
                 fades=None, samp_rate: float = 256e3) -> SimParams:
    """A low-rate (60.2 kbaud) cf32 recording with a linear Doppler ramp, written at ``path``."""
    params = SimParams.preset("low", samp_rate=samp_rate, duration_s=duration_s, start_time=START,
                              ebn0_db=ebn0_db, doppler=doppler_points(duration_s), datatype="cf32_le",
                              seed=seed, fades=fades)
    simulate(params, path)
    return params


def decode_track(meta_path: Path, mode: str = "low", profile_error_hz: float = 3.0) -> PhaseTrack:
    """Decode a recording with the true Doppler profile shifted by ``profile_error_hz``; the phase track."""
    rec = open_recording(meta_path)
    pts = np.array(doppler_points(rec.duration_s + 5.0))
    prof = DopplerProfile(pts[:, 0], pts[:, 1] + profile_error_hz)
    rows = [tk for _, tk in decode_recording(rec, ReceiverConfig(mode=mode), doppler=prof)]
    return PhaseTrack.from_rows(np.concatenate(rows))

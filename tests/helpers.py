"""Shared test helpers: paths to the data bundled in the repository, golden frame lists."""

import hashlib
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
HERA_DIR = REPO / "recordings" / "hera"
LOW_1 = HERA_DIR / "hera_low_rate_frames_2024_10_07_16_24_20.u8"
LOW_2 = HERA_DIR / "hera_low_rate_frames_2024_10_07_16_25_23.u8"
HIGH = HERA_DIR / "hera_high_rate_frames_2024_10_07_17_06_31.u8"
REAL_FRAME_FILES = (LOW_1, LOW_2, HIGH)
HERA_DOPPLER = HERA_DIR / "hera_doppler.txt"
SIM_DIR = REPO / "recordings" / "sim"


def golden(name: str) -> list[str]:
    """sha256 of each frame a correct decoder must return from archived recording ``name``, in order."""
    lines = (SIM_DIR / f"{name}.golden.txt").read_text().splitlines()
    return [ln.split()[2] for ln in lines if ln and not ln.startswith("#")]


def frame_hashes(data: bytes, frame_length: int = 1113) -> list[str]:
    """sha256 of each frame of a frames.u8 file's content."""
    return [hashlib.sha256(data[i:i + frame_length]).hexdigest() for i in range(0, len(data), frame_length)]

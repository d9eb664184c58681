"""Shared fixtures: paths to the data bundled in the repository."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HERA_DIR = REPO / "recordings" / "hera"
LOW_1 = HERA_DIR / "hera_low_rate_frames_2024_10_07_16_24_20.u8"
LOW_2 = HERA_DIR / "hera_low_rate_frames_2024_10_07_16_25_23.u8"
HIGH = HERA_DIR / "hera_high_rate_frames_2024_10_07_17_06_31.u8"
REAL_FRAME_FILES = (LOW_1, LOW_2, HIGH)
HERA_DOPPLER = HERA_DIR / "hera_doppler.txt"


@pytest.fixture(scope="session")
def real_frame_files():
    """The three real launch-day frame files (1113-octet frames, no FECF)."""
    return REAL_FRAME_FILES

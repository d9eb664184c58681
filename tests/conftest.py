"""Shared fixtures (helpers are in tests/helpers.py)."""

import pytest

from tests.helpers import REAL_FRAME_FILES


@pytest.fixture(scope="session")
def real_frame_files():
    """The three real launch-day frame files (1113-octet frames, no FECF)."""
    return REAL_FRAME_FILES

"""Fixtures of the io tests (helpers are in tests/io/helpers.py)."""

import pytest

from tests.io.helpers import components, write_recording


@pytest.fixture
def two_channel(tmp_path):
    """A 2-channel ci16_le recording of 1000 samples and its components."""
    comps = components("ci16_le", 1000, 2, seed=1)
    meta = write_recording(tmp_path / "rec", comps, "ci16_le")
    return meta, comps

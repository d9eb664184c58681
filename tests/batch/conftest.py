"""Fixtures of the batch tests: the input folder and one local-pool batch over it (shared by the tests)."""

import pytest

from heradecode.cli import main
from tests.batch.helpers import make_inputs, make_slow_inputs


@pytest.fixture(scope="session")
def batch_inputs(tmp_path_factory):
    """The archived recordings, a long one (two segments), a corrupt one and a noise-only one."""
    return make_inputs(tmp_path_factory.mktemp("batch_inputs"))


@pytest.fixture(scope="session")
def slow_inputs(tmp_path_factory):
    """The archived recordings and one long enough to be still decoding when a test interrupts the batch."""
    return make_slow_inputs(tmp_path_factory.mktemp("slow_inputs"))


@pytest.fixture(scope="session")
def local_batch(batch_inputs, tmp_path_factory):
    """(exit code, output folder) of ``heradecode batch`` over ``batch_inputs`` on a local pool of two."""
    out = tmp_path_factory.mktemp("local_batch") / "out"
    rc = main(["batch", str(batch_inputs), "--out", str(out), "--workers", "2", "--segment-s", "2", "--quiet"])
    return rc, out

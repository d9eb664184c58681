"""Fixtures of the web tests: a PostgreSQL 15 server for the matrix on PostgreSQL."""

import pytest

from heradecode.archive.db import dispose_engines
from tests.archive.helpers import start_postgres_or_skip


@pytest.fixture(scope="session")
def postgres():
    server = start_postgres_or_skip()
    yield server
    dispose_engines()
    server.stop()

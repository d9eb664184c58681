"""Fixtures of the archive tests: both catalogue back-ends (SQLite, a real PostgreSQL 15)."""

import pytest

from heradecode.archive.db import dispose_engines
from tests.archive.helpers import new_archive, start_postgres_or_skip


@pytest.fixture(scope="session")
def postgres():
    server = start_postgres_or_skip()
    yield server
    dispose_engines()
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    """None (SQLite in the archive folder) or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
    else:
        yield request.getfixturevalue("postgres").new_database()
    dispose_engines()  # no pooled connections left behind between tests


@pytest.fixture
def archive(tmp_path, db_url):
    """An initialised, empty archive folder on the parametrized back-end: (folder, db_url)."""
    return new_archive(tmp_path, db_url), db_url

"""Where the catalogue lives and how it is opened: SQLite in the archive folder or PostgreSQL.

An archive is a folder holding ``store/`` (the content-addressed files), ``secret.key`` (the
server's token-signing key) and, unless ``--db`` names another database, ``catalogue.sqlite``.
The schema is created and upgraded by Alembic migrations shipped in
``heradecode/archive/migrations`` (:func:`migrate`).

SQLite is opened in WAL mode with a 60 s busy timeout.  Write transactions (:func:`writer`) start
with ``BEGIN IMMEDIATE``, so concurrent writers (two ingests at once) queue for the write lock
instead of failing half-way; reads start a deferred transaction and never wait for a writer.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine

from heradecode.errors import UserError

ARCHIVE_ENV = "HERADECODE_ARCHIVE"
DB_ENV = "HERADECODE_ARCHIVE_DB"
CATALOGUE_NAME = "catalogue.sqlite"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_engines: dict[str, Engine] = {}


def archive_path(archive_dir: str | Path | None) -> Path:
    """The archive folder: the argument, else $HERADECODE_ARCHIVE; a UserError when neither is set."""
    if archive_dir is None:
        archive_dir = os.environ.get(ARCHIVE_ENV)
    if not archive_dir:
        raise UserError(f"no archive folder: give --archive DIR or set {ARCHIVE_ENV}")
    return Path(archive_dir)


def database_url(archive_dir: str | Path, db_url: str | None = None) -> str:
    """The catalogue's SQLAlchemy URL: ``db_url``, else $HERADECODE_ARCHIVE_DB, else SQLite in the folder."""
    url = db_url or os.environ.get(DB_ENV)
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        if not (url.startswith("postgresql+") or url.startswith("sqlite")):
            raise UserError(f"unsupported database URL {url.split(':', 1)[0]!r}: use postgresql://... or sqlite:///...")
        return url
    return f"sqlite:///{(Path(archive_dir) / CATALOGUE_NAME).resolve()}"


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):  # pragma: no cover - exercised through every SQLite test
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # pragma: no cover
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "BEGIN")


def get_engine(url: str) -> Engine:
    """One engine per URL per process."""
    eng = _engines.get(url)
    if eng is None:
        if url.startswith("sqlite"):
            eng = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
            _sqlite_setup(eng)
        else:
            eng = create_engine(url, pool_pre_ping=True)
        _engines[url] = eng
    return eng


def writer(engine: Engine) -> Engine:
    """The engine for write transactions (SQLite: ``BEGIN IMMEDIATE``): ``with writer(engine).begin() as conn``."""
    return engine.execution_options(sqlite_immediate=True)


def dispose_engines() -> None:
    """Close every pooled connection (tests, forks)."""
    for eng in _engines.values():
        eng.dispose()
    _engines.clear()
    _current.clear()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def is_initialised(engine: Engine) -> bool:
    """True when the catalogue's tables exist."""
    return inspect(engine).has_table("decodes")


_current: set[str] = set()


def is_current(engine: Engine) -> bool:
    """True when the catalogue's schema is at the newest Alembic revision (checked once per engine)."""
    key = str(engine.url)
    if key in _current:
        return True
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    with engine.connect() as conn:
        ok = MigrationContext.configure(conn).get_current_revision() == head
    if ok:
        _current.add(key)
    return ok


def secret_key(archive_dir: str | Path) -> str:
    """The archive's token-signing key (created by ``archive init``)."""
    path = Path(archive_dir) / "secret.key"
    if not path.exists():
        raise UserError(f"not an archive (no secret.key): {archive_dir}; run 'heradecode archive init' first")
    return path.read_text().strip()


def create_secret(archive_dir: str | Path) -> None:
    """Write secret.key (mode 0600) unless it exists."""
    path = Path(archive_dir) / "secret.key"
    if path.exists():
        return
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48) + "\n")
    os.replace(tmp, path)

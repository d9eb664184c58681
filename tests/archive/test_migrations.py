"""Alembic migrations: an archive created by an older revision is upgraded in place, its rows kept; the
housekeeping index replaces the (apid, time) one and back."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, inspect, insert, select

from heradecode.archive import db as _db
from heradecode.archive.catalogue import init_archive
from heradecode.archive.ingest import ingest_decode_folder, open_catalogue
from heradecode.archive.models import Base, Decode, Recording
from heradecode.errors import UserError
from tests.archive.helpers import make_decode_folder


def _upgrade_to(engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(_db.MIGRATIONS_DIR))
    with _db.writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _columns(conn, table: str) -> list[str]:
    from sqlalchemy import inspect

    return [c["name"] for c in inspect(conn).get_columns(table)]


def test_0003_adds_the_recording_path_to_an_archive_created_with_0001(tmp_path, db_url):
    folder = tmp_path / "arc"
    (folder / "store").mkdir(parents=True)
    _db.create_secret(folder)
    engine = _db.get_engine(_db.database_url(folder, db_url))
    _upgrade_to(engine, "0001")
    with engine.connect() as conn:
        assert "path" not in _columns(conn, "recordings")
    with _db.writer(engine).begin() as conn:  # rows as revision 0001 holds them (its own tables, reflected)
        tables = {n: Table(n, MetaData(), autoload_with=conn) for n in ("missions", "recordings", "decodes")}
        conn.execute(insert(tables["missions"]).values(name="HERA", embargo_days=30.0))
        for i in (1, 2):
            rec_id = conn.execute(insert(tables["recordings"]).values(
                checksum=f"c{i}", name=f"pass{i}.sigmf-data", start_unix_s=1.7e9 + i)
                .returning(tables["recordings"].c.id)).scalar_one()
            conn.execute(insert(tables["decodes"]).values(
                recording_id=rec_id, content_sha256=f"s{i}", version=1, is_latest=True, source="decode",
                name=f"pass{i}", mission="HERA", n_frames=0, n_packets=0, ingested_unix_s=1.7e9))
    with engine.connect() as conn:
        before = conn.execute(select(tables["recordings"].c.id, tables["recordings"].c.name,
                                     tables["recordings"].c.checksum).order_by(tables["recordings"].c.id)).all()
        n_decodes = len(conn.execute(select(tables["decodes"].c.id)).all())
    assert len(before) == 2 and n_decodes == 2

    with pytest.raises(UserError, match="older schema: run 'heradecode archive init"):
        open_catalogue(folder, db_url)  # an old catalogue is not written to with the new models
    init_archive(folder, db_url=db_url)  # what 'heradecode archive init' does on an existing archive: upgrade
    with open_catalogue(folder, db_url).connect() as conn:
        assert "path" in _columns(conn, "recordings")
        rows = conn.execute(select(Recording.id, Recording.name, Recording.checksum, Recording.path)
                            .order_by(Recording.id)).all()
        assert [tuple(r[:3]) for r in rows] == [tuple(r) for r in before]
        assert [r.path for r in rows] == [None, None]  # nothing known about where the old ones were
        assert len(conn.execute(select(Decode.id)).all()) == n_decodes
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    # an ingest after the upgrade works and a new decode folder's recording gets its path (none here: no SigMF)
    res = ingest_decode_folder(folder, make_decode_folder(tmp_path / "new", count=20), db_url=db_url)
    with engine.connect() as conn:
        assert conn.execute(select(Recording.path).where(Recording.id == res.recording_id)).scalar() is None
    with _db.writer(engine).begin() as conn:  # the new column takes values
        conn.execute(insert(Recording).values(checksum="c9", name="b.sigmf-data", path="/data/b.sigmf-meta"))
    with engine.connect() as conn:
        assert conn.execute(select(Recording.path).where(Recording.checksum == "c9")).scalar() == "/data/b.sigmf-meta"


def test_0003_downgrades_back_to_0001(tmp_path, db_url):
    folder = tmp_path / "arc"
    init_archive(folder, db_url=db_url)
    engine = open_catalogue(folder, db_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(_db.MIGRATIONS_DIR))
    with _db.writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    with engine.connect() as conn:
        assert "path" not in _columns(conn, "recordings") and "checksum" in _columns(conn, "recordings")


def _indexes(engine):
    return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("packets")}


def test_upgrade_from_0001_replaces_the_apid_time_index(tmp_path, db_url):
    engine = _db.get_engine(_db.database_url(tmp_path, db_url))
    cfg = Config()
    cfg.set_main_option("script_location", str(_db.MIGRATIONS_DIR))
    with _db.writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    assert "ix_packets_apid_time" in _indexes(engine)
    _db.migrate(engine)
    got = _indexes(engine)
    assert "ix_packets_apid_time" not in got
    assert got["ix_packets_housekeeping"][:4] == ["apid", "unix_s", "obt_s", "id"]
    with _db.writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert _indexes(engine)["ix_packets_apid_time"] == ["apid", "unix_s"]

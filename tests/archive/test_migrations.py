"""Alembic upgrades of an existing catalogue: 0001 -> head (the housekeeping index) and back, both back-ends."""

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from heradecode.archive import db


def _indexes(engine):
    return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("packets")}


def test_upgrade_from_0001_replaces_the_apid_time_index(tmp_path, db_url):
    engine = db.get_engine(db.database_url(tmp_path, db_url))
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    with db.writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    assert "ix_packets_apid_time" in _indexes(engine)
    db.migrate(engine)
    got = _indexes(engine)
    assert "ix_packets_apid_time" not in got
    assert got["ix_packets_housekeeping"][:4] == ["apid", "unix_s", "obt_s", "id"]
    with db.writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert _indexes(engine)["ix_packets_apid_time"] == ["apid", "unix_s"]

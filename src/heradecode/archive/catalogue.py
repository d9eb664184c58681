"""Creating an archive, its missions' embargoes, its statistics and its consistency check."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, cast, func, insert, select, update

from heradecode.archive import db as _db
from heradecode.archive.db import writer as _db_writer
from heradecode.archive.ingest import open_catalogue
from heradecode.archive.models import AuditEvent, CarrierPoint, Decode, Frame, Mission, Packet, Product
from heradecode.archive.store import ContentStore
from heradecode.errors import UserError

DEFAULT_EMBARGO_DAYS = 30.0


def init_archive(archive_dir: str | Path, *, db_url: str | None = None) -> str:
    """Create (or upgrade) an archive: folder, store, secret key, catalogue schema; returns the database URL."""
    folder = Path(archive_dir)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"the archive must be a folder: {folder} is a file")
    (folder / "store").mkdir(parents=True, exist_ok=True)
    _db.create_secret(folder)
    url = _db.database_url(folder, db_url)
    engine = _db.get_engine(url)
    try:
        _db.migrate(engine)
    except Exception as exc:  # connection refused, bad credentials...
        orig = getattr(exc, "orig", exc)
        raise UserError(f"cannot set up the catalogue at {engine.url.render_as_string(hide_password=True)}: "
                        f"{str(orig).splitlines()[0] if str(orig) else type(orig).__name__}") from None
    return engine.url.render_as_string(hide_password=True)


def set_embargo(archive_dir: str | Path, mission: str, days: float, *, db_url: str | None = None) -> None:
    """Set a mission's embargo (days after ingestion before public users see an item)."""
    if not days >= 0:
        raise UserError(f"the embargo must be zero or more days, not {days}")
    engine = open_catalogue(archive_dir, db_url)
    name = mission.strip().upper()
    with _db_writer(engine).begin() as conn:
        if conn.execute(select(Mission.name).where(Mission.name == name)).first() is None:
            conn.execute(insert(Mission).values(name=name, embargo_days=float(days)))
        else:
            conn.execute(update(Mission).where(Mission.name == name).values(embargo_days=float(days)))


def check_archive(archive_dir: str | Path, *, db_url: str | None = None) -> dict[str, int]:
    """Consistency check: every product's file is in the store with its hash; counts match the rows."""
    engine = open_catalogue(archive_dir, db_url)
    store = ContentStore(Path(archive_dir) / "store")
    out = {"decodes": 0, "products": 0, "missing_files": 0, "count_mismatches": 0}
    with engine.connect() as conn:
        for d in conn.execute(select(Decode.id, Decode.n_frames, Decode.n_packets)):
            out["decodes"] += 1
            nf = conn.execute(select(func.count()).select_from(Frame).where(Frame.decode_id == d.id)).scalar_one()
            npk = conn.execute(select(func.count()).select_from(Packet).where(Packet.decode_id == d.id)).scalar_one()
            out["count_mismatches"] += int(nf != d.n_frames) + int(npk != d.n_packets)
        for (sha,) in conn.execute(select(Product.sha256)):
            out["products"] += 1
            out["missing_files"] += int(not store.verify(sha))
    return out


def archive_stats(conn, visible) -> dict[str, Any]:
    """Counts over the decodes ``visible`` (a SQL expression on Decode) for the dashboard and the API."""
    ids = select(Decode.id).where(visible).scalar_subquery()
    n_decodes = conn.execute(select(func.count()).select_from(Decode).where(visible)).scalar_one()
    n_frames = conn.execute(select(func.count()).select_from(Frame).where(Frame.decode_id.in_(ids))).scalar_one()
    n_packets = conn.execute(select(func.count()).select_from(Packet).where(Packet.decode_id.in_(ids))).scalar_one()
    n_carrier = conn.execute(select(func.count()).select_from(CarrierPoint)
                             .where(CarrierPoint.decode_id.in_(ids))).scalar_one()
    days = Frame.unix_s / 86400.0
    day = func.floor(days) if conn.dialect.name == "postgresql" else cast(days, Integer)  # times are > 0
    by_mission_vc = [
        {"mission": r.mission, "vcid": r.vcid, "day": r.day, "frames": r.n}
        for r in conn.execute(
            select(Decode.mission, Frame.vcid, day.label("day"),
                   func.count().label("n"))
            .join(Decode, Decode.id == Frame.decode_id).where(visible)
            .group_by(Decode.mission, Frame.vcid, "day").order_by("day", Decode.mission, Frame.vcid))
    ]
    for row in by_mission_vc:
        row["day"] = None if row["day"] is None else time.strftime("%Y-%m-%d", time.gmtime(float(row["day"]) * 86400))
    latest = [
        {"decode_id": r.id, "name": r.name, "mission": r.mission, "version": r.version,
         "ingested_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r.ingested_unix_s))}
        for r in conn.execute(select(Decode.id, Decode.name, Decode.mission, Decode.version, Decode.ingested_unix_s)
                              .where(visible).order_by(Decode.ingested_unix_s.desc()).limit(10))
    ]
    return {"decodes": n_decodes, "frames": n_frames, "packets": n_packets, "carrier_points": n_carrier,
            "frames_by_mission_vc_day": by_mission_vc, "latest_ingests": latest}


def audit(conn, user: str | None, action: str, decode_id: int | None = None, detail: str | None = None) -> None:
    """Add one audit event."""
    conn.execute(insert(AuditEvent).values(unix_s=time.time(), user=user, action=action, decode_id=decode_id,
                                           detail=detail))

"""Queries over the catalogue: tables of items, frames, packets, carrier points and products.

Every function takes the :class:`~heradecode.archive.access.Principal` asking and filters on
:func:`~heradecode.archive.access.visible_decodes`, so no surface can show an item its user may
not see.  By default only the latest version of each recording's decode is searched
(``all_versions=True`` searches every version).

Rows are dicts whose keys are the table's columns; times are ``*_unix_s`` floats plus an ISO
8601 ``time_utc`` column, so ``pandas.DataFrame(rows)`` gives a ready table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, func, select, true
from sqlalchemy.engine import Connection

from heradecode.archive.access import Principal, require_reader, visible_decodes
from heradecode.archive.models import CarrierPoint, Decode, Frame, Packet, Product, Recording
from heradecode.archive.where import TARGETS, where_condition
from heradecode.errors import UserError

_COLUMNS: dict[str, list[tuple[str, Any]]] = {
    "items": [("item", Decode.id), ("version", Decode.version), ("latest", Decode.is_latest),
              ("mission", Decode.mission), ("name", Decode.name), ("source", Decode.source),
              ("recording", Recording.name), ("station", Recording.station), ("mode", Decode.mode),
              ("start_unix_s", Decode.start_unix_s), ("stop_unix_s", Decode.stop_unix_s),
              ("n_frames", Decode.n_frames), ("n_packets", Decode.n_packets),
              ("ingested_unix_s", Decode.ingested_unix_s), ("ingested_by", Decode.ingested_by)],
    "frames": [("item", Frame.decode_id), ("mission", Decode.mission), ("frame_index", Frame.frame_index),
               ("unix_s", Frame.unix_s), ("scid", Frame.scid), ("vcid", Frame.vcid), ("mc_count", Frame.mc_count),
               ("vc_count", Frame.vc_count), ("crc_ok", Frame.crc_ok), ("ebn0_db", Frame.ebn0_db),
               ("iterations", Frame.iterations)],
    "packets": [("item", Packet.decode_id), ("mission", Decode.mission), ("frame_index", Packet.frame_index),
                ("unix_s", Packet.unix_s), ("vcid", Packet.vcid), ("apid", Packet.apid), ("kind", Packet.kind),
                ("sequence_count", Packet.sequence_count), ("length", Packet.length),
                ("pus_service", Packet.pus_service), ("pus_subtype", Packet.pus_subtype), ("obt_s", Packet.obt_s),
                ("pec_ok", Packet.pec_ok), ("data", Packet.data)],
    "carrier": [("item", CarrierPoint.decode_id), ("mission", Decode.mission), ("unix_s", CarrierPoint.unix_s),
                ("doppler_hz", CarrierPoint.doppler_hz), ("cn0_dbhz", CarrierPoint.cn0_dbhz),
                ("locked", CarrierPoint.locked)],
    "products": [("item", Product.decode_id), ("mission", Decode.mission), ("name", Product.name),
                 ("kind", Product.kind), ("level", Product.level), ("data_type", Product.data_type),
                 ("sha256", Product.sha256), ("size_bytes", Product.size_bytes)],
}
_TABLE = {"frames": Frame, "packets": Packet, "carrier": CarrierPoint, "products": Product}
_ORDER = {"items": (Decode.id,), "frames": (Frame.decode_id, Frame.frame_index),
          "packets": (Packet.decode_id, Packet.id), "carrier": (CarrierPoint.decode_id, CarrierPoint.unix_s),
          "products": (Product.decode_id, Product.name)}
MAX_PAGE = 10_000


def utc_text(unix_s: float | None) -> str | None:
    """ISO 8601 UTC text (microseconds, Z) of UNIX seconds."""
    if unix_s is None:
        return None
    return datetime.fromtimestamp(unix_s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def columns(target: str) -> list[str]:
    """The columns of a target's rows, in order."""
    if target not in TARGETS:
        raise UserError(f"unknown table {target!r}: choose from {', '.join(TARGETS)}")
    names = [n for n, _ in _COLUMNS[target]]
    i = next((k for k, n in enumerate(names) if n in ("unix_s", "start_unix_s")), None)
    if i is not None:
        names.insert(i + 1, "time_utc")
    return names


def _base(target: str, who: Principal, where: str | None, all_versions: bool, extra=None):
    require_reader(who)
    cond = where_condition(where, target)
    if extra is not None:
        cond = and_(cond, extra)
    stmt = select(*[c.label(n) for n, c in _COLUMNS[target]])
    if target == "items":
        stmt = stmt.select_from(Decode).join(Recording, Recording.id == Decode.recording_id)
    else:
        model = _TABLE[target]
        stmt = stmt.select_from(model).join(Decode, Decode.id == model.decode_id) \
            .join(Recording, Recording.id == Decode.recording_id)
    return stmt.where(and_(visible_decodes(who), cond, true() if all_versions else Decode.is_latest))


def _row(target: str, r) -> dict[str, Any]:
    d = dict(r._mapping)
    if "data" in d:
        d["data"] = bytes(d["data"]).hex() if d["data"] is not None else None
    t = d.get("unix_s", d.get("start_unix_s"))
    out = {}
    for k, v in d.items():
        out[k] = v
        if k in ("unix_s", "start_unix_s"):
            out["time_utc"] = utc_text(t)
    return out


@dataclass
class QueryResult:
    """A table: its columns and its rows (an iterator, streamed from the database)."""

    target: str
    columns: list[str]
    rows: Iterator[dict[str, Any]]


def run_query(conn: Connection, who: Principal, target: str, where: str | None = None, *,
              all_versions: bool = False, limit: int | None = None, offset: int = 0) -> QueryResult:
    """Rows of ``target`` matching the filter ``where``, as ``who`` may see them."""
    cols = columns(target)
    stmt = _base(target, who, where, all_versions).order_by(*_ORDER[target])
    if limit is not None:
        if not 0 < limit <= MAX_PAGE:
            raise UserError(f"page size must be 1..{MAX_PAGE}")
        stmt = stmt.limit(limit)
    if offset:
        if offset < 0:
            raise UserError("offset must be zero or more")
        stmt = stmt.offset(offset)
    # per statement: Connection.execution_options() would change the caller's connection for good
    result = conn.execute(stmt, execution_options={"yield_per": 5000})
    return QueryResult(target, cols, (_row(target, r) for r in result))


def count_query(conn: Connection, who: Principal, target: str, where: str | None = None, *,
                all_versions: bool = False) -> int:
    """How many rows :func:`run_query` would give."""
    columns(target)
    sub = _base(target, who, where, all_versions).subquery()
    return conn.execute(select(func.count()).select_from(sub)).scalar_one()


def get_item(conn: Connection, who: Principal, decode_id: int) -> dict[str, Any] | None:
    """The metadata of one item (a decode), or None when it does not exist or ``who`` may not see it."""
    require_reader(who)
    d = conn.execute(select(Decode.__table__).where(Decode.id == decode_id, visible_decodes(who))).first()
    if d is None:
        return None
    rec = conn.execute(select(Recording.__table__).where(Recording.id == d.recording_id)).one()
    products = [dict(r._mapping) for r in conn.execute(
        select(Product.name, Product.kind, Product.level, Product.data_type, Product.sha256, Product.size_bytes)
        .where(Product.decode_id == d.id).order_by(Product.name))]
    apids = [dict(r._mapping) for r in conn.execute(
        select(Packet.apid, Packet.pus_service, Packet.pus_subtype, func.count().label("packets"))
        .where(Packet.decode_id == d.id).group_by(Packet.apid, Packet.pus_service, Packet.pus_subtype)
        .order_by(Packet.apid, Packet.pus_service, Packet.pus_subtype))]
    versions = [dict(r._mapping) for r in conn.execute(
        select(Decode.id.label("item"), Decode.version, Decode.is_latest.label("latest"))
        .where(Decode.recording_id == d.recording_id, visible_decodes(who)).order_by(Decode.version))]
    return {
        "item": d.id, "version": d.version, "latest": d.is_latest, "versions": versions, "name": d.name,
        "source": d.source, "mission": d.mission, "data_types": sorted({p["data_type"] for p in products}),
        "heradecode_version": d.heradecode_version, "mode": d.mode,
        "parameters": json.loads(d.params_json) if d.params_json else {},
        "doppler_source": d.doppler_source, "statistics": json.loads(d.stats_json) if d.stats_json else {},
        "start_utc": utc_text(d.start_unix_s), "stop_utc": utc_text(d.stop_unix_s),
        "n_frames": d.n_frames, "n_packets": d.n_packets,
        "ingested_utc": utc_text(d.ingested_unix_s), "ingested_by": d.ingested_by,
        "recording": {"id": rec.id, "name": rec.name, "station": rec.station, "checksum": rec.checksum,
                      "start_utc": utc_text(rec.start_unix_s), "duration_s": rec.duration_s,
                      "samp_rate_hz": rec.samp_rate_hz, "center_freq_hz": rec.center_freq_hz,
                      "sigmf": json.loads(rec.sigmf_json) if rec.sigmf_json else None},
        "products": products, "packets_by_apid": apids,
    }


def recording_paths(conn: Connection, who: Principal, where: str | None = None, *,
                    all_versions: bool = False) -> list[dict[str, Any]]:
    """The recordings whose items match ``where`` (once each, by id): ``recording_id``, ``name``, ``path``.

    ``path`` is the recording's metadata file when its newest decode was ingested (None when unknown).
    """
    sub = _base("items", who, where, all_versions).with_only_columns(Recording.id).distinct().subquery()
    rows = conn.execute(select(Recording.id, Recording.name, Recording.path)
                        .where(Recording.id.in_(select(sub.c.id))).order_by(Recording.id))
    return [{"recording_id": r.id, "name": r.name, "path": r.path} for r in rows]


def product_file(conn: Connection, who: Principal, decode_id: int, name: str) -> dict[str, Any] | None:
    """The stored file ``name`` of item ``decode_id`` (sha256, size), or None when absent or not visible."""
    require_reader(who)
    r = conn.execute(select(Product.name, Product.sha256, Product.size_bytes, Product.kind)
                     .join(Decode, Decode.id == Product.decode_id)
                     .where(Product.decode_id == decode_id, Product.name == name, visible_decodes(who))).first()
    return dict(r._mapping) if r is not None else None


def visible_item_ids(conn: Connection, who: Principal, ids: list[int]) -> list[int]:
    """The ids among ``ids`` that ``who`` may see, in order."""
    require_reader(who)
    ok = {r[0] for r in conn.execute(select(Decode.id).where(Decode.id.in_(ids), visible_decodes(who)))}
    return [i for i in ids if i in ok]


_HK_COLUMNS = [("item", Packet.decode_id), ("unix_s", Packet.unix_s), ("obt_s", Packet.obt_s), ("apid", Packet.apid),
               ("pus_service", Packet.pus_service), ("pus_subtype", Packet.pus_subtype),
               ("sequence_count", Packet.sequence_count), ("pec_ok", Packet.pec_ok)]


def _hk_table_postgresql(conn: Connection, stmt):
    """The rows of ``stmt`` read by the ADBC PostgreSQL driver (binary COPY into Arrow) on its own connection.

    None when the driver is missing.  The statement's parameters are bound on the client side by
    psycopg (``ClientCursor.mogrify``, the driver's own quoting).
    """
    try:
        import adbc_driver_postgresql.dbapi as adbc
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    import psycopg

    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    raw = conn.connection.dbapi_connection
    sql = psycopg.ClientCursor(raw).mogrify(str(compiled), compiled.params)
    uri = conn.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with adbc.connect(uri) as db:
        cur = db.cursor()
        try:
            cur.execute(sql)
            return cur.fetch_arrow_table()
        finally:
            cur.close()


def _hk_table_sqlite(conn: Connection, stmt, cols: list[str]):
    """The rows of ``stmt`` read by the ADBC SQLite driver (C, into Arrow) on its own read-only connection.

    None when that is not possible (an in-memory catalogue, the driver missing).  ADBC types a
    column from its first rows: the nullable float columns go out with NULL as +Inf (never stored:
    the ingest stores non-finite times as NULL) and come back as NaN.
    """
    database = conn.engine.url.database
    if not database or database == ":memory:":
        return None
    try:
        import adbc_driver_sqlite.dbapi as adbc
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    from urllib.parse import quote

    import pyarrow.compute as pc

    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = [compiled.params[k] for k in compiled.positiontup]
    with adbc.connect(f"file:{quote(database)}?mode=ro") as db:
        cur = db.cursor()
        try:
            cur.execute(str(compiled), params)
            table = cur.fetch_arrow_table()
        finally:
            cur.close()
    for c in ("unix_s", "obt_s"):
        i = table.schema.get_field_index(c)
        col = table.column(i)
        table = table.set_column(i, c, pc.if_else(pc.is_inf(col), None, col))
    return table


def housekeeping(conn: Connection, who: Principal, apid: int, *, service: int | None = None,
                 subtype: int | None = None, where: str | None = None, all_versions: bool = False,
                 with_data: bool = True):
    """The packets of one APID (and PUS service/subtype) over time: a pandas DataFrame indexed by UTC.

    Columns: ``item``, ``unix_s``, ``obt_s``, ``apid``, ``pus_service``, ``pus_subtype``,
    ``sequence_count``, ``pec_ok`` (True, False or None) and ``data`` (the packet's octets);
    ``with_data=False`` leaves out ``data``, which is most of what is read.  Rows are in time
    order (UTC, then on-board time, then arrival).

    Only these columns are read: without ``data`` they all come from the covering index
    ``ix_packets_housekeeping`` (APID, time, ...), so the table itself is not visited.  The rows
    go from the database into Arrow columns through the ADBC drivers (C/C++), then to pandas, with
    no Python object per row (``data`` is a pandas ``ArrowDtype`` column whose elements are
    ``bytes``): a million row tuples cost more than the query itself.  The drivers read on a
    connection of their own, so they see committed rows only, not ``conn``'s own uncommitted
    writes; an in-memory SQLite catalogue is read through ``conn``'s cursor.
    """
    import numpy as np
    import pandas as pd

    require_reader(who)
    cond = [Packet.apid == int(apid), visible_decodes(who)]
    if service is not None:
        cond.append(Packet.pus_service == int(service))
    if subtype is not None:
        cond.append(Packet.pus_subtype == int(subtype))
    if not all_versions:
        cond.append(Decode.is_latest)
    sel = list(_HK_COLUMNS) + ([("data", Packet.data)] if with_data else [])
    cols = [n for n, _ in sel]
    stmt = select(*[c.label(n) for n, c in sel]).select_from(Packet).join(Decode, Decode.id == Packet.decode_id)
    if where is not None:  # a filter may name the recording's columns (station, recording)
        stmt = stmt.join(Recording, Recording.id == Decode.recording_id)
        cond.append(where_condition(where, "packets"))
    stmt = stmt.where(and_(*cond)).order_by(Packet.unix_s, Packet.obt_s, Packet.id)
    table = None
    if conn.dialect.name == "postgresql":
        table = _hk_table_postgresql(conn, stmt)
    elif conn.dialect.name == "sqlite":
        inf = float("inf")
        fast = select(*[(func.ifnull(c, inf) if n in ("unix_s", "obt_s") else c).label(n) for n, c in sel]) \
            .select_from(Packet).join(Decode, Decode.id == Packet.decode_id)
        if where is not None:
            fast = fast.join(Recording, Recording.id == Decode.recording_id)
        table = _hk_table_sqlite(conn, fast.where(and_(*cond)).order_by(Packet.unix_s, Packet.obt_s, Packet.id), cols)
    if table is not None:
        import pyarrow as pa

        for c, typ in (("item", pa.int64()), ("apid", pa.int64()), ("pus_service", pa.int64()),
                       ("pus_subtype", pa.int64()), ("sequence_count", pa.int64()), ("pec_ok", pa.bool_())):
            i = table.schema.get_field_index(c)
            table = table.set_column(i, c, table.column(i).cast(typ))
        # pec_ok: object (True, False, None); nullable integers: float64 with NaN, else int64; the octets stay
        # in Arrow memory (pandas' ArrowDtype: each element is still ``bytes``), not one Python object each
        binary = pd.ArrowDtype(pa.binary())
        df = table.to_pandas(split_blocks=True, types_mapper={pa.binary(): binary, pa.large_binary(): binary}.get)
    else:
        rows = conn.execute(stmt).all()
        by_col = list(zip(*rows)) if rows else [()] * len(cols)
        del rows
        data = {}
        for c, values in zip(cols, by_col):
            if c in ("item", "apid", "sequence_count"):
                data[c] = np.array(values, dtype=np.int64)
            elif c in ("unix_s", "obt_s"):
                data[c] = np.array(values, dtype=np.float64)  # None -> NaN
            elif c in ("pus_service", "pus_subtype"):
                data[c] = np.array(values, dtype=np.float64 if None in values else np.int64)
            elif c == "pec_ok":
                data[c] = np.array([None if v is None else bool(v) for v in values], dtype=object)
            else:
                data[c] = np.array([bytes(b) for b in values], dtype=object)
        df = pd.DataFrame(data, columns=cols)
    df.insert(0, "time_utc", pd.to_datetime(df["unix_s"], unit="s", utc=True))
    return df.set_index("time_utc")

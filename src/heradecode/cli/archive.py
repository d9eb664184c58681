"""``heradecode archive``: the telemetry archive (init, ingest, query, export, stats, users, check).

The archive folder is ``--archive DIR`` or $HERADECODE_ARCHIVE; the catalogue is SQLite in that
folder unless ``--db postgresql://...`` (or $HERADECODE_ARCHIVE_DB) names another database.
The command line works on the archive as its owner: it sees every item, embargoed or not.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from pathlib import Path

from heradecode.errors import UserError

TABLES = ("items", "frames", "packets", "carrier", "products")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--archive", metavar="DIR", help="the archive folder (default: $HERADECODE_ARCHIVE)")
    p.add_argument("--db", metavar="URL", help="catalogue database, e.g. postgresql://user@host/db "
                                               "(default: $HERADECODE_ARCHIVE_DB or SQLite in the folder)")


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--table", choices=TABLES, default="items", help="what to list (default: items)")
    p.add_argument("--where", metavar="EXPR", help="filter, e.g. \"apid=1234 and not crc=bad\" "
                                                   "(fields: mission station recording item version utc vc apid "
                                                   "service subtype obt crc pec kind level; and/or/not, ( ))")
    p.add_argument("--mission")
    p.add_argument("--station")
    p.add_argument("--recording")
    p.add_argument("--from", dest="utc_from", metavar="UTC", help="UTC time range start (ISO 8601)")
    p.add_argument("--to", dest="utc_to", metavar="UTC", help="UTC time range end (ISO 8601)")
    p.add_argument("--obt-from", type=float, metavar="S", help="on-board time range start (s)")
    p.add_argument("--obt-to", type=float, metavar="S", help="on-board time range end (s)")
    p.add_argument("--vc", type=int)
    p.add_argument("--apid", type=int)
    p.add_argument("--service", type=int, help="PUS service type")
    p.add_argument("--subtype", type=int, help="PUS service subtype")
    p.add_argument("--crc", choices=["ok", "bad"])
    p.add_argument("--pec", choices=["ok", "bad", "none"])
    p.add_argument("--level", choices=["L0", "L1", "L1b"], help="processing level")
    p.add_argument("--all-versions", action="store_true", help="search every version, not only the latest")




def where_from_args(args: argparse.Namespace) -> str | None:
    """The filter text of --where and the shortcut options, ANDed."""
    from heradecode.archive.where import quote_value

    parts = []
    if args.where and args.where.strip():
        parts.append(f"({args.where})")
    for name, field, op in (("mission", "mission", "="), ("station", "station", "="),
                            ("recording", "recording", "=")):
        v = getattr(args, name)
        if v is not None:
            parts.append(f"{field}{op}{quote_value(v)}")
    for name, field, op in (("utc_from", "utc", ">="), ("utc_to", "utc", "<")):
        v = getattr(args, name)
        if v is not None:
            parts.append(f"{field}{op}{quote_value(v)}")
    for name, field, op in (("obt_from", "obt", ">="), ("obt_to", "obt", "<"), ("vc", "vc", "="),
                            ("apid", "apid", "="), ("service", "service", "="), ("subtype", "subtype", "="),
                            ("crc", "crc", "="), ("pec", "pec", "="), ("level", "level", "=")):
        v = getattr(args, name)
        if v is not None:
            parts.append(f"{field}{op}{v}")
    return " and ".join(parts) or None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("archive", help="the telemetry archive: init, ingest, query, export, stats, users",
                       description="Catalogue decodes and frame files, query and export them.")
    s = p.add_subparsers(dest="archive_command", metavar="ACTION", required=True)

    q = s.add_parser("init", help="create (or upgrade) an archive, optionally ingesting and adding an admin")
    _common(q)
    q.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="decode folders or .u8 frame files to ingest")
    q.add_argument("--mission", default="hera", help="mission of .u8 frame files (default hera)")
    q.add_argument("--embargo", action="append", default=[], metavar="MISSION=DAYS",
                   help="days after ingestion before public users see a mission's items (default 30)")
    q.add_argument("--admin", metavar="NAME", help="add this administrator (password asked, or --password-stdin)")
    q.add_argument("--password-stdin", action="store_true", help="read the admin's password from standard input")
    q.set_defaults(func=run_init, user=None, station=None)

    q = s.add_parser("ingest", help="ingest decode folders and .u8 frame files")
    _common(q)
    q.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="decode folders or .u8 frame files")
    q.add_argument("--mission", default="hera", help="mission of .u8 frame files (default hera)")
    q.add_argument("--user", help="who ingests (audit log; default: the login name)")
    q.add_argument("--station", help="receiving station, when the recording's metadata does not name one")
    q.set_defaults(func=run_ingest)

    q = s.add_parser("query", help="list items, frames, packets, carrier points or products")
    _common(q)
    _filters(q)
    q.add_argument("--limit", type=int, default=50, help="rows at most (default 50; 0: all)")
    q.add_argument("--offset", type=int, default=0)
    q.add_argument("--format", choices=["text", "csv", "json"], default="text")
    q.add_argument("--count", action="store_true", help="print only the number of matching rows")
    q.set_defaults(func=run_query)

    q = s.add_parser("export", help="export a table (CSV, JSON, XML, Parquet) or items as a ZIP")
    _common(q)
    _filters(q)
    q.add_argument("--format", choices=["csv", "json", "xml", "parquet", "zip"], default="csv",
                   help="zip: the matching items' files with metadata.json and metadata.xml")
    q.add_argument("--items", type=int, nargs="+", metavar="ID", help="zip: these items (default: all matching)")
    q.add_argument("--out", type=Path, required=True, metavar="FILE")
    q.add_argument("--user", help="who exports (audit log; default: the login name)")
    q.set_defaults(func=run_export)

    q = s.add_parser("stats", help="archive statistics and the latest ingests")
    _common(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=run_stats)

    q = s.add_parser("check", help="check that every catalogued file is in the store, whole")
    _common(q)
    q.set_defaults(func=run_check)

    q = s.add_parser("users", help="list, add, change or remove users")
    _common(q)
    q.add_argument("action", choices=["list", "add", "set", "remove"])
    q.add_argument("name", nargs="?")
    q.add_argument("--role", choices=["admin", "team", "public"])
    q.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    q.set_defaults(func=run_users)


def _db_writer(engine):
    from heradecode.archive.db import writer

    return writer(engine)


def _archive(args) -> Path:
    from heradecode.archive.db import archive_path

    return archive_path(args.archive)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


def run_init(args) -> int:
    from heradecode.archive.catalogue import init_archive, set_embargo

    folder = _archive(args)
    url = init_archive(folder, db_url=args.db)
    for spec in args.embargo:
        mission, sep, days = spec.partition("=")
        try:
            value = float(days)
        except ValueError:
            value = float("nan")
        if not sep or not mission.strip() or not value >= 0:
            raise UserError(f"--embargo takes MISSION=DAYS, e.g. hera=30, not {spec!r}")
        set_embargo(folder, mission, value, db_url=args.db)
    print(f"archive ready: {folder} (catalogue {url})")
    if args.admin:
        from heradecode.archive.ingest import open_catalogue
        from heradecode.archive.users import add_user, user_principal

        with _db_writer(open_catalogue(folder, args.db)).begin() as conn:
            if user_principal(conn, args.admin) is None:
                add_user(conn, args.admin, "admin", _password(args, args.admin))
                print(f"administrator {args.admin} added")
            else:
                print(f"user {args.admin} exists already; unchanged")
    if args.paths:
        return run_ingest(args)
    return 0


def _password(args, name: str) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != first:
            raise UserError("the two passwords differ")
        return first
    raise UserError("give the password with --password-stdin")


def run_ingest(args) -> int:
    from heradecode.archive.ingest import ingest_prepared, prepare_decode_folder, prepare_frame_file

    folder = _archive(args)
    user = args.user or _login()
    failed = 0
    for path in args.paths:
        t0 = time.monotonic()
        try:
            if path.is_dir():
                prep = prepare_decode_folder(path, station=args.station)
            elif path.is_file():
                prep = prepare_frame_file(path, args.mission, station=args.station)
            else:
                raise UserError(f"no such decode folder or frame file: {path}")
            res = ingest_prepared(folder, prep, db_url=args.db, user=user)
        except UserError as exc:
            if len(args.paths) == 1:
                raise
            print(f"heradecode archive: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        what = f"item {res.decode_id} version {res.version}"
        if res.created:
            print(f"{path}: ingested as {what}: {res.n_frames} frames, {res.n_packets} packets, "
                  f"{res.n_products} files ({', '.join(res.data_types)}) in {time.monotonic() - t0:.1f} s")
        else:
            print(f"{path}: already archived as {what}; nothing changed")
    return 2 if failed else 0


def _print_rows(result, fmt: str) -> int:
    import csv

    n = 0
    if fmt == "csv":
        w = csv.DictWriter(sys.stdout, fieldnames=result.columns, lineterminator="\n")
        w.writeheader()
        for row in result.rows:
            w.writerow(row)
            n += 1
    elif fmt == "json":
        rows = list(result.rows)
        print(json.dumps(rows, indent=1, default=str))
        n = len(rows)
    else:
        rows = list(result.rows)
        cols = [c for c in result.columns if c not in ("data", "unix_s", "start_unix_s", "stop_unix_s",
                                                        "ingested_unix_s", "sha256")]
        cells = [[("" if r.get(c) is None else str(r.get(c)))[:40] for c in cols] for r in rows]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
        print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
        for row in cells:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths)))
        n = len(rows)
    return n


def run_query(args) -> int:
    from heradecode.archive.access import SYSTEM
    from heradecode.archive.ingest import open_catalogue
    from heradecode.archive.query import count_query, run_query as query

    folder = _archive(args)
    engine = open_catalogue(folder, args.db)
    where = where_from_args(args)
    with engine.connect() as conn:
        total = count_query(conn, SYSTEM, args.table, where, all_versions=args.all_versions)
        if args.count:
            print(total)
            return 0
        limit = None if args.limit == 0 else args.limit
        res = query(conn, SYSTEM, args.table, where, all_versions=args.all_versions, limit=limit,
                    offset=args.offset)
        n = _print_rows(res, args.format)
    if args.format == "text":
        print(f"{n} of {total} {args.table}" + (" (use --limit 0 for all)" if n < total else ""))
    return 0


def run_export(args) -> int:
    from heradecode.archive.access import SYSTEM
    from heradecode.archive.catalogue import audit
    from heradecode.archive.export import write_items_zip, write_table
    from heradecode.archive.ingest import open_catalogue
    from heradecode.archive.query import run_query as query
    from heradecode.archive.store import ContentStore

    folder = _archive(args)
    engine = open_catalogue(folder, args.db)
    where = where_from_args(args)
    if args.out.exists() and args.out.is_dir():
        raise UserError(f"--out must be a file: {args.out} is a directory")
    tmp = args.out.with_name(args.out.name + ".part")
    with engine.connect() as conn:
        with open(tmp, "wb") as fh:
            if args.format == "zip":
                ids = args.items
                if ids is None:
                    ids = [r["item"] for r in query(conn, SYSTEM, "items", where, all_versions=args.all_versions).rows]
                written = write_items_zip(conn, SYSTEM, ids, ContentStore(folder / "store"), fh)
                what = f"{len(written)} items"
            else:
                n = write_table(query(conn, SYSTEM, args.table, where, all_versions=args.all_versions),
                                args.format, fh)
                what = f"{n} {args.table}"
                written = []
    os.replace(tmp, args.out)
    with _db_writer(engine).begin() as conn:
        audit(conn, args.user or _login(), "download", written[0] if len(written) == 1 else None,
              f"export {args.format} {what} where {where or 'all'}")
    print(f"{what} written to {args.out}")
    return 0


def run_stats(args) -> int:
    from heradecode.archive.access import SYSTEM, visible_decodes
    from heradecode.archive.catalogue import archive_stats
    from heradecode.archive.ingest import open_catalogue

    engine = open_catalogue(_archive(args), args.db)
    with engine.connect() as conn:
        st = archive_stats(conn, visible_decodes(SYSTEM))
    if args.json:
        print(json.dumps(st, indent=1))
        return 0
    print(f"items {st['decodes']}, frames {st['frames']}, packets {st['packets']}, "
          f"carrier points {st['carrier_points']}")
    for r in st["frames_by_mission_vc_day"]:
        print(f"  {r['mission']} VC{r['vcid']} {r['day'] or 'no time'}: {r['frames']} frames")
    print("latest ingests:")
    for r in st["latest_ingests"]:
        print(f"  item {r['decode_id']} v{r['version']} {r['mission']} {r['name']} ({r['ingested_utc']})")
    return 0


def run_check(args) -> int:
    from heradecode.archive.catalogue import check_archive
    from heradecode.archive.store import ContentStore

    folder = _archive(args)
    res = check_archive(folder, db_url=args.db)
    removed = ContentStore(folder / "store").clean_tmp()
    print(f"{res['decodes']} items, {res['products']} files: {res['missing_files']} missing or damaged, "
          f"{res['count_mismatches']} count mismatches; {removed} stray temporary files removed")
    return 1 if res["missing_files"] or res["count_mismatches"] else 0


def run_users(args) -> int:
    from heradecode.archive.ingest import open_catalogue
    from heradecode.archive.users import add_user, list_users, remove_user, set_user

    engine = open_catalogue(_archive(args), args.db)
    if args.action != "list" and not args.name:
        raise UserError(f"users {args.action} needs a user name")
    password = None
    if args.action == "add" or (args.action == "set" and args.password_stdin):
        password = _password(args, args.name)
    with _db_writer(engine).begin() as conn:
        if args.action == "list":
            for u in list_users(conn):
                print(f"{u['name']}\t{u['role']}")
        elif args.action == "add":
            if not args.role:
                raise UserError("users add needs --role admin, team or public")
            add_user(conn, args.name, args.role, password)
            print(f"user {args.name} added ({args.role})")
        elif args.action == "set":
            if args.role is None and password is None:
                raise UserError("users set needs --role or --password-stdin")
            set_user(conn, args.name, role=args.role, password=password)
            print(f"user {args.name} changed")
        else:
            remove_user(conn, args.name)
            print(f"user {args.name} removed")
    return 0

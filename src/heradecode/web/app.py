"""The archive's web server: server-rendered pages and the REST API ``/api/v1`` (FastAPI).

Who is asking: a bearer token (``Authorization: Bearer ...``) or the ``session`` cookie (the
same signed token, HttpOnly, SameSite=Lax) set by the login page; nobody else is anonymous.
Every read goes through :mod:`heradecode.archive.query`, which applies the role and the
embargo, so no page or endpoint can show what its user may not see.

Status codes of refusals: 401 without (valid) credentials, 403 for a role that may not do
something (ingest, users, audit), 404 for an item that does not exist *or* is embargoed for
the user (its existence is not revealed), 400 for a malformed filter or parameter.

Every ingest and download (file, table export, ZIP, housekeeping table) is written to the
audit log with the user.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from heradecode.archive.access import ANONYMOUS, AccessDenied, Principal, require_admin, require_reader, \
    visible_decodes
from heradecode.archive.catalogue import archive_stats, audit
from heradecode.archive.db import secret_key
from heradecode.archive.db import writer as _db_writer
from heradecode.archive.export import FORMATS, MEDIA_TYPES, metadata_xml, write_items_zip, write_table
from heradecode.archive.ingest import ingest_decode_folder, ingest_frame_file, open_catalogue
from heradecode.archive.models import AuditEvent, Decode, Packet
from heradecode.archive.where import quote_value
from heradecode.archive.query import MAX_PAGE, count_query, get_item, housekeeping, product_file, run_query, \
    utc_text
from heradecode.archive.store import ContentStore
from heradecode.archive.users import add_user, authenticate, list_users, user_principal
from heradecode.errors import UserError
from heradecode.web.auth import OidcConfig, TokenService, principal_from

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE_SIZE = 25
BUILDER_ROWS = 3
BUILDER_FIELDS = ("apid", "vc", "service", "subtype", "mission", "station", "recording", "utc", "obt", "crc", "pec",
                  "level", "item")
BUILDER_OPS = ("=", "!=", "<", "<=", ">", ">=", "~")
SESSION_COOKIE = "session"




def builder_where(params: dict[str, str]) -> str | None:
    """The filter text of the query builder's rows (join_i, field_i, op_i, value_i) and free text ``where``."""
    parts: list[str] = []
    for i in range(BUILDER_ROWS):
        field, op, value = params.get(f"field{i}", ""), params.get(f"op{i}", "="), params.get(f"value{i}", "")
        if not field or not value.strip():
            continue
        if field not in BUILDER_FIELDS or op not in BUILDER_OPS:
            raise UserError("unknown field or operator in the query builder")
        cond = f"{field}{op}{quote_value(value.strip())}"
        join = params.get(f"join{i}", "and")
        if parts:
            if join not in ("and", "or", "and not", "or not"):
                raise UserError("unknown connector in the query builder")
            parts.append(f"{join} {cond}")
        else:
            parts.append(f"not {cond}" if join.endswith("not") else cond)
    text = " ".join(parts)
    free = (params.get("where") or "").strip()
    if free and text:
        return f"({free}) and ({text})"
    return free or text or None


class _Spool:
    """A spooled temporary file streamed back in 64 KiB blocks (memory flat in the result size)."""

    def __init__(self) -> None:
        self.fh = tempfile.SpooledTemporaryFile(max_size=8 << 20)

    def stream(self):
        self.fh.seek(0)
        try:
            for block in iter(lambda: self.fh.read(1 << 16), b""):
                yield block
        finally:
            self.fh.close()


def create_app(archive_dir: str | Path, *, db_url: str | None = None, oidc: OidcConfig | None = None,
               token_ttl_s: float = 3600.0, secure_cookies: bool = False) -> FastAPI:
    """The web application of one archive."""
    archive_dir = Path(archive_dir)
    engine = open_catalogue(archive_dir, db_url)
    tokens = TokenService(secret_key(archive_dir), ttl_s=token_ttl_s, oidc=oidc)
    store = ContentStore(archive_dir / "store")
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.globals["utc"] = utc_text
    app = FastAPI(title="heradecode archive", version="1",
                  description="Telemetry archive of heradecode decodes: items (decodes), frames (L0), packets (L1), "
                              "carrier points (L1b), their files and metadata.",
                  docs_url="/api/v1/docs", openapi_url="/api/v1/openapi.json", redoc_url=None)

    # -- who is asking ---------------------------------------------------------------------------
    def lookup(name: str) -> Principal | None:
        with engine.connect() as conn:
            return user_principal(conn, name)

    def principal(request: Request) -> Principal:
        auth = request.headers.get("authorization")
        if auth:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise AccessDenied("use 'Authorization: Bearer <token>'", 401)
            return principal_from(*tokens.verify(token.strip()), lookup)
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            try:
                return principal_from(*tokens.verify(cookie), lookup)
            except AccessDenied:
                return ANONYMOUS
        return ANONYMOUS

    @app.exception_handler(AccessDenied)
    async def _denied(request: Request, exc: AccessDenied):
        if not request.url.path.startswith("/api/") and exc.status == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=exc.status, headers=headers)

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError):
        return JSONResponse({"detail": " ".join(str(exc).split())}, status_code=400)

    def not_found(what: str = "no such item") -> JSONResponse:
        return JSONResponse({"detail": what}, status_code=404)

    def download(who: Principal, decode_id: int | None, detail: str) -> None:
        with _db_writer(engine).begin() as conn:
            audit(conn, who.name, "download", decode_id, detail)

    # -- REST API --------------------------------------------------------------------------------
    @app.post("/api/v1/token", tags=["auth"], summary="Exchange a user name and password for a bearer token")
    def api_token(username: str = Form(...), password: str = Form(...)):
        with engine.connect() as conn:
            who = authenticate(conn, username, password)
        if who is None:
            raise AccessDenied("wrong user name or password", 401)
        return {"access_token": tokens.issue(who.name), "token_type": "bearer", "expires_in": int(tokens.ttl_s)}

    @app.get("/api/v1/items", tags=["items"], summary="List items (decodes) matching a filter")
    def api_items(who: Principal = Depends(principal), where: str | None = None, limit: int = Query(50, ge=1, le=1000),
                  offset: int = Query(0, ge=0), all_versions: bool = False):
        with engine.connect() as conn:
            total = count_query(conn, who, "items", where, all_versions=all_versions)
            rows = list(run_query(conn, who, "items", where, all_versions=all_versions, limit=limit,
                                  offset=offset).rows)
        return {"total": total, "limit": limit, "offset": offset, "items": rows}

    @app.get("/api/v1/items/{item_id}", tags=["items"], summary="An item's metadata (JSON, or XML with format=xml)")
    def api_item(item_id: int, who: Principal = Depends(principal), format: str = "json"):
        with engine.connect() as conn:
            item = get_item(conn, who, item_id)
        if item is None:
            return not_found()
        if format == "xml":
            return Response(metadata_xml(item), media_type="application/xml")
        if format != "json":
            raise UserError("format is json or xml")
        return item

    @app.get("/api/v1/items/{item_id}/files/{name}", tags=["items"], summary="Download one file of an item")
    def api_file(item_id: int, name: str, who: Principal = Depends(principal)):
        with engine.connect() as conn:
            meta = product_file(conn, who, item_id, name)
        if meta is None:
            return not_found("no such file")
        download(who, item_id, f"file {meta['name']}")
        fh = store.open(meta["sha256"])

        def stream():
            with fh:
                yield from iter(lambda: fh.read(1 << 16), b"")

        safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in meta["name"])
        return StreamingResponse(stream(), media_type="application/octet-stream",
                                 headers={"Content-Disposition": f'attachment; filename="{safe}"',
                                          "Content-Length": str(meta["size_bytes"])})

    @app.get("/api/v1/items/{item_id}/plot.png", tags=["items"], summary="Plot of an item's frames")
    def api_plot(item_id: int, who: Principal = Depends(principal)):
        with engine.connect() as conn:
            if get_item(conn, who, item_id) is None:
                return not_found()
            frames = list(run_query(conn, who, "frames", f"item={int(item_id)}", all_versions=True).rows)
            carrier = list(run_query(conn, who, "carrier", f"item={int(item_id)}", all_versions=True).rows)
        return Response(_item_plot(item_id, frames, carrier), media_type="image/png")

    @app.get("/api/v1/query/{table}", tags=["query"], summary="Rows of a table as CSV, JSON, XML or Parquet")
    def api_query(table: str, who: Principal = Depends(principal), where: str | None = None, format: str = "json",
                  limit: int | None = Query(None, ge=1, le=MAX_PAGE), all_versions: bool = False):
        if format not in FORMATS:
            raise UserError(f"format is one of {', '.join(FORMATS)}")
        spool = _Spool()
        with engine.connect() as conn:
            result = run_query(conn, who, table, where, all_versions=all_versions, limit=limit)
            n = write_table(result, format, spool.fh)
        download(who, None, f"query {table} {format} ({n} rows) where {where or 'all'}")
        return StreamingResponse(spool.stream(), media_type=MEDIA_TYPES[format],
                                 headers={"Content-Disposition": f'attachment; filename="{table}.{format}"',
                                          "X-Row-Count": str(n)})

    @app.get("/api/v1/download.zip", tags=["items"],
             summary="ZIP of items (files + metadata): the ids given, or all results of a filter")
    def api_zip(who: Principal = Depends(principal), items: list[int] = Query(default=[]), where: str | None = None,
                all_results: bool = False):
        with engine.connect() as conn:
            require_reader(who)
            if all_results:
                items = [r["item"] for r in run_query(conn, who, "items", where).rows]
                if not items:
                    return not_found("no items match")
            if not items:
                raise UserError("give items=ID (repeatable) or all_results=true")
            spool = _Spool()
            written = write_items_zip(conn, who, items, store, spool.fh)
        if not written:
            return not_found()
        for i in written:
            download(who, i, "zip")
        return StreamingResponse(spool.stream(), media_type="application/zip",
                                 headers={"Content-Disposition": 'attachment; filename="heradecode-items.zip"'})

    @app.get("/api/v1/housekeeping", tags=["query"], summary="Packets of one APID over time (JSON or CSV)")
    def api_housekeeping(apid: int, who: Principal = Depends(principal), service: int | None = None,
                         subtype: int | None = None, where: str | None = None, format: str = "json"):
        with engine.connect() as conn:
            df = housekeeping(conn, who, apid, service=service, subtype=subtype, where=where)
        df = df.reset_index()
        df["time_utc"] = df["time_utc"].map(lambda t: None if t is None or t != t else t.isoformat())
        df["data"] = df["data"].map(bytes.hex)
        download(who, None, f"housekeeping apid {apid} ({len(df)} packets)")
        if format == "csv":
            return Response(df.to_csv(index=False), media_type="text/csv")
        if format != "json":
            raise UserError("format is json or csv")
        return {"apid": apid, "rows": df.astype(object).where(df.notna(), None).to_dict(orient="records")}

    @app.get("/api/v1/housekeeping.png", tags=["query"], summary="Plot of one APID's packets over time")
    def api_housekeeping_plot(apid: int, who: Principal = Depends(principal), service: int | None = None):
        with engine.connect() as conn:
            df = housekeeping(conn, who, apid, service=service, with_data=False)  # the plot needs no octets
        return Response(_housekeeping_plot(apid, df), media_type="image/png")

    @app.get("/api/v1/stats", tags=["archive"], summary="Archive statistics and the latest ingests")
    def api_stats(who: Principal = Depends(principal)):
        require_reader(who)
        with engine.connect() as conn:
            return archive_stats(conn, visible_decodes(who))

    @app.post("/api/v1/ingest", tags=["admin"], summary="Ingest a decode folder or frame file on the server")
    def api_ingest(request_body: dict[str, Any], who: Principal = Depends(principal)):
        require_admin(who)
        path = Path(str(request_body.get("path", "")))
        if not path.is_absolute():
            raise UserError("give the absolute path of a decode folder or frame file on the server")
        if path.is_dir():
            res = ingest_decode_folder(archive_dir, path, db_url=db_url, user=who.name)
        else:
            res = ingest_frame_file(archive_dir, path, mission=str(request_body.get("mission", "hera")),
                                    db_url=db_url, user=who.name)
        return {"item": res.decode_id, "version": res.version, "created": res.created, "frames": res.n_frames,
                "packets": res.n_packets, "data_types": list(res.data_types)}

    @app.get("/api/v1/users", tags=["admin"], summary="List users")
    def api_users(who: Principal = Depends(principal)):
        require_admin(who)
        with engine.connect() as conn:
            return {"users": list_users(conn)}

    @app.post("/api/v1/users", tags=["admin"], summary="Add a user")
    def api_add_user(request_body: dict[str, Any], who: Principal = Depends(principal)):
        require_admin(who)
        with _db_writer(engine).begin() as conn:
            add_user(conn, str(request_body.get("name", "")), str(request_body.get("role", "")),
                     str(request_body.get("password", "")))
        return JSONResponse({"added": request_body.get("name")}, status_code=201)

    @app.get("/api/v1/audit", tags=["admin"], summary="The audit log (latest first)")
    def api_audit(who: Principal = Depends(principal), limit: int = Query(100, ge=1, le=10_000)):
        require_admin(who)
        with engine.connect() as conn:
            rows = conn.execute(select(AuditEvent.unix_s, AuditEvent.user, AuditEvent.action, AuditEvent.decode_id,
                                       AuditEvent.detail).order_by(AuditEvent.id.desc()).limit(limit)).all()
        return {"events": [{"time_utc": utc_text(r.unix_s), "user": r.user, "action": r.action,
                            "item": r.decode_id, "detail": r.detail} for r in rows]}

    # -- pages -----------------------------------------------------------------------------------
    def page(request: Request, name: str, who: Principal, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"who": who, **context})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def landing(request: Request, who: Principal = Depends(principal)):
        return page(request, "landing.html", who)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/dashboard", who: Principal = Depends(principal)):
        return page(request, "login.html", who, next=_local(next), error=None)

    @app.post("/login", include_in_schema=False)
    def login(request: Request, username: str = Form(...), password: str = Form(...), next: str = Form("/dashboard")):
        with engine.connect() as conn:
            who = authenticate(conn, username, password)
        if who is None:
            resp = page(request, "login.html", ANONYMOUS, next=_local(next), error="wrong user name or password")
            resp.status_code = 401
            return resp
        resp = RedirectResponse(_local(next), status_code=303)
        resp.set_cookie(SESSION_COOKIE, tokens.issue(who.name), max_age=int(tokens.ttl_s), httponly=True,
                        samesite="lax", secure=secure_cookies)
        return resp

    @app.post("/logout", include_in_schema=False)
    def logout():
        resp = RedirectResponse("/", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp

    @app.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
    def dashboard(request: Request, who: Principal = Depends(principal)):
        require_reader(who)
        with engine.connect() as conn:
            stats = archive_stats(conn, visible_decodes(who))
        return page(request, "dashboard.html", who, stats=stats)

    @app.get("/products", response_class=HTMLResponse, include_in_schema=False)
    def products(request: Request, who: Principal = Depends(principal), page_no: int = Query(1, alias="page", ge=1)):
        require_reader(who)
        params = dict(request.query_params)
        error = None
        where = None
        rows: list[dict] = []
        total = 0
        try:
            where = builder_where(params)
            with engine.connect() as conn:
                total = count_query(conn, who, "items", where)
                rows = list(run_query(conn, who, "items", where, limit=PAGE_SIZE,
                                      offset=(page_no - 1) * PAGE_SIZE).rows)
        except UserError as exc:
            error = str(exc)
        return page(request, "products.html", who, rows=rows, total=total, where=where or "", error=error,
                    params=params, page_no=page_no, pages=max(1, -(-total // PAGE_SIZE)), fields=BUILDER_FIELDS,
                    ops=BUILDER_OPS, n_rows=BUILDER_ROWS)

    @app.get("/products/{item_id}", response_class=HTMLResponse, include_in_schema=False)
    def product(request: Request, item_id: int, who: Principal = Depends(principal)):
        require_reader(who)
        with engine.connect() as conn:
            item = get_item(conn, who, item_id)
            if item is None:
                resp = page(request, "missing.html", who)
                resp.status_code = 404
                return resp
            packets = list(run_query(conn, who, "packets", f"item={int(item_id)}", all_versions=True,
                                     limit=100).rows)
        return page(request, "product.html", who, item=item, packets=packets)

    @app.get("/housekeeping", response_class=HTMLResponse, include_in_schema=False)
    def housekeeping_page(request: Request, who: Principal = Depends(principal), apid: int | None = None):
        require_reader(who)
        with engine.connect() as conn:
            apids = [r[0] for r in conn.execute(
                select(Packet.apid).join(Decode, Decode.id == Packet.decode_id)
                .where(visible_decodes(who), Decode.is_latest).distinct().order_by(Packet.apid))]
        return page(request, "housekeeping.html", who, apids=apids, apid=apid)

    return app


def _local(target: str) -> str:
    """Only local paths as redirect targets (no open redirects)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/dashboard"


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def _item_plot(item_id: int, frames: list[dict], carrier: list[dict]) -> bytes:
    """VC frame counters and Eb/N0 of the frames; the carrier's Doppler and C/N0 when tracked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = 3 if carrier else 2
    fig, axes = plt.subplots(rows, 1, figsize=(8, 2.5 * rows), sharex=bool(carrier))
    a1, a2 = axes[0], axes[1]
    timed = all(f["unix_s"] is not None for f in frames) and frames
    x = [f["unix_s"] - frames[0]["unix_s"] for f in frames] if timed else [f["frame_index"] for f in frames]
    for vc in sorted({f["vcid"] for f in frames}):
        xs = [xi for xi, f in zip(x, frames) if f["vcid"] == vc]
        a1.plot(xs, [f["vc_count"] for f in frames if f["vcid"] == vc], ".", ms=3, label=f"VC{vc}")
    a1.set_ylabel("VC frame count")
    if frames:
        a1.legend(loc="upper right", fontsize=8)
    eb = [(xi, f["ebn0_db"]) for xi, f in zip(x, frames) if f["ebn0_db"] is not None]
    if eb:
        a2.plot(*zip(*eb), ".", ms=3)
        a2.set_ylabel("Eb/N0 (dB)")
    else:
        a2.text(0.5, 0.5, "no Eb/N0 (frame file)", ha="center", va="center", transform=a2.transAxes)
    if not carrier:
        a2.set_xlabel("time since first frame (s)" if timed else "frame index")
    else:
        t0 = frames[0]["unix_s"] if timed else carrier[0]["unix_s"]
        a3 = axes[2]
        tc = [c["unix_s"] - t0 for c in carrier]
        a3.plot(tc, [c["doppler_hz"] for c in carrier], ".-", ms=3, color="C2")
        a3.set_ylabel("carrier Doppler (Hz)")
        a3.set_xlabel("time (s)")
        b3 = a3.twinx()
        b3.plot(tc, [c["cn0_dbhz"] for c in carrier], ".", ms=3, color="C3")
        b3.set_ylabel("C/N0 (dB-Hz)")
    fig.suptitle(f"item {item_id}: {len(frames)} frames" + (f", {len(carrier)} carrier points" if carrier else ""))
    fig.tight_layout()
    return _png(fig)


def _housekeeping_plot(apid: int, df) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    timed = df.index.notna()
    if timed.any():
        ax.plot(df.index[timed], df["sequence_count"][timed], ".", ms=3)
        ax.set_xlabel("UTC")
    elif len(df):
        ax.plot(df["obt_s"], df["sequence_count"], ".", ms=3)
        ax.set_xlabel("on-board time (s)")
    ax.set_ylabel("sequence count")
    ax.set_title(f"APID {apid}: {len(df)} packets")
    fig.autofmt_xdate()
    fig.tight_layout()
    return _png(fig)

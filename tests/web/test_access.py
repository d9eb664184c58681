"""The access-control matrix: every endpoint x {anonymous, public, team, admin} x {embargoed, released};
forged, expired and wrong-audience tokens; SQL injection in every filter; path traversal in downloads."""

from __future__ import annotations

import base64
import io
import json
import time
import zipfile

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from heradecode.archive.db import secret_key
from heradecode.archive.ingest import open_catalogue
from heradecode.archive.models import AuditEvent, Decode, Packet, User
from heradecode.web import create_app
from heradecode.web.auth import AUDIENCE, ISSUER
from tests.web.helpers import PASSWORDS, build_archive, login_token

ROLES = ["anonymous", "public", "team", "admin"]
USER_OF = {"public": "pia", "team": "tom", "admin": "ada"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    arc = build_archive(tmp_path_factory.mktemp("web"))
    client = TestClient(create_app(arc.folder), follow_redirects=False)
    tokens = {role: login_token(client, USER_OF[role]) for role in USER_OF}
    return arc, client, tokens


def _headers(tokens, role):
    return {} if role == "anonymous" else {"Authorization": f"Bearer {tokens[role]}"}


# endpoints about one item: (name, url template); the page variant redirects anonymous users to /login
ITEM_ENDPOINTS = [
    ("item", "/api/v1/items/{id}"),
    ("item-xml", "/api/v1/items/{id}?format=xml"),
    ("file", "/api/v1/items/{id}/files/frames.u8"),
    ("metadata-file", "/api/v1/items/{id}/files/decode.json"),
    ("plot", "/api/v1/items/{id}/plot.png"),
    ("zip", "/api/v1/download.zip?items={id}"),
    ("zip-all", "/api/v1/download.zip?all_results=true&where=item%3D{id}"),
    ("page", "/products/{id}"),
]
# endpoints listing rows; filtered to the item, they must come back empty for a user who may not see it
LIST_ENDPOINTS = [
    ("items", "/api/v1/items?where=item%3D{id}", lambda r: r.json()["total"]),
    ("items-all-versions", "/api/v1/items?all_versions=true&where=item%3D{id}", lambda r: r.json()["total"]),
    ("packets-csv", "/api/v1/query/packets?format=csv&where=item%3D{id}", lambda r: r.text.count("\n") - 1),
    ("frames-json", "/api/v1/query/frames?format=json&where=item%3D{id}", lambda r: len(r.json()["rows"])),
    ("carrier-xml", "/api/v1/query/carrier?format=xml&where=item%3D{id}", lambda r: r.text.count("<row>")),
    ("products-parquet", "/api/v1/query/products?format=parquet&where=item%3D{id}",
     lambda r: int(r.headers["X-Row-Count"])),
    ("items-table", "/api/v1/query/items?format=csv&where=item%3D{id}", lambda r: r.text.count("\n") - 1),
    ("housekeeping", "/api/v1/housekeeping?apid=260&where=item%3D{id}", lambda r: len(r.json()["rows"])),
    ("housekeeping-csv", "/api/v1/housekeeping?apid=260&format=csv&where=item%3D{id}",
     lambda r: r.text.count("\n") - 1),
    ("products-page", "/products?where=item%3D{id}", lambda r: r.text.count('class="item-link"')),
]


def _sees(role: str, embargoed: bool) -> bool:
    return role in ("team", "admin") or (role == "public" and not embargoed)


@pytest.mark.parametrize("embargoed", [False, True], ids=["released", "embargoed"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,url", ITEM_ENDPOINTS, ids=[e[0] for e in ITEM_ENDPOINTS])
def test_item_endpoints(site, name, url, role, embargoed):
    check_item_endpoint(*site, name, url, role, embargoed)


def check_item_endpoint(arc, client, tokens, name, url, role, embargoed):
    """One cell of the matrix for an item endpoint."""
    item = arc.embargoed if embargoed else arc.released
    r = client.get(url.format(id=item), headers=_headers(tokens, role))
    if role == "anonymous":
        if name == "page":
            assert r.status_code == 303 and r.headers["location"].startswith("/login")
        else:
            assert r.status_code == 401 and r.headers.get("www-authenticate") == "Bearer"
        return
    if not _sees(role, embargoed):
        assert r.status_code == 404
        assert "embargoed_pass" not in r.text
        return
    assert r.status_code == 200
    if name == "file":
        assert r.content == (arc.decode_dirs["embargoed" if embargoed else "released"] / "frames.u8").read_bytes()
    elif name in ("zip", "zip-all"):
        assert f"{item}/metadata.json" in zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    elif name == "item":
        assert r.json()["item"] == item
    elif name == "plot":
        assert r.content[:4] == b"\x89PNG"


@pytest.mark.parametrize("embargoed", [False, True], ids=["released", "embargoed"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,url,count", LIST_ENDPOINTS, ids=[e[0] for e in LIST_ENDPOINTS])
def test_list_endpoints(site, name, url, count, role, embargoed):
    check_list_endpoint(*site, name, url, count, role, embargoed)


def check_list_endpoint(arc, client, tokens, name, url, count, role, embargoed):
    """One cell of the matrix for a list endpoint."""
    item = arc.embargoed if embargoed else arc.released
    r = client.get(url.format(id=item), headers=_headers(tokens, role))
    if role == "anonymous":
        assert r.status_code == (303 if name == "products-page" else 401)
        return
    assert r.status_code == 200, r.text
    n = count(r)
    if _sees(role, embargoed):
        assert n > 0
    else:
        assert n == 0


@pytest.mark.parametrize("role", ROLES)
def test_statistics_count_only_visible_items(site, role):
    arc, client, tokens = site
    r = client.get("/api/v1/stats", headers=_headers(tokens, role))
    if role == "anonymous":
        assert r.status_code == 401
        return
    st = r.json()
    if role == "public":
        assert st["decodes"] == 1 and st["packets"] == arc.released_packets
        assert [x["decode_id"] for x in st["latest_ingests"]] == [arc.released]
    else:
        assert st["decodes"] == 2 and st["packets"] == arc.released_packets + arc.embargoed_packets
    page = client.get("/dashboard", headers=_headers(tokens, role))
    assert page.status_code == 200
    assert ("embargoed_pass" in page.text) is False  # names of decodes are folder names, never the recording
    assert (f'href="/products/{arc.embargoed}"' in page.text) == (role != "public")


ADMIN_ENDPOINTS = [
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"name": "newbie", "role": "public", "password": "newbie-pass"}),
    ("GET", "/api/v1/audit", None),
    ("POST", "/api/v1/ingest", {"path": "{released_dir}"}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method,url,body", ADMIN_ENDPOINTS, ids=[f"{m} {u}" for m, u, _ in ADMIN_ENDPOINTS])
def test_admin_endpoints(site, method, url, body, role):
    arc, client, tokens = site
    if body and "path" in body:
        body = {"path": str(arc.decode_dirs["released"])}
    if body and "name" in body:
        body = dict(body, name=f"newbie_{role}")
    r = client.request(method, url, json=body, headers=_headers(tokens, role))
    expected = {"anonymous": 401, "public": 403, "team": 403}.get(role)
    if expected:
        assert r.status_code == expected
        return
    assert r.status_code in (200, 201), r.text
    if url.endswith("ingest"):
        assert r.json()["created"] is False and r.json()["item"] == arc.released


def _token(claims: dict, key: str, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def _claims(**over) -> dict:
    now = int(time.time())
    return {"sub": "tom", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, **over}


def _unsigned(claims: dict) -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{enc({'alg': 'none', 'typ': 'JWT'})}.{enc(claims)}."


BAD_TOKENS = {
    "forged": lambda s: _token(_claims(), "not-the-server-secret"),
    "expired": lambda s: _token(_claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), s),
    "wrong-audience": lambda s: _token(_claims(aud="some-other-service"), s),
    "wrong-issuer": lambda s: _token(_claims(iss="someone-else"), s),
    "no-expiry": lambda s: _token({k: v for k, v in _claims().items() if k != "exp"}, s),
    "alg-none": lambda s: _unsigned(_claims()),
    "unknown-user": lambda s: _token(_claims(sub="mallory"), s),
    "garbage": lambda s: "not.a.token",
    "role-claim-ignored": lambda s: _token(_claims(sub="pia", role="admin"), "wrong-" + s),
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
@pytest.mark.parametrize("url", ["/api/v1/items", f"/api/v1/items/1", "/api/v1/stats", "/api/v1/users",
                                 "/api/v1/query/packets?format=csv", "/api/v1/download.zip?items=2"])
def test_bad_tokens_are_refused(site, kind, url):
    arc, client, tokens = site
    token = BAD_TOKENS[kind](secret_key(arc.folder))
    r = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    # the same token as a session cookie is nobody: pages send to the login page
    client.cookies.set("session", token)
    try:
        page = client.get(f"/products/{arc.embargoed}")
        assert page.status_code == 303
    finally:
        client.cookies.clear()


def test_valid_token_of_own_server_works_and_public_role_is_read_from_catalogue(site):
    arc, client, tokens = site
    token = _token(_claims(sub="pia", role="admin"), secret_key(arc.folder))  # the role claim is not trusted
    r = client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    assert client.get(f"/api/v1/items/{arc.embargoed}", headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_login_with_wrong_password(site):
    arc, client, tokens = site
    assert client.post("/api/v1/token", data={"username": "tom", "password": "wrong"}).status_code == 401
    assert client.post("/api/v1/token", data={"username": "nobody", "password": "x"}).status_code == 401
    r = client.post("/login", data={"username": "tom", "password": "wrong"})
    assert r.status_code == 401 and "session" not in r.cookies
    r = client.post("/login", data={"username": "tom", "password": PASSWORDS["tom"], "next": "//evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    client.cookies.clear()


INJECTIONS = ["1 OR 1=1", "1; DROP TABLE packets", "' OR '1'='1", "x' UNION SELECT password_hash FROM users --",
              "1) or (1=1", "0 or item>0", "item=1 or 1=1", "\"; DELETE FROM decodes; --", "%' or '%'='"]
WHERE_URLS = ["/api/v1/items?where={w}", "/api/v1/query/packets?format=json&where={w}",
              "/api/v1/query/frames?format=csv&where={w}", "/api/v1/query/carrier?format=json&where={w}",
              "/api/v1/query/products?format=json&where={w}", "/api/v1/housekeeping?apid=260&where={w}",
              "/api/v1/download.zip?all_results=true&where={w}", "/products?where={w}",
              "/products?field0=recording&op0=%3D&value0={w}", "/products?field0=apid&op0=%3D&value0={w}"]


@pytest.mark.parametrize("url", WHERE_URLS)
@pytest.mark.parametrize("text", INJECTIONS)
def test_sql_injection_in_every_filter(site, url, text):
    """Public user: every injection is refused (400) or matched as a plain value; nothing embargoed shows."""
    arc, client, tokens = site
    from urllib.parse import quote

    for where in (text, f"recording='{text}'" if "'" not in text else f'recording="{text}"',
                  f"apid={text}", f"item={arc.released} or {text}"):
        r = client.get(url.format(w=quote(where)), headers=_headers(tokens, "public"))
        assert r.status_code in (200, 400, 404), (where, r.status_code, r.text[:200])
        body = r.content
        assert b"argon2" not in body and b"embargoed_pass" not in body
        if r.status_code == 200 and url.startswith("/api/v1/items"):
            assert all(i["item"] == arc.released for i in r.json()["items"])
    engine = open_catalogue(arc.folder)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(Decode)).scalar_one() == 2
        assert c.execute(select(func.count()).select_from(User)).scalar_one() >= 3
        assert c.execute(select(func.count()).select_from(Packet)).scalar_one() == \
            arc.released_packets + arc.embargoed_packets


@pytest.mark.parametrize("name", ["../secret.key", "..%2Fsecret.key", "..%2F..%2Fsecret.key", "%2e%2e%2fsecret.key",
                                  "....%2F%2Fsecret.key", "%2Fetc%2Fpasswd", "..%5Csecret.key",
                                  "frames.u8%00.png", "..", "store%2F..%2Fcatalogue.sqlite"])
@pytest.mark.parametrize("role", ["public", "admin"])
def test_path_traversal_in_downloads(site, name, role):
    arc, client, tokens = site
    secret = (arc.folder / "secret.key").read_bytes()
    for item in (arc.released, arc.embargoed):
        r = client.get(f"/api/v1/items/{item}/files/{name}", headers=_headers(tokens, role))
        assert r.status_code in (404, 422) or (r.status_code == 200 and r.content != secret)
        assert secret.strip() not in r.content
    r = client.get(f"/api/v1/items/{name}/files/frames.u8", headers=_headers(tokens, role))
    assert r.status_code in (404, 422)


def test_audit_log_has_ingests_and_downloads_with_users(site):
    arc, client, tokens = site
    client.get(f"/api/v1/items/{arc.released}/files/frames.u8", headers=_headers(tokens, "public"))
    client.get(f"/api/v1/query/packets?format=csv&where=item%3D{arc.embargoed}", headers=_headers(tokens, "team"))
    client.get(f"/api/v1/download.zip?items={arc.embargoed}", headers=_headers(tokens, "admin"))
    events = client.get("/api/v1/audit?limit=10000", headers=_headers(tokens, "admin")).json()["events"]
    seen = {(e["user"], e["action"], e["item"]) for e in events}
    assert ("pia", "download", arc.released) in seen
    assert ("tom", "download", None) in seen
    assert ("ada", "download", arc.embargoed) in seen
    assert ("ada", "ingest", arc.released) in seen and ("ada", "ingest", arc.embargoed) in seen
    # a refused download is not logged as one
    n = len(events)
    client.get(f"/api/v1/items/{arc.embargoed}/files/frames.u8", headers=_headers(tokens, "public"))
    engine = open_catalogue(arc.folder)
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.user == "pia", AuditEvent.decode_id == arc.embargoed)).scalar_one() == 0


@pytest.mark.slow
def test_matrix_on_postgresql(tmp_path, postgres):
    """The item and list endpoints' matrix again, with the catalogue on PostgreSQL 15."""
    arc = build_archive(tmp_path, postgres.new_database())
    client = TestClient(create_app(arc.folder, db_url=arc.db_url), follow_redirects=False)
    tokens = {role: login_token(client, USER_OF[role]) for role in USER_OF}
    for role in ROLES:
        for embargoed in (False, True):
            for name, url in ITEM_ENDPOINTS:
                check_item_endpoint(arc, client, tokens, name, url, role, embargoed)
            for name, url, count in LIST_ENDPOINTS:
                check_list_endpoint(arc, client, tokens, name, url, count, role, embargoed)

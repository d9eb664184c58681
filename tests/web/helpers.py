"""Shared helpers of the web tests: an archive with a released and an embargoed item, and users."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import update

from heradecode.archive import ingest_decode_folder
from heradecode.archive.catalogue import init_archive
from heradecode.archive.ingest import open_catalogue
from heradecode.archive.models import Decode
from heradecode.archive.users import add_user
from tests.archive.helpers import make_decode_folder

PASSWORDS = {"ada": "admin-pass-1", "tom": "team-pass-1", "pia": "public-pass-1"}
ROLES = {"ada": "admin", "tom": "team", "pia": "public"}


@dataclass
class WebArchive:
    """An archive folder with one released and one embargoed item, and one user per role."""

    folder: Path
    db_url: str | None
    released: int
    embargoed: int
    released_packets: int
    embargoed_packets: int
    decode_dirs: dict


def build_archive(tmp: Path, db_url: str | None = None) -> WebArchive:
    """Create the archive: item 'released' ingested 40 days ago, item 'embargoed' just now."""
    folder = tmp / "archive"
    init_archive(folder, db_url=db_url)
    d_old = make_decode_folder(tmp / "old", count=40, recording="released_pass", seed=1)
    d_new = make_decode_folder(tmp / "new", count=60, first=200, recording="embargoed_pass", seed=2,
                               start_unix_s=1728400000.0)
    old = ingest_decode_folder(folder, d_old, db_url=db_url, user="ada")
    new = ingest_decode_folder(folder, d_new, db_url=db_url, user="ada")
    engine = open_catalogue(folder, db_url)
    with engine.begin() as conn:
        conn.execute(update(Decode).where(Decode.id == old.decode_id).values(ingested_unix_s=time.time() - 40 * 86400))
        for name, role in ROLES.items():
            add_user(conn, name, role, PASSWORDS[name])
    return WebArchive(folder, db_url, old.decode_id, new.decode_id, old.n_packets, new.n_packets,
                      {"released": d_old, "embargoed": d_new})


def login_token(client, name: str) -> str:
    """A bearer token from POST /api/v1/token."""
    r = client.post("/api/v1/token", data={"username": name, "password": PASSWORDS[name]})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]

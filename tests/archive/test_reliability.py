"""Reliability: concurrent ingests lose no rows; kill -9 mid-ingest leaves a consistent archive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

import heradecode
from heradecode.archive import ingest_decode_folder
from heradecode.archive.catalogue import check_archive
from heradecode.archive.ingest import FAULT_ENV, open_catalogue
from heradecode.archive.models import Decode, Frame, Packet, Product
from tests.archive.helpers import make_decode_folder

SRC = str(Path(heradecode.__file__).resolve().parents[1])


def _cli(archive: Path, db_url: str | None, *paths: Path, env_extra: dict | None = None) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env_extra or {}))
    cmd = [sys.executable, "-m", "heradecode", "archive", "ingest", "--archive", str(archive),
           *(["--db", db_url] if db_url else []), "--user", "proc", *map(str, paths)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_processes_ingesting_at_once_lose_no_rows(archive, tmp_path):
    folder, db_url = archive
    # six decodes: three of recording A (versions), three of other recordings; both processes also share one
    decs = [make_decode_folder(tmp_path / f"d{i}", count=40 + 5 * i, seed=i,
                               recording="A" if i % 2 == 0 else f"B{i}") for i in range(6)]
    shared = make_decode_folder(tmp_path / "shared", count=30, recording="S")
    p1 = _cli(folder, db_url, decs[0], shared, decs[2], decs[4])
    p2 = _cli(folder, db_url, decs[1], shared, decs[3], decs[5])
    for p in (p1, p2):
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
    want_frames = sum((d / "frames.u8").stat().st_size // 1113 for d in decs + [shared])
    want_packets = sum(sum(1 for _ in open(d / "packets.csv")) - 1 for d in decs + [shared])
    eng = open_catalogue(folder, db_url)
    with eng.connect() as c:
        assert c.execute(select(func.count()).select_from(Decode)).scalar_one() == 7
        assert c.execute(select(func.count()).select_from(Frame)).scalar_one() == want_frames
        assert c.execute(select(func.count()).select_from(Packet)).scalar_one() == want_packets
        versions = c.execute(select(Decode.recording_id, Decode.version, Decode.is_latest)
                             .order_by(Decode.recording_id, Decode.version)).all()
    by_rec: dict[int, list] = {}
    for rec, ver, latest in versions:
        by_rec.setdefault(rec, []).append((ver, latest))
    assert sorted(len(v) for v in by_rec.values()) == [1, 1, 1, 1, 3]
    for vs in by_rec.values():
        assert [v for v, _ in vs] == list(range(1, len(vs) + 1))
        assert [latest for _, latest in vs] == [False] * (len(vs) - 1) + [True]
    want_products = sum(sum(1 for p in d.iterdir() if p.is_file()) for d in decs + [shared])
    assert check_archive(folder, db_url=db_url) == {"decodes": 7, "products": want_products, "missing_files": 0,
                                                    "count_mismatches": 0}


@pytest.mark.slow
def test_kill_9_mid_ingest_leaves_archive_consistent_and_retry_completes(archive, tmp_path):
    folder, db_url = archive
    first = ingest_decode_folder(folder, make_decode_folder(tmp_path / "first", count=20, recording="R0"),
                                 db_url=db_url)
    dec = make_decode_folder(tmp_path / "dec", count=80, recording="R1")
    p = _cli(folder, db_url, dec, env_extra={FAULT_ENV: "pause_in_transaction"})
    try:
        line = p.stderr.readline()
        assert "paused in transaction" in line, line + p.stderr.read()
        # readers do not wait for the open write transaction, and do not see it
        t0 = time.monotonic()
        with open_catalogue(folder, db_url).connect() as c:
            assert c.execute(select(func.count()).select_from(Decode)).scalar_one() == 1
        assert time.monotonic() - t0 < 10
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == -signal.SIGKILL
    eng = open_catalogue(folder, db_url)
    with eng.connect() as c:
        assert c.execute(select(Decode.id)).scalars().all() == [first.decode_id]
        assert c.execute(select(func.count()).select_from(Packet)).scalar_one() == first.n_packets
        assert c.execute(select(func.count()).select_from(Product)).scalar_one() == first.n_products
    assert check_archive(folder, db_url=db_url)["missing_files"] == 0
    retry = ingest_decode_folder(folder, dec, db_url=db_url)
    assert retry.created and retry.version == 1
    assert retry.n_packets == sum(1 for _ in open(dec / "packets.csv")) - 1
    res = check_archive(folder, db_url=db_url)
    assert res["missing_files"] == 0 and res["count_mismatches"] == 0 and res["decodes"] == 2

"""``heradecode archive``: init, ingest, query, export, stats, users; one-line errors."""

from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd
import pytest

from heradecode.cli import main
from tests.archive.helpers import LOW, make_decode_folder


def _run(capsys, *argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_round_trip(tmp_path, capsys, monkeypatch, db_url):
    arc = str(tmp_path / "arc")
    db = ["--db", db_url] if db_url else []
    dec = make_decode_folder(tmp_path / "dec", count=40)
    rc, out, _ = _run(capsys, "archive", "init", "--archive", arc, *db, "--embargo", "hera=10")
    assert rc == 0 and "archive ready" in out
    rc, out, _ = _run(capsys, "archive", "ingest", "--archive", arc, *db, str(dec), str(LOW), "--station", "ATA")
    assert rc == 0 and out.count("ingested as item") == 2
    rc, out, _ = _run(capsys, "archive", "query", "--archive", arc, *db, "--station", "ATA", "--count")
    assert int(out) == 2
    rc, out, _ = _run(capsys, "archive", "ingest", "--archive", arc, *db, str(dec))
    assert rc == 0 and "already archived" in out
    pk = pd.read_csv(dec / "packets.csv")
    rc, out, _ = _run(capsys, "archive", "query", "--archive", arc, *db, "--table", "packets", "--count",
                      "--where", "apid=260 and not pec=bad", "--recording", "pass_a.sigmf-data")
    assert rc == 0 and int(out) == int(((pk.apid == 260) & (pk.pec_ok != False)).sum())  # noqa: E712
    csv_out = tmp_path / "hk.csv"
    rc, out, _ = _run(capsys, "archive", "export", "--archive", arc, *db, "--table", "packets", "--apid", "260",
                      "--vc", "3", "--format", "csv", "--out", str(csv_out))
    assert rc == 0
    rows = list(csv.DictReader(open(csv_out)))
    assert [int(r["sequence_count"]) for r in rows] == pk[(pk.apid == 260) & (pk.vcid == 3)].sequence_count.tolist()
    zip_out = tmp_path / "all.zip"
    rc, out, _ = _run(capsys, "archive", "export", "--archive", arc, *db, "--format", "zip", "--out", str(zip_out))
    assert rc == 0 and "2 items" in out
    names = zipfile.ZipFile(zip_out).namelist()
    assert "1/frames.u8" in names and "2/metadata.xml" in names and "1/metadata.json" in names
    rc, out, _ = _run(capsys, "archive", "users", "add", "ann", "--role", "team", "--password-stdin",
                      "--archive", arc, *db, stdin="s3cret-pass\n", monkeypatch=monkeypatch)
    assert rc == 0
    rc, out, _ = _run(capsys, "archive", "users", "list", "--archive", arc, *db)
    assert "ann\tteam" in out
    rc, out, _ = _run(capsys, "archive", "stats", "--archive", arc, *db)
    assert rc == 0 and "items 2" in out


@pytest.mark.parametrize("argv,msg", [
    (["archive", "query"], "no archive folder"),
    (["archive", "query", "--archive", "{tmp}/nope"], "no such archive folder"),
    (["archive", "query", "--archive", "{arc}", "--where", "apid=1 or"], "filter"),
    (["archive", "query", "--archive", "{arc}", "--where", "apid='1; DROP TABLE x'"], "apid takes a number"),
    (["archive", "ingest", "--archive", "{arc}", "{tmp}/missing"], "no such decode folder"),
    (["archive", "ingest", "--archive", "{arc}", "{bad}"], "corrupt decode folder"),
    (["archive", "init", "--archive", "{arc}", "--embargo", "hera"], "MISSION=DAYS"),
    (["archive", "init", "--archive", "{tmp}/x", "--db", "mysql://a@b/c"], "unsupported database"),
    (["archive", "users", "add", "bob", "--archive", "{arc}", "--password-stdin"], "--role"),
])
def test_user_mistakes_give_one_line(tmp_path, capsys, monkeypatch, argv, msg):
    monkeypatch.delenv("HERADECODE_ARCHIVE", raising=False)
    monkeypatch.delenv("HERADECODE_ARCHIVE_DB", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("password123\n"))
    arc = tmp_path / "arc"
    main(["archive", "init", "--archive", str(arc)])
    bad = make_decode_folder(tmp_path / "bad", count=5)
    (bad / "decode.json").write_text('{"codeblocks": [')
    capsys.readouterr()
    rc = main([a.format(tmp=tmp_path, arc=arc, bad=bad) for a in argv])
    _, err = capsys.readouterr()
    assert rc == 2
    assert msg in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_init_ingests_and_adds_an_admin(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HERADECODE_ARCHIVE", str(tmp_path / "arc"))
    monkeypatch.setattr("sys.stdin", io.StringIO("admin-pass-1\n"))
    dec = make_decode_folder(tmp_path / "dec", count=20)
    assert main(["archive", "init", str(LOW), str(dec), "--admin", "me", "--password-stdin"]) == 0
    out = capsys.readouterr().out
    assert "administrator me added" in out and out.count("ingested as item") == 2
    from heradecode.archive.ingest import open_catalogue
    from heradecode.archive.users import authenticate

    with open_catalogue(tmp_path / "arc").connect() as conn:
        assert authenticate(conn, "me", "admin-pass-1").role == "admin"
        assert authenticate(conn, "me", "wrong") is None

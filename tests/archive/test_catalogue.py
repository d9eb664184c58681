"""Ingest, idempotence, versioning, data types, queries and exports, on SQLite and on PostgreSQL 15."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from xml.etree import ElementTree as ET

import pandas as pd
import pytest
from sqlalchemy import func, select, update

from heradecode.archive import ingest_decode_folder, ingest_frame_file
from heradecode.archive.access import SYSTEM, Principal
from heradecode.archive.catalogue import check_archive, set_embargo
from heradecode.archive.export import write_items_zip, write_table
from heradecode.archive.ingest import open_catalogue
from heradecode.archive.models import AuditEvent, CarrierPoint, Decode, Frame, Packet, Product
from heradecode.archive.query import count_query, get_item, housekeeping, run_query
from heradecode.archive.store import ContentStore, sha256_file
from heradecode.errors import UserError
from tests.archive.helpers import FRAME_LEN, HIGH, LOW, make_decode_folder

TEAM = Principal("tina", "team")
PUBLIC = Principal("pat", "public")


def _counts(folder, db_url):
    eng = open_catalogue(folder, db_url)
    with eng.connect() as c:
        return {m.__tablename__: c.execute(select(func.count()).select_from(m)).scalar_one()
                for m in (Decode, Frame, Packet, CarrierPoint, Product)}


def _packets_csv(folder):
    return pd.read_csv(folder / "packets.csv")


def test_ingest_decode_folder_catalogues_frames_packets_carrier_and_files(archive, tmp_path):
    folder, db_url = archive
    dec = make_decode_folder(tmp_path / "dec", count=60, failed_every=7)
    res = ingest_decode_folder(folder, dec, db_url=db_url, user="alice")
    n_frames = (dec / "frames.u8").stat().st_size // FRAME_LEN
    pk = _packets_csv(dec)
    assert res.created and res.version == 1
    assert res.n_frames == n_frames and n_frames < 60  # the failed codeblocks have no frame
    assert res.n_packets == len(pk) > 0
    assert {"HERA:FRAMES:L0", "HERA:PACKETS:L1", "HERA:RADIO_SCIENCE:L1b"} <= set(res.data_types)
    eng = open_catalogue(folder, db_url)
    with eng.connect() as c:
        rows = list(run_query(c, SYSTEM, "packets", limit=10_000).rows)
        assert [r["apid"] for r in rows] == pk["apid"].tolist()
        assert [r["sequence_count"] for r in rows] == pk["sequence_count"].tolist()
        assert [r["data"] for r in rows] == pk["data_hex"].tolist()
        frames = list(run_query(c, SYSTEM, "frames").rows)
        log = json.loads((dec / "decode.json").read_text())["codeblocks"]
        ok = [cb for cb in log if cb["crc_ok"]]
        assert [f["unix_s"] for f in frames] == pytest.approx([cb["unix_time"] for cb in ok])
        assert [f["vc_count"] for f in frames] == [cb["vc_count"] for cb in ok]
        assert [f["ebn0_db"] for f in frames] == pytest.approx([cb["ebn0_db"] for cb in ok])
        carrier = list(run_query(c, SYSTEM, "carrier").rows)
        assert len(carrier) == len(pd.read_csv(dec / "carrier.csv"))
        item = get_item(c, SYSTEM, res.decode_id)
        names = {p["name"]: p for p in item["products"]}
        assert set(names) == {p.name for p in dec.iterdir()}
        assert names["frames.u8"]["sha256"] == sha256_file(dec / "frames.u8")
        assert item["ingested_by"] == "alice" and item["parameters"]["mode"] == "high"
        audit = c.execute(select(AuditEvent.user, AuditEvent.action)).all()
        assert ("alice", "ingest") in [tuple(a) for a in audit]
    store = ContentStore(folder / "store")
    assert all(store.verify(p["sha256"]) for p in item["products"])
    assert check_archive(folder, db_url=db_url)["missing_files"] == 0


def test_folder_without_packet_table_has_its_packets_reassembled(archive, tmp_path):
    folder, db_url = archive
    dec = make_decode_folder(tmp_path / "dec", count=50)
    want = _packets_csv(dec)
    (dec / "packets.csv").unlink()
    res = ingest_decode_folder(folder, dec, db_url=db_url)
    assert res.n_packets == len(want)
    eng = open_catalogue(folder, db_url)
    with eng.connect() as c:
        rows = list(run_query(c, SYSTEM, "packets").rows)
    assert [r["data"] for r in rows] == want.data_hex.tolist()
    assert [r["obt_s"] is None for r in rows] == want.obt_s.isna().tolist()
    assert [r["obt_s"] for r in rows if r["obt_s"] is not None] == pytest.approx(want.obt_s.dropna().tolist())
    assert [r["pus_service"] for r in rows] == [None if v != v else int(v) for v in want.pus_service]


def test_reingest_changes_nothing(archive, tmp_path):
    folder, db_url = archive
    dec = make_decode_folder(tmp_path / "dec", count=30)
    first = ingest_decode_folder(folder, dec, db_url=db_url)
    before = _counts(folder, db_url)
    store_files = sorted(p for p in (folder / "store").rglob("*") if p.is_file())
    again = ingest_decode_folder(folder, dec, db_url=db_url)
    assert not again.created and again.decode_id == first.decode_id and again.version == 1
    assert _counts(folder, db_url) == before
    assert sorted(p for p in (folder / "store").rglob("*") if p.is_file()) == store_files


def test_new_decode_of_same_recording_is_new_version_and_latest_by_default(archive, tmp_path):
    folder, db_url = archive
    a = ingest_decode_folder(folder, make_decode_folder(tmp_path / "a", count=20, seed=1), db_url=db_url)
    b = ingest_decode_folder(folder, make_decode_folder(tmp_path / "b", count=30, seed=2), db_url=db_url)
    other = ingest_decode_folder(folder, make_decode_folder(tmp_path / "c", count=10, recording="pass_b"),
                                 db_url=db_url)
    assert (a.version, b.version, other.version) == (1, 2, 1)
    assert a.recording_id == b.recording_id != other.recording_id
    eng = open_catalogue(folder, db_url)
    with eng.connect() as c:
        latest = [r["item"] for r in run_query(c, TEAM, "items").rows]
        every = [r["item"] for r in run_query(c, TEAM, "items", all_versions=True).rows]
        assert latest == [b.decode_id, other.decode_id]
        assert every == [a.decode_id, b.decode_id, other.decode_id]
        assert count_query(c, TEAM, "frames") == b.n_frames + other.n_frames
        assert count_query(c, TEAM, "frames", all_versions=True) == a.n_frames + b.n_frames + other.n_frames
        assert [v["version"] for v in get_item(c, TEAM, a.decode_id)["versions"]] == [1, 2]


def test_frame_file_ingest_with_mission(archive):
    folder, db_url = archive
    res = ingest_frame_file(folder, LOW, mission="hera", db_url=db_url)
    assert res.created and res.n_frames == LOW.stat().st_size // FRAME_LEN
    from heradecode.products.telemetry import TelemetryProcessor
    from heradecode.ccsds.tmframe import FrameFile

    tp = TelemetryProcessor(keep_packets=True)
    for f in FrameFile(LOW, FRAME_LEN):
        tp.feed(f)
    tp.finish()
    assert res.n_packets == len(tp.packets)
    assert res.data_types == ("HERA:FRAMES:L0", "HERA:PACKETS:L1")
    assert not ingest_frame_file(folder, LOW, mission="hera", db_url=db_url).created
    with pytest.raises(UserError, match="unknown mission"):
        ingest_frame_file(folder, HIGH, mission="rosetta", db_url=db_url)


FILTERS = [
    ("apid=260", lambda d: d.apid == 260),
    ("apid=260 and not pec=bad", lambda d: (d.apid == 260) & (d.pec_ok != False)),  # noqa: E712
    ("apid=0 or (vc=3 and subtype=25)", lambda d: (d.apid == 0) | ((d.vcid == 3) & (d.pus_subtype == 25))),
    ("not vc=3", lambda d: d.vcid != 3),
    ("service>=3 and service<=5 and not vc=3", lambda d: d.pus_service.between(3, 5) & (d.vcid != 3)),
    ("obt>28000 and obt<=28300", lambda d: (d.obt_s > 28000) & (d.obt_s <= 28300)),
    ("apid=0 or kind=idle", lambda d: (d.apid == 0) | (d.kind == "idle")),
    ("pec=none and not apid=2047", lambda d: d.pec_ok.isna() & (d.apid != 2047)),
    ("kind=pus and pec=ok", lambda d: (d.kind == "pus") & (d.pec_ok == True)),  # noqa: E712
]


@pytest.mark.parametrize("expr,pick", FILTERS, ids=[f[0] for f in FILTERS])
def test_packet_filters_match_pandas(archive, tmp_path, expr, pick):
    folder, db_url = archive
    dec = make_decode_folder(tmp_path / "dec", count=120)
    ingest_decode_folder(folder, dec, db_url=db_url)
    pk = _packets_csv(dec)
    want = pk[pick(pk).fillna(False).astype(bool)]
    eng = open_catalogue(folder, db_url)
    with eng.connect() as c:
        got = pd.DataFrame(list(run_query(c, TEAM, "packets", expr).rows), columns=None)
    assert 0 < len(want) < len(pk)
    assert got.get("sequence_count", pd.Series(dtype=int)).tolist() == want["sequence_count"].tolist()


def test_item_filters_station_utc_level(archive, tmp_path):
    folder, db_url = archive
    a = ingest_decode_folder(folder, make_decode_folder(tmp_path / "a", count=20, recording="x1"), db_url=db_url)
    b = ingest_decode_folder(folder, make_decode_folder(tmp_path / "b", count=20, recording="x2",
                                                        start_unix_s=1728400000.0), db_url=db_url)
    f = ingest_frame_file(folder, LOW, db_url=db_url)
    eng = open_catalogue(folder, db_url)
    with eng.connect() as c:
        def items(expr):
            return [r["item"] for r in run_query(c, TEAM, "items", expr).rows]
        assert items("utc>=2024-10-08T00:00:00Z") == [b.decode_id]
        assert items("recording=x1 or recording=x2") == [a.decode_id, b.decode_id]
        assert items("level=L1b") == [a.decode_id, b.decode_id]
        assert items("not level=L1b") == [f.decode_id]
        assert items("mission=hera and apid=260") == [a.decode_id, b.decode_id, f.decode_id]
        assert items("recording~x") == [a.decode_id, b.decode_id]
        assert items("station=nowhere") == []
        assert count_query(c, TEAM, "frames", "crc=bad") == 0
        assert count_query(c, TEAM, "frames", f"not crc=bad and item={f.decode_id}") == f.n_frames


INJECTIONS = ["1; DROP TABLE packets", "' OR '1'='1", "1 OR 1=1", "x'); DELETE FROM decodes; --",
              "\" or \"\"=\"", "1/**/or/**/1=1", "0x104 union select * from users"]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_strings_are_refused_or_bound(archive, tmp_path, text):
    folder, db_url = archive
    ingest_decode_folder(folder, make_decode_folder(tmp_path / "d", count=10), db_url=db_url)
    before = _counts(folder, db_url)
    eng = open_catalogue(folder, db_url)
    with eng.connect() as c:
        for expr in (f"apid={text}", f"recording={text!r}" if "'" not in text else f'recording="{text}"',
                     f"station='{text}'" if "'" not in text else "station=x", text):
            try:
                n = count_query(c, TEAM, "packets", expr)
            except UserError:
                continue
            assert n == 0
    assert _counts(folder, db_url) == before


def test_exports_round_trip(archive, tmp_path):
    folder, db_url = archive
    dec = make_decode_folder(tmp_path / "dec", count=50)
    ingest_decode_folder(folder, dec, db_url=db_url)
    pk = _packets_csv(dec)
    want = pk[pk.apid == 260]
    eng = open_catalogue(folder, db_url)
    with eng.connect() as c:
        out = {}
        for fmt in ("csv", "json", "xml", "parquet"):
            buf = io.BytesIO()
            n = write_table(run_query(c, TEAM, "packets", "apid=260"), fmt, buf)
            assert n == len(want)
            out[fmt] = buf.getvalue()
    rows_csv = list(csv.DictReader(io.StringIO(out["csv"].decode())))
    assert [int(r["sequence_count"]) for r in rows_csv] == want.sequence_count.tolist()
    doc = json.loads(out["json"])
    assert [r["data"] for r in doc["rows"]] == want.data_hex.tolist()
    root = ET.fromstring(out["xml"])
    assert [int(r.find("sequence_count").text) for r in root.findall("row")] == want.sequence_count.tolist()
    df = pd.read_parquet(io.BytesIO(out["parquet"]))
    assert df.obt_s.tolist() == pytest.approx(want.obt_s.tolist())
    assert "time_utc" in df.columns


def test_zip_of_items_has_files_and_metadata(archive, tmp_path):
    folder, db_url = archive
    dec = make_decode_folder(tmp_path / "dec", count=20)
    res = ingest_decode_folder(folder, dec, db_url=db_url)
    eng = open_catalogue(folder, db_url)
    buf = io.BytesIO()
    with eng.connect() as c:
        written = write_items_zip(c, TEAM, [res.decode_id, 999], ContentStore(folder / "store"), buf)
    assert written == [res.decode_id]
    zf = zipfile.ZipFile(buf)
    assert zf.read(f"{res.decode_id}/frames.u8") == (dec / "frames.u8").read_bytes()
    meta = json.loads(zf.read(f"{res.decode_id}/metadata.json"))
    assert meta["n_packets"] == res.n_packets
    xml = ET.fromstring(zf.read(f"{res.decode_id}/metadata.xml"))
    assert int(xml.find("n_packets").text) == res.n_packets


def test_housekeeping_series_for_pandas(archive, tmp_path):
    folder, db_url = archive
    dec = make_decode_folder(tmp_path / "dec", count=80)
    ingest_decode_folder(folder, dec, db_url=db_url)
    pk = _packets_csv(dec)
    want = pk[(pk.apid == 260) & (pk.pus_service == 3)]
    eng = open_catalogue(folder, db_url)
    with eng.connect() as c:
        df = housekeeping(c, TEAM, 260, service=3)
    assert isinstance(df.index, pd.DatetimeIndex) and str(df.index.tz) == "UTC"
    assert df.index.is_monotonic_increasing
    assert sorted(df.sequence_count) == sorted(want.sequence_count)
    assert df.data.iloc[0] == bytes.fromhex(want.data_hex.iloc[0])


def test_embargo_hides_recent_items_from_public_users(archive, tmp_path):
    folder, db_url = archive
    old = ingest_decode_folder(folder, make_decode_folder(tmp_path / "a", count=10, recording="r1"), db_url=db_url)
    new = ingest_decode_folder(folder, make_decode_folder(tmp_path / "b", count=10, recording="r2"), db_url=db_url)
    eng = open_catalogue(folder, db_url)
    import time as _t

    with eng.begin() as c:
        c.execute(update(Decode).where(Decode.id == old.decode_id).values(ingested_unix_s=_t.time() - 31 * 86400))
    with eng.connect() as c:
        assert [r["item"] for r in run_query(c, PUBLIC, "items").rows] == [old.decode_id]
        assert count_query(c, PUBLIC, "packets") == old.n_packets
        assert get_item(c, PUBLIC, new.decode_id) is None
        assert get_item(c, TEAM, new.decode_id) is not None
    set_embargo(folder, "hera", 40, db_url=db_url)
    with eng.connect() as c:
        assert count_query(c, PUBLIC, "items") == 0
    set_embargo(folder, "hera", 0, db_url=db_url)
    with eng.connect() as c:
        assert count_query(c, PUBLIC, "items") == 2


@pytest.mark.parametrize("damage,message", [
    ("truncate_json", "decode.json is not valid JSON"),
    ("missing_frames", "frames.u8 is missing"),
    ("missing_carrier", "carrier.csv is missing"),
    ("short_frames", "frames.u8"),
    ("extra_frame", "frames.u8 holds"),
    ("bad_packet_data", "packets.csv is damaged"),
    ("packet_beyond_frames", "packets.csv is damaged"),
    ("packets_header", "packets.csv does not have"),
])
def test_corrupt_decode_folder_is_refused_and_nothing_touched(archive, tmp_path, damage, message):
    folder, db_url = archive
    good = ingest_decode_folder(folder, make_decode_folder(tmp_path / "good", count=10), db_url=db_url)
    dec = make_decode_folder(tmp_path / "bad", count=12, recording="other")
    if damage == "truncate_json":
        raw = (dec / "decode.json").read_bytes()
        (dec / "decode.json").write_bytes(raw[: len(raw) // 2])
    elif damage == "missing_frames":
        (dec / "frames.u8").unlink()
    elif damage == "missing_carrier":
        (dec / "carrier.csv").unlink()
    elif damage == "short_frames":
        with open(dec / "frames.u8", "r+b") as fh:
            fh.truncate(FRAME_LEN * 5 + 100)
    elif damage == "extra_frame":
        with open(dec / "frames.u8", "ab") as fh:
            fh.write(b"\0" * FRAME_LEN)
    else:
        lines = (dec / "packets.csv").read_text().splitlines()
        cells = lines[-3].split(",")
        if damage == "bad_packet_data":
            cells[-1] = "zz" + cells[-1][2:]
        elif damage == "packet_beyond_frames":
            cells[0] = "9999"
        else:
            lines[0] = lines[0].replace("apid", "apld")
        lines[-3] = ",".join(cells)
        (dec / "packets.csv").write_text("\n".join(lines) + "\n")
    before = _counts(folder, db_url)
    store_before = sorted(p for p in (folder / "store").rglob("*") if p.is_file())
    with pytest.raises(UserError, match=message) as err:
        ingest_decode_folder(folder, dec, db_url=db_url)
    assert "\n" not in str(err.value) and "nothing was ingested" in str(err.value)
    assert _counts(folder, db_url) == before
    assert sorted(p for p in (folder / "store").rglob("*") if p.is_file()) == store_before
    assert good.created


def test_migrations_give_exactly_the_models_schema(archive):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from heradecode.archive.models import Base

    folder, db_url = archive
    with open_catalogue(folder, db_url).connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_housekeeping_without_octets(archive, tmp_path):
    folder, db_url = archive
    ingest_decode_folder(folder, make_decode_folder(tmp_path / "dec", count=30), db_url=db_url)
    with open_catalogue(folder, db_url).connect() as c:
        full = housekeeping(c, TEAM, 260)
        light = housekeeping(c, TEAM, 260, with_data=False)
    assert "data" not in light.columns and len(light) == len(full) > 0
    assert light.sequence_count.tolist() == full.sequence_count.tolist()


def test_housekeeping_filter_cannot_widen_the_apid(archive, tmp_path):
    folder, db_url = archive
    ingest_decode_folder(folder, make_decode_folder(tmp_path / "dec", count=60), db_url=db_url)
    with open_catalogue(folder, db_url).connect() as c:
        with pytest.raises(UserError):
            housekeeping(c, TEAM, 0, where="vc=1) or (vc=3")
        df = housekeeping(c, TEAM, 0, where="vc=1 or vc=3")
    assert set(df.apid) == {0}


def test_frame_files_of_another_mission_are_catalogued_by_its_profile(archive):
    """Any mission profile, not only Hera's: Euclid's TM frames with PUS-A packets."""
    from heradecode.ccsds.tmframe import FrameFile
    from heradecode.missions import load_mission
    from heradecode.products.telemetry import TelemetryProcessor
    from tests.helpers import REPO

    folder, db_url = archive
    path = REPO / "recordings" / "missions" / "euclid_lowrate_frames_2023_07_02_06_58_19_first400.u8"
    euclid = load_mission("euclid")
    res = ingest_frame_file(folder, path, mission="euclid", db_url=db_url)
    tp = TelemetryProcessor(mission=euclid, keep_packets=True)
    for f in FrameFile(path, res_len := path.stat().st_size // res.n_frames, parse=tp.parse):
        tp.feed(f)
    tp.finish()
    assert res.created and res.n_frames == 400 and res_len in (euclid.frame_length, euclid.frame_length_no_fecf)
    assert res.n_packets == len(tp.packets) > 0
    assert res.data_types == ("EUCLID:FRAMES:L0", "EUCLID:PACKETS:L1")

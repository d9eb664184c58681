"""The housekeeping series (heradecode.archive.query.housekeeping) against the packet table, both back-ends.

The series is read by a path of its own (SQLite: the ADBC driver; PostgreSQL: COPY), so it is
checked against the generic packet query row by row, with untimed packets (frame files) mixed in.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest

from heradecode.archive import ingest_decode_folder, ingest_frame_file
from heradecode.archive.access import Principal
from heradecode.archive.catalogue import set_embargo
from heradecode.archive.ingest import open_catalogue
from heradecode.archive.query import housekeeping, run_query
from tests.archive.helpers import HIGH, LOW, make_decode_folder

TEAM = Principal("tina", "team")
PUBLIC = Principal("pat", "public")


def _key(r):
    t = r["unix_s"]
    return (r["item"], r["sequence_count"], None if t is None or t != t else round(t, 6), r["obt_s"])


@pytest.fixture
def mixed(archive, tmp_path):
    """Two timed decodes and one untimed frame file in one archive."""
    folder, db_url = archive
    ingest_frame_file(folder, LOW, mission="hera", db_url=db_url)
    ingest_decode_folder(folder, make_decode_folder(tmp_path / "a", count=70, recording="a"), db_url=db_url)
    ingest_decode_folder(folder, make_decode_folder(tmp_path / "b", first=70, count=50, recording="b",
                                                    start_unix_s=1728320791.0 - 3600.0), db_url=db_url)
    return folder, db_url


def test_series_equals_the_packet_table(mixed):
    folder, db_url = mixed
    with open_catalogue(folder, db_url).connect() as c:
        rows = list(run_query(c, TEAM, "packets").rows)
        apids = sorted({r["apid"] for r in rows})
        untimed = 0
        for apid in apids:
            want = defaultdict(list)
            for r in rows:
                if r["apid"] == apid:
                    want[_key(r)].append(r)
            df = housekeeping(c, TEAM, apid)
            light = housekeeping(c, TEAM, apid, with_data=False)
            assert len(df) == sum(map(len, want.values())) and "data" not in light.columns
            assert light.sequence_count.tolist() == df.sequence_count.tolist()
            for rec in df.reset_index().to_dict("records"):
                t = rec["unix_s"]
                key = (rec["item"], rec["sequence_count"], None if math.isnan(t) else round(t, 6),
                       None if math.isnan(rec["obt_s"]) else rec["obt_s"])
                r = want[key].pop()
                assert rec["data"] == bytes.fromhex(r["data"])
                assert rec["pus_service"] == r["pus_service"] or (r["pus_service"] is None
                                                                   and math.isnan(rec["pus_service"]))
                assert rec["pec_ok"] == r["pec_ok"]
                untimed += math.isnan(t)
            assert not any(want.values())
            timed = df.index[df.index.notna()]
            assert timed.is_monotonic_increasing and str(df.index.tz) == "UTC"
    assert untimed > 0  # the frame file's packets, which have no time, came through


def test_series_filters_and_embargo(mixed):
    folder, db_url = mixed
    with open_catalogue(folder, db_url).connect() as c:
        rows = [r for r in run_query(c, TEAM, "packets").rows if r["time_utc"] is not None]
        apid = max({r["apid"] for r in rows}, key=lambda a: sum(r["apid"] == a for r in rows))
        want = sorted(r["sequence_count"] for r in rows if r["apid"] == apid)
        df = housekeeping(c, TEAM, apid, where="recording = 'a' or recording = 'b'")
        assert sorted(df.sequence_count) == want
        assert np.isfinite(df.unix_s).all()
        assert len(housekeeping(c, TEAM, apid, where="recording = 'nothing'")) == 0
        assert len(housekeeping(c, PUBLIC, apid)) == 0  # ingested just now: under embargo
    set_embargo(folder, "hera", 0, db_url=db_url)
    with open_catalogue(folder, db_url).connect() as c:
        assert len(housekeeping(c, PUBLIC, apid)) == len(housekeeping(c, TEAM, apid)) > 0


def test_series_with_thousands_of_untimed_packets_first(archive, tmp_path):
    """8,772 untimed APID 260 packets (the high-rate frame file) sort before the timed ones."""
    folder, db_url = archive
    ingest_frame_file(folder, HIGH, mission="hera", db_url=db_url)
    ingest_decode_folder(folder, make_decode_folder(tmp_path / "a", count=40), db_url=db_url)
    with open_catalogue(folder, db_url).connect() as c:
        rows = [r for r in run_query(c, TEAM, "packets", where="apid = 260").rows]
        df = housekeeping(c, TEAM, 260, with_data=False)
    n_untimed = sum(r["unix_s"] is None for r in rows)
    assert n_untimed > 5000 and len(df) == len(rows) > n_untimed
    assert int(df.unix_s.isna().sum()) == n_untimed and int(df.index.isna().sum()) == n_untimed
    assert sorted(df.unix_s.dropna()) == sorted(r["unix_s"] for r in rows if r["unix_s"] is not None)
    assert sorted(df.obt_s.dropna()) == sorted(r["obt_s"] for r in rows if r["obt_s"] is not None)


def test_series_through_the_connection_without_the_drivers(mixed, monkeypatch):
    """The fallback (no ADBC driver, in-memory SQLite) gives the same series, after a streamed query."""
    import heradecode.archive.query as query

    folder, db_url = mixed
    with open_catalogue(folder, db_url).connect() as c:
        rows = [r for r in run_query(c, TEAM, "packets").rows]  # streamed (yield_per) on this connection
        assert "yield_per" not in c.get_execution_options()
        fast = housekeeping(c, TEAM, 260)
        monkeypatch.setattr(query, "_hk_table_sqlite", lambda *a, **k: None)
        monkeypatch.setattr(query, "_hk_table_postgresql", lambda *a, **k: None)
        slow = housekeeping(c, TEAM, 260)
    assert len(slow) == len(fast) == sum(r["apid"] == 260 for r in rows) > 0
    assert slow.sequence_count.tolist() == fast.sequence_count.tolist()
    assert [bytes(b) for b in slow.data] == [bytes(b) for b in fast.data]
    assert np.array_equal(slow.unix_s.to_numpy(), fast.unix_s.to_numpy(), equal_nan=True)

"""``heradecode batch --archive A --where EXPR``: the catalogued recordings a filter selects, decoded again."""

import json
import shutil

import pytest

from heradecode.cli import main
from tests.batch.helpers import ARCHIVED, decoded_frames, expected_frames, report_rows
from tests.helpers import SIM_DIR

pytestmark = pytest.mark.slow

META = {"hera_low_sim": "hera_low_sim.sigmf-meta", "hera_high_sim": "hera_high_sim_0x.sigmf-meta"}


@pytest.fixture(scope="module")
def catalogued(tmp_path_factory):
    """(archive, recordings folder): both archived recordings decoded by a batch and ingested into a new archive."""
    from heradecode.archive.catalogue import init_archive

    base = tmp_path_factory.mktemp("batch_archive")
    recs = base / "recordings"
    recs.mkdir()
    for f in SIM_DIR.glob("*.sigmf-*"):
        shutil.copy2(f, recs / f.name)
    arc = base / "arc"
    init_archive(arc)
    assert main(["batch", str(recs), "--out", str(base / "first"), "--archive", str(arc), "--workers", "2",
                 "--quiet"]) == 0
    return arc, recs


def _batch_json(out):
    return json.loads((out / "batch.json").read_text())


def test_ingest_keeps_the_path_of_each_recordings_metadata(catalogued):
    from heradecode.archive.access import SYSTEM
    from heradecode.archive.ingest import open_catalogue
    from heradecode.archive.query import recording_paths

    arc, recs = catalogued
    with open_catalogue(arc).connect() as conn:
        rows = recording_paths(conn, SYSTEM)
    assert sorted(r["path"] for r in rows) == sorted(str((recs / m).resolve()) for m in META.values())


@pytest.mark.parametrize("where,selected", [("recording~low", ["hera_low_sim"]),
                                            ("recording~high and mission=hera", ["hera_high_sim"]),
                                            ("all", list(ARCHIVED))])
def test_a_query_decodes_exactly_the_selected_recordings_to_their_golden_lists(catalogued, tmp_path, where,
                                                                               selected):
    arc, recs = catalogued
    out = tmp_path / "out"
    assert main(["batch", "--archive", str(arc), "--where", where, "--out", str(out), "--workers", "2",
                 "--quiet"]) == 0
    rows = report_rows(out)
    assert sorted(rows) == sorted(selected)
    for name in selected:
        assert rows[name]["status"] == "ok"
        assert rows[name]["recording"] == str((recs / META[name]).resolve())
        assert decoded_frames(out, name) == expected_frames(name)
    assert _batch_json(out)["missing_from_archive"] == []


def test_a_recording_moved_away_is_reported_and_the_rest_decoded(catalogued, tmp_path, capsys):
    arc, recs = catalogued
    away = tmp_path / "away"
    away.mkdir()
    moved = sorted(recs.glob("hera_high_sim_0*.sigmf-*"))
    for f in moved:
        shutil.move(f, away / f.name)
    out = tmp_path / "out"
    try:
        rc = main(["batch", "--archive", str(arc), "--query", "mission=hera", "--out", str(out), "--workers", "2",
                   "--quiet"])
    finally:
        for f in moved:
            shutil.move(away / f.name, f)
    err = capsys.readouterr().err
    assert rc == 1  # not everything selected was decoded
    lines = [ln for ln in err.splitlines() if "skipped" in ln]
    assert len(lines) == 1 and "hera_high_sim_0x" in lines[0] and "no such file" in lines[0], err
    assert "1 catalogued recording missing, 1 found" in err
    rows = report_rows(out)
    assert list(rows) == ["hera_low_sim"] and rows["hera_low_sim"]["status"] == "ok"
    assert decoded_frames(out, "hera_low_sim") == expected_frames("hera_low_sim")
    missing = _batch_json(out)["missing_from_archive"]
    assert [m["path"] for m in missing] == [str((recs / META["hera_high_sim"]).resolve())]


def test_a_query_and_inputs_together_decode_each_recording_once(catalogued, tmp_path):
    arc, recs = catalogued
    out = tmp_path / "out"
    assert main(["batch", str(recs / "hera_low_sim.sigmf-data"), "--archive", str(arc), "--where",
                 "recording~low", "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert list(report_rows(out)) == ["hera_low_sim"]


def test_query_mistakes_are_one_line(catalogued, tmp_path, capsys):
    arc, _ = catalogued
    out = str(tmp_path / "o")
    assert main(["batch", "--where", "mission=hera", "--out", out]) == 2  # no archive
    assert main(["batch", "--archive", str(arc), "--where", "mission=", "--out", out]) == 2  # not a filter
    assert main(["batch", "--archive", str(arc), "--where", "station=nowhere", "--out", out]) == 2  # matches none
    assert main(["batch", "--archive", str(tmp_path / "no_archive"), "--where", "all", "--out", out]) == 2
    assert main(["batch", "--out", out]) == 2  # nothing to decode
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 5 and "Traceback" not in err, err
    assert not (tmp_path / "o").exists()


def test_a_recording_without_a_path_is_reported_until_it_is_ingested_again(catalogued, tmp_path, capsys):
    from sqlalchemy import select, update

    from heradecode.archive.db import writer
    from heradecode.archive.ingest import open_catalogue
    from heradecode.archive.models import Decode, Recording

    arc, recs = catalogued
    engine = open_catalogue(arc)
    with writer(engine).begin() as conn:  # as a recording catalogued before revision 0003
        conn.execute(update(Recording).where(Recording.name.like("hera_low%")).values(path=None))
    assert main(["batch", "--archive", str(arc), "--where", "recording~low", "--out", str(tmp_path / "a"),
                 "--quiet"]) == 1
    assert "holds no path" in capsys.readouterr().err
    assert report_rows(tmp_path / "a") == {}
    # the same decode ingested again (already archived: no new version) records where the recording is
    assert main(["batch", str(recs / META["hera_low_sim"]), "--archive", str(arc), "--out", str(tmp_path / "b"),
                 "--workers", "1", "--quiet"]) == 0
    with engine.connect() as conn:
        assert conn.execute(select(Recording.path).where(Recording.name.like("hera_low%"))).scalar() == \
            str((recs / META["hera_low_sim"]).resolve())
        assert len(conn.execute(select(Recording.id)).all()) == 2
        low = select(Recording.id).where(Recording.name.like("hera_low%")).scalar_subquery()
        assert conn.execute(select(Decode.version).where(Decode.recording_id == low)).scalars().all() == [1]

"""``heradecode decode --archive DIR``: the decode is ingested when it ends."""

from __future__ import annotations

import pandas as pd
import pytest

from heradecode.archive.access import SYSTEM
from heradecode.archive.catalogue import init_archive
from heradecode.archive.ingest import open_catalogue
from heradecode.archive.query import get_item, run_query
from heradecode.cli import main
from tests.helpers import SIM_DIR, golden


@pytest.mark.slow
def test_decode_with_archive_ingests_the_products(tmp_path, capsys):
    arc = tmp_path / "arc"
    init_archive(arc)
    out = tmp_path / "dec"
    rc = main(["decode", str(SIM_DIR / "hera_high_sim_0x.sigmf-meta"), "--out", str(out), "--archive", str(arc),
               "--quiet"])
    text = capsys.readouterr().out
    assert rc == 0 and "archived in" in text
    with open_catalogue(arc).connect() as conn:
        items = list(run_query(conn, SYSTEM, "items").rows)
        assert len(items) == 1 and items[0]["n_frames"] == len(golden("hera_high_sim"))
        item = get_item(conn, SYSTEM, items[0]["item"])
        packets = list(run_query(conn, SYSTEM, "packets").rows)
    assert item["recording"]["name"] == "hera_high_sim_0x.sigmf-data" and item["mode"] == "high"
    assert {p["name"] for p in item["products"]} == {p.name for p in out.iterdir() if p.is_file()}
    assert [p["data"] for p in packets] == pd.read_csv(out / "packets.csv").data_hex.tolist()
    # a second identical decode changes nothing
    assert main(["decode", str(SIM_DIR / "hera_high_sim_0x.sigmf-meta"), "--out", str(tmp_path / "dec2"),
                 "--archive", str(arc), "--quiet"]) == 0
    assert "already there" in capsys.readouterr().out


def test_the_archive_records_the_heradecode_that_decoded(tmp_path):
    import json

    from heradecode.archive.query import get_item
    from tests.archive.helpers import make_decode_folder

    arc = tmp_path / "arc"
    init_archive(arc)
    folder = make_decode_folder(tmp_path / "dec", count=5)
    doc = json.loads((folder / "decode.json").read_text())
    doc["heradecode_version"] = "0.0.7"  # an older decode, ingested by this heradecode
    (folder / "decode.json").write_text(json.dumps(doc))
    from heradecode.archive.ingest import ingest_decode_folder

    res = ingest_decode_folder(arc, folder)
    with open_catalogue(arc).connect() as conn:
        assert get_item(conn, SYSTEM, res.decode_id)["heradecode_version"] == "0.0.7"

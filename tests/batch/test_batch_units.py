"""Fast unit and property tests of the batch's naming, pairing and report table (no decoding)."""

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from heradecode.batch import find_recordings, recording_name
from heradecode.cli.batch import summary_table

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)


@given(NAMES, st.sampled_from(["_0x", "_0y", ""]), st.sampled_from([".sigmf-meta", ".sigmf-data", ""]))
def test_recording_name_drops_extension_and_polarization(base, pol, ext):
    assert recording_name(Path("/some/where") / f"{base}{pol}{ext}") == base


@given(NAMES)
def test_a_pair_and_its_files_are_one_recording(tmp_path_factory, base):
    folder = tmp_path_factory.mktemp("pair")
    for pol in ("_0x", "_0y"):
        for ext in (".sigmf-meta", ".sigmf-data"):
            (folder / f"{base}{pol}{ext}").write_text("{}")
    named = [folder / f"{base}_0y.sigmf-data", folder / f"{base}_0x.sigmf-meta", folder]
    assert find_recordings(named) == [folder / f"{base}_0y.sigmf-data"]  # the first name given stands for it


def test_summary_table_lists_every_recording_and_the_totals():
    rows = [dict(name="a", status="ok", mode="high", frames=8, duration_s=1.0, seconds=2.0, reason=""),
            dict(name="long_name_b", status="failed", mode="", frames=0, duration_s=0.0, seconds=0.1,
                 reason="not valid JSON")]
    text = summary_table({"recordings": rows, "signal_s": 1.0, "wall_s": 4.0, "runner": "local", "workers": 2})
    lines = text.splitlines()
    assert len(lines) == 4 and lines[0].startswith("recording  ")
    assert "not valid JSON" in lines[2] and lines[2].startswith("long_name_b")
    assert "2 recordings: 1 ok, 1 failed; 8 frames decoded in 4.0 s (0.25 s of signal per s, local, 2 workers)" \
        == lines[3]

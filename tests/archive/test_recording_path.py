"""recordings.path: the recording's metadata file, from the data file a decode folder's metadata names."""

from hypothesis import given, strategies as st

from heradecode.archive.ingest import recording_path

NAMES = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="_-."),
                min_size=1, max_size=30)


@given(NAMES)
def test_a_sigmf_data_file_gives_the_metadata_beside_it(name):
    assert recording_path({"heradecode:source_dataset": f"/d/{name}.sigmf-data"}) == f"/d/{name}.sigmf-meta"
    assert recording_path({"core:dataset": f"/d/{name}.sigmf-data"}) == f"/d/{name}.sigmf-meta"  # older folders


def test_the_newer_key_wins_and_a_raw_data_file_is_kept_as_it_is():
    both = {"heradecode:source_dataset": "/new/a_0x.sigmf-data", "core:dataset": "/old/a_0x.sigmf-data"}
    assert recording_path(both) == "/new/a_0x.sigmf-meta"
    assert recording_path({"core:dataset": "/d/pass.ci16"}) == "/d/pass.ci16"


def test_no_or_bad_dataset_gives_none():
    for glob in ({}, {"core:dataset": ""}, {"core:dataset": 3}, {"heradecode:source_dataset": None}):
        assert recording_path(glob) is None

"""open_recording on SigMF: every layout, metadata handling, and one clear error per bad input."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heradecode.errors import UserError
from heradecode.io import TruncatedRecordingWarning, open_recording
from heradecode.io.sigmf_write import write_collection

from tests.io.helpers import FREQ, START, components, expected_complex, write_recording


def _edit_meta(meta: Path, fn) -> None:
    d = json.loads(meta.read_text())
    fn(d)
    meta.write_text(json.dumps(d))


def _pair(tmp_path, n=500, name="hera_2024-10-07T16:24:20.353705", datatype="ci16_le"):
    comps = components(datatype, n, 2, seed=5)
    mx = write_recording(tmp_path / f"{name}_0x", comps[:, :1].copy(), datatype)
    my = write_recording(tmp_path / f"{name}_0y", comps[:, 1:].copy(), datatype)
    return mx, my, comps


# --------------------------------------------------------------------------- layouts
def test_two_channel_file_by_any_name(two_channel):
    meta, comps = two_channel
    data = meta.with_name("rec.sigmf-data")
    base = meta.with_name("rec")
    for p in (meta, data, base, str(meta)):
        rec = open_recording(p)
        assert rec.num_channels == 2 and rec.channel_names == ("X", "Y")
        assert rec.samp_rate == 6_144_000 and rec.center_freq_hz == FREQ
        assert rec.start_time == np.datetime64("2024-10-07T16:24:20.123456789", "ns")
        assert rec.paths == (data,)
        np.testing.assert_array_equal(rec.read(), expected_complex("ci16_le", comps))


def test_pair_by_suffix_either_member_and_both(tmp_path):
    mx, my, comps = _pair(tmp_path)
    want = expected_complex("ci16_le", comps)
    for arg in (mx, my, mx.with_name(mx.name.replace("meta", "data")), [my, mx], [mx, my]):
        rec = open_recording(arg)
        assert rec.num_channels == 2
        assert [p.name for p in rec.paths] == [mx.name.replace("meta", "data"), my.name.replace("meta", "data")]
        np.testing.assert_array_equal(rec.read(), want)


def test_pair_by_collection(tmp_path):
    comps = components("ci8", 300, 2, seed=2)
    a = write_recording(tmp_path / "pol_a", comps[:, :1].copy(), "ci8")
    b = write_recording(tmp_path / "pol_b", comps[:, 1:].copy(), "ci8")
    coll = write_collection(tmp_path / "obs", [a, b])
    rec = open_recording(coll)
    np.testing.assert_array_equal(rec.read(), expected_complex("ci8", comps))
    rec2 = open_recording(tmp_path / "obs")  # base name finds the collection
    assert rec2.paths == rec.paths


def test_lone_x_reads_one_polarization_with_warning(tmp_path):
    comps = components("ci16_le", 100, 1)
    mx = write_recording(tmp_path / "cap_0x", comps, "ci16_le")
    with pytest.warns(UserWarning, match="partner"):
        rec = open_recording(mx)
    assert rec.num_channels == 1 and rec.channel_names == ("X",)


def test_annotations_and_metadata_exposed(tmp_path):
    comps = components("ci16_le", 100, 2)
    ann = [{"core:sample_start": 10, "core:sample_count": 20, "core:label": "CADU 0", "heradecode:frame_index": 0}]
    meta = write_recording(tmp_path / "a", comps, "ci16_le", annotations=ann, hw="USRP N321", antenna="ATA 1a")
    rec = open_recording(meta)
    assert len(rec.annotations) == 1
    a = rec.annotations[0]
    assert (a.start_sample, a.num_samples, a.label) == (10, 20, "CADU 0")
    assert a.fields["heradecode:frame_index"] == 0
    assert rec.metadata["core:hw"] == "USRP N321"
    assert rec.metadata["antenna:model"] == "ATA 1a"


def test_non_conforming_dataset_with_header(tmp_path):
    comps = components("ci16_le", 64, 2)
    raw = tmp_path / "capture.bin"
    raw.write_bytes(b"H" * 72 + comps.tobytes() + b"T" * 4)
    meta = tmp_path / "capture.sigmf-meta"
    meta.write_text(json.dumps({
        "global": {"core:datatype": "ci16_le", "core:sample_rate": 1e6, "core:num_channels": 2,
                   "core:version": "1.2.0", "core:dataset": "capture.bin", "core:trailing_bytes": 4},
        "captures": [{"core:sample_start": 0, "core:header_bytes": 72, "core:frequency": 8.4e9,
                      "core:datetime": START}],
        "annotations": [],
    }))
    for arg in (meta, raw):  # the raw file finds the metadata that names it
        rec = open_recording(arg)
        assert rec.num_samples == 64
        np.testing.assert_array_equal(rec.read(), expected_complex("ci16_le", comps))


def test_options_fill_in_missing_time_and_frequency(two_channel):
    meta, _ = two_channel

    def drop(d):
        del d["captures"][0]["core:datetime"]
        del d["captures"][0]["core:frequency"]

    _edit_meta(meta, drop)
    rec = open_recording(meta, center_freq_hz=8.4e9, start_time="2024-10-07T00:00:00Z")
    assert rec.center_freq_hz == 8.4e9
    assert rec.start_time == np.datetime64("2024-10-07T00:00:00", "ns")


def test_option_overriding_metadata_warns(two_channel):
    with pytest.warns(UserWarning, match="instead of the metadata"):
        rec = open_recording(two_channel[0], center_freq_hz=1e9)
    assert rec.center_freq_hz == 1e9


def test_contiguous_captures_are_accepted(two_channel):
    meta, _ = two_channel

    def add(d):
        d["captures"].append({"core:sample_start": 500, "core:frequency": FREQ,
                              "core:datetime": "2024-10-07T16:24:20.123538170Z"})  # +500/6.144e6 s

    _edit_meta(meta, add)
    assert open_recording(meta).num_samples == 1000


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["global"].pop("core:sample_rate"), "core:sample_rate is missing"),
        (lambda d: d["global"].pop("core:datatype"), "core:datatype is missing"),
        (lambda d: d["global"].update({"core:sample_rate": -5}), "core:sample_rate: -5 is less than or equal to the minimum of 0"),
        (lambda d: d["global"].update({"core:datatype": "rf32_le"}), "only complex"),
        (lambda d: d["global"].update({"core:datatype": "ci12_le"}), "core:datatype: .ci12_le. does not match"),
        (lambda d: d["global"].update({"core:num_channels": 4}), "only 1 or 2"),
        (lambda d: d["captures"][0].pop("core:datetime"), "core:datetime .*missing"),
        (lambda d: d["captures"][0].pop("core:frequency"), "core:frequency .*missing"),
        (lambda d: d.update({"captures": []}), "no capture segment"),
        (lambda d: d["captures"].append({"core:sample_start": 500, "core:frequency": 8.4e9}), "retunes"),
        (lambda d: d["captures"].append({"core:sample_start": 500, "core:datetime": "2024-10-07T16:25:00Z"}),
         "gap"),
        (lambda d: d["global"].update({"core:dataset": "nowhere.bin"}), "does not exist"),
    ],
)
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_bad_metadata_one_line_error(two_channel, edit, message):
    meta, _ = two_channel
    _edit_meta(meta, edit)
    with pytest.raises(UserError, match=message) as exc:
        open_recording(meta)
    assert "\n" not in str(exc.value)


def test_unreadable_or_missing_files(tmp_path, two_channel):
    meta, _ = two_channel
    with pytest.raises(UserError, match="not found"):
        open_recording(tmp_path / "absent.sigmf-meta")
    with pytest.raises(UserError, match="not found"):
        open_recording(tmp_path / "absent")
    meta.with_name("rec.sigmf-data").unlink()
    with pytest.raises(UserError, match="data file not found"):
        open_recording(meta)
    orphan = tmp_path / "orphan.sigmf-data"
    orphan.write_bytes(b"\0" * 16)
    with pytest.raises(UserError, match="metadata orphan.sigmf-meta is missing"):
        open_recording(orphan)
    bad = tmp_path / "bad.sigmf-meta"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        open_recording(bad)
    (tmp_path / "x.sigmf").write_bytes(b"")
    with pytest.raises(UserError, match="archives"):
        open_recording(tmp_path / "x.sigmf")


def test_truncated_data_file(two_channel):
    meta, comps = two_channel
    data = meta.with_name("rec.sigmf-data")
    full = data.read_bytes()
    data.write_bytes(full[: 600 * 8 + 5])  # 600 whole samples and 5 stray bytes
    with pytest.raises(UserError, match="holds 600 whole samples but the metadata says 1000") as exc:
        open_recording(meta)
    assert "allow_truncated" in str(exc.value)
    with pytest.warns(TruncatedRecordingWarning, match="reading the 600"):
        rec = open_recording(meta, allow_truncated=True)
    assert rec.truncated and rec.num_samples == 600 and rec.expected_num_samples == 1000
    np.testing.assert_array_equal(rec.read(), expected_complex("ci16_le", comps)[:, :600])


def test_truncation_detected_by_annotation_or_partial_sample(tmp_path):
    comps = components("ci16_le", 100, 2)
    ann = [{"core:sample_start": 90, "core:sample_count": 30}]
    meta = write_recording(tmp_path / "a", comps, "ci16_le", annotations=ann)
    _edit_meta(meta, lambda d: d["global"].pop("heradecode:sample_count"))
    with pytest.raises(UserError, match="says 120 .an annotation ends at sample 120"):
        open_recording(meta)
    meta2 = write_recording(tmp_path / "b", comps, "ci16_le")
    _edit_meta(meta2, lambda d: d["global"].pop("heradecode:sample_count"))
    with open(meta2.with_name("b.sigmf-data"), "ab") as fh:
        fh.write(b"\1\2\3")
    with pytest.raises(UserError, match="3 stray bytes"):
        open_recording(meta2)
    with pytest.warns(TruncatedRecordingWarning):
        assert open_recording(meta2, allow_truncated=True).num_samples == 100


def test_pair_mismatches(tmp_path):
    (tmp_path / "len").mkdir()
    mx, my, _ = _pair(tmp_path / "len")
    data_y = my.with_name(my.name.replace("meta", "data"))
    data_y.write_bytes(data_y.read_bytes()[: 400 * 4])
    _edit_meta(my, lambda d: d["global"].update({"heradecode:sample_count": 400}))
    with pytest.raises(UserError, match="different lengths: 500 samples .* vs 400"):
        open_recording(mx)
    with pytest.warns(TruncatedRecordingWarning):
        assert open_recording(mx, allow_truncated=True).num_samples == 400

    cases = [
        (lambda d: d["global"].update({"core:sample_rate": 3_072_000}), "different sample rates"),
        (lambda d: d["global"].update({"core:datatype": "ci8"}), "different datatypes"),
        (lambda d: d["captures"][0].update({"core:frequency": 8.4e9}), "different centre frequencies"),
        (lambda d: d["captures"][0].update({"core:datetime": "2024-10-07T16:24:21Z"}), "start at different times"),
        (lambda d: d["global"].update({"core:num_channels": 2}), "single-channel"),
    ]
    for k, (edit, message) in enumerate(cases):
        d = tmp_path / f"c{k}"
        d.mkdir()
        mx, my, _ = _pair(d)
        _edit_meta(my, edit)
        with pytest.raises(UserError, match=message):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                open_recording([mx, my])


def test_pair_of_same_polarization_or_same_file(tmp_path):
    mx, my, comps = _pair(tmp_path)
    other = write_recording(tmp_path / "other_0x", comps[:, :1].copy(), "ci16_le")
    with pytest.raises(UserError, match="both recordings are X"):
        open_recording([mx, other])
    with pytest.raises(UserError, match="same"):
        open_recording([mx, mx])
    with pytest.raises(UserError, match="not 3"):
        open_recording([mx, my, other])


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**7), st.floats(allow_nan=True), st.text(max_size=12),
                    st.sampled_from(["ci16_le", "cf32_le", "ci8", "rf32_le", "2024-10-07T16:24:20Z", "bogus"]),
                    st.lists(st.integers(0, 3), max_size=2))
_GLOBAL_KEYS = ["core:datatype", "core:sample_rate", "core:num_channels", "core:dataset", "core:trailing_bytes",
                "heradecode:sample_count"]
_CAPTURE_KEYS = ["core:sample_start", "core:frequency", "core:datetime", "core:header_bytes"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    glob=st.dictionaries(st.sampled_from(_GLOBAL_KEYS), _VALUES, max_size=3),
    drop=st.sets(st.sampled_from(["core:datatype", "core:sample_rate", "core:frequency", "core:datetime"])),
    capture=st.dictionaries(st.sampled_from(_CAPTURE_KEYS), _VALUES, max_size=2),
    more_captures=st.lists(st.dictionaries(st.sampled_from(_CAPTURE_KEYS), _VALUES, max_size=4), max_size=2),
    annotations=st.lists(st.dictionaries(st.sampled_from(["core:sample_start", "core:sample_count"]), _VALUES),
                         max_size=2),
)
def test_any_metadata_gives_a_recording_or_a_user_error(tmp_path, glob, drop, capture, more_captures, annotations):
    """Valid metadata with random fields replaced, dropped or added: a Recording or a one-line UserError."""
    data = tmp_path / "fz.sigmf-data"
    data.write_bytes(bytes(range(64)))
    g = {"core:datatype": "ci16_le", "core:sample_rate": 1e6, **glob}
    c0 = {"core:sample_start": 0, "core:frequency": 8.4e9, "core:datetime": START, **capture}
    for key in drop:
        g.pop(key, None)
        c0.pop(key, None)
    meta = tmp_path / "fz.sigmf-meta"
    meta.write_text(json.dumps({"global": g, "captures": [c0, *more_captures], "annotations": annotations}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            rec = open_recording(meta)
        except UserError as exc:
            assert "\n" not in str(exc)
            return
    assert rec.read().shape == (rec.num_channels, rec.num_samples)

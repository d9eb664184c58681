"""Issue #11 finding 8: SigMF metadata is checked against the SigMF schema and this tool's rules.

Each bad field is refused at once with one line naming the file and the field,
never accepted with a wrong meaning (a number taken as 1970) and never left to
run for long (a sample rate of 1e308).
"""

from __future__ import annotations

import copy
import json
import time
import warnings

import pytest

from heradecode.errors import UserError
from heradecode.io import open_recording

from tests.helpers import SIM_DIR

from tests.io.helpers import START, components, write_recording


def _edit_meta(meta, fn) -> None:
    d = json.loads(meta.read_text())
    fn(d)
    meta.write_text(json.dumps(d))


def _ext(name, optional):
    return {"name": name, "version": "1.0.0", "optional": optional}


def _add_ext(d, ext):
    d["global"].setdefault("core:extensions", []).append(ext)


BAD = [
    # the four cases of the issue
    (lambda d: d["global"].update({"core:sample_rate": 1e308}), "core:sample_rate"),
    (lambda d: d["captures"][0].update({"core:datetime": 12345}), "core:datetime"),
    (lambda d: _add_ext(d, _ext("mystery", False)), "mystery"),
    (lambda d: d["global"].update({"core:version": "9.9.9"}), "core:version"),
    # the same kinds, nearby
    (lambda d: d["global"].update({"core:sample_rate": 2e10}), "core:sample_rate"),
    (lambda d: d["global"].update({"core:sample_rate": 1e-300}), "core:sample_rate"),
    (lambda d: d["global"].update({"core:sample_rate": "6144000"}), "core:sample_rate"),
    (lambda d: d["captures"][0].update({"core:datetime": "12345"}), "core:datetime"),
    (lambda d: d["captures"][0].update({"core:datetime": "1728318260.5"}), "core:datetime"),
    (lambda d: d["captures"][0].update({"core:datetime": "2024-10-07"}), "core:datetime"),
    (lambda d: d["captures"][0].update({"core:datetime": ["2024-10-07T16:24:20Z"]}), "core:datetime"),
    (lambda d: d["global"].update({"core:version": "2.0.0"}), "core:version"),
    (lambda d: d["global"].update({"core:version": 1.2}), "core:version"),
    (lambda d: d["global"].update({"core:version": "one"}), "core:version"),
    (lambda d: d["global"].update({"core:extensions": [{"name": "antenna"}]}), "core:extensions"),
    (lambda d: d["global"].update({"core:extensions": "antenna"}), "core:extensions"),
    (lambda d: _add_ext(d, _ext("spatial", False)), "spatial"),
    # other fields that could run long, overflow or crash
    (lambda d: d["global"].update({"core:num_channels": 10**30}), "core:num_channels"),
    (lambda d: d["global"].update({"core:offset": -1}), "core:offset"),
    (lambda d: d["global"].update({"core:offset": 2**70}), "core:offset"),
    (lambda d: d["global"].update({"core:trailing_bytes": 2**70}), "core:trailing_bytes"),
    (lambda d: d["captures"][0].update({"core:header_bytes": 2**70}), "core:header_bytes"),
    (lambda d: d["captures"].append({"core:sample_start": 2**70}), "core:sample_start"),
    (lambda d: d["annotations"].append({"core:sample_start": 2**70, "core:sample_count": 1}), "core:sample_start"),
    (lambda d: d["annotations"].append({"core:sample_start": 0, "core:sample_count": 2**70}), "core:sample_count"),
    (lambda d: d["global"].update({"heradecode:sample_count": 2**70}), "heradecode:sample_count"),
    (lambda d: d["captures"][0].update({"core:frequency": 1e308}), "core:frequency"),
    (lambda d: d["captures"][0].update({"core:datetime": "9999-12-31T23:59:59Z"}), "core:datetime"),
    (lambda d: d["global"].update({"core:hw": 5}), "core:hw"),
    (lambda d: d["annotations"].append({"core:sample_start": 5, "core:label": {"a": 1}}), "core:label"),
    (lambda d: d["annotations"].extend([{"core:sample_start": 9}, {"core:sample_start": 5}]), "annotations"),
    (lambda d: d.update({"annotations": {"core:sample_start": 0}}), "annotations"),
]


@pytest.mark.parametrize("edit, field", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_metadata_refused_in_one_line(two_channel, edit, field):
    meta, _ = two_channel
    _edit_meta(meta, edit)
    t0 = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(UserError) as exc:
            open_recording(meta, allow_truncated=True)
    msg = str(exc.value)
    assert time.monotonic() - t0 < 1.0
    assert "\n" not in msg and field in msg and str(meta) in msg, msg


def test_sample_rate_1e308_refused_before_anything_runs(two_channel):
    meta, _ = two_channel
    _edit_meta(meta, lambda d: d["global"].update({"core:sample_rate": 1e308}))
    with pytest.raises(UserError, match=r"core:sample_rate: 1e\+308 is greater than the maximum"):
        open_recording(meta)


def test_datetime_number_is_not_taken_as_1970(two_channel):
    meta, _ = two_channel
    _edit_meta(meta, lambda d: d["captures"][0].update({"core:datetime": 12345}))
    with pytest.raises(UserError, match="capture 0 core:datetime: 12345 is not of type .string."):
        open_recording(meta)


GOOD = [
    lambda d: None,
    lambda d: d["global"].pop("core:version"),  # sigmf-python reads these as the current version too
    lambda d: d["global"].update({"core:version": "1.0.0"}),
    lambda d: d["global"].update({"core:version": "1.2.6"}),
    lambda d: _add_ext(d, _ext("mystery", True)),  # optional: its fields are carried, unused
    lambda d: _add_ext(d, _ext("capture_details", False)),
    lambda d: _add_ext(d, _ext("heradecode", False)),
    lambda d: d["captures"][0].update({"core:datetime": "2024-10-07T16:24:20.5Z"}),
    lambda d: d["captures"][0].update({"core:datetime": "2024-10-07T16:24:20"}),
    lambda d: d["global"].update({"core:sample_rate": 1e10}),
    lambda d: d["global"].update({"core:offset": 0, "core:description": "fine", "mystery:x": [1, 2]}),
]


@pytest.mark.parametrize("edit", GOOD, ids=[f"good{i}" for i in range(len(GOOD))])
def test_good_metadata_still_read(two_channel, edit):
    meta, _ = two_channel
    _edit_meta(meta, edit)
    rec = open_recording(meta)
    assert rec.num_samples == 1000


def test_check_metadata_in_process_without_files(two_channel):
    """The pure check a fuzz benchmark calls per input: a parsed summary, or one UserError line."""
    from heradecode.io.sigmf_read import check_metadata

    meta, _ = two_channel
    d = json.loads(meta.read_text())
    before = copy.deepcopy(d)
    info = check_metadata(d, "x.sigmf-meta")
    assert d == before  # not modified
    assert info.datatype == "ci16_le" and info.samp_rate == 6_144_000 and info.num_channels == 2
    assert info.center_freq_hz == 8435.75e6 and str(info.start_time).startswith("2024-10-07T16:24:20.123456789")
    assert info.header_bytes == 0 and info.trailing_bytes == 0 and info.declared_num_samples == 1000
    for edit, field in BAD:
        d = copy.deepcopy(before)
        edit(d)
        with pytest.raises(UserError, match=field):
            check_metadata(d, "x.sigmf-meta")
    for bad in (None, [], "text", {"captures": []}):
        with pytest.raises(UserError, match="x.sigmf-meta"):
            check_metadata(bad, "x.sigmf-meta")


def test_check_metadata_text(tmp_path):
    from heradecode.io.sigmf_read import check_metadata_text

    comps = components("ci8", 10, 1)
    meta = write_recording(tmp_path / "t", comps, "ci8", start=START)
    assert check_metadata_text(meta.read_bytes(), "t.sigmf-meta").num_channels == 1
    for bad in (b"", b"\xff\xfe{", b"[1, 2]", b"{\"global\": {}", b"\x00" * 10, "{\"global\": 1}"):
        with pytest.raises(UserError, match="t.sigmf-meta"):
            check_metadata_text(bad, "t.sigmf-meta")


@pytest.mark.parametrize("edit, field", [
    (lambda c: c["collection"].update({"core:version": "9.9.9"}), "core:version"),
    (lambda c: c["collection"].update({"core:extensions": [_ext("mystery", False)]}), "mystery"),
])
def test_collection_version_and_extensions_checked(tmp_path, edit, field):
    from heradecode.io.sigmf_write import write_collection

    comps = components("ci8", 50, 2, seed=4)
    a = write_recording(tmp_path / "pol_0x", comps[:, :1].copy(), "ci8")
    b = write_recording(tmp_path / "pol_0y", comps[:, 1:].copy(), "ci8")
    coll = write_collection(tmp_path / "obs", [a, b])
    open_recording(coll)
    _edit_meta(coll, edit)
    with pytest.raises(UserError, match=field) as exc:
        open_recording(coll)
    assert "\n" not in str(exc.value) and str(coll) in str(exc.value)


def test_directory_given_as_recording(tmp_path):
    (tmp_path / "rec.sigmf-meta").mkdir()
    for p in (tmp_path, tmp_path / "rec.sigmf-meta"):
        with pytest.raises(UserError, match="is a directory"):
            open_recording(p)


@pytest.mark.parametrize("name", ["x" * 1000, "a\0b"])
def test_dataset_name_the_file_system_cannot_hold_is_refused(tmp_path, name):
    """Found by benchmarks/fuzz.py: a 1000-character core:dataset raised OSError (file name too long)."""
    meta = json.loads((SIM_DIR / "hera_low_sim.sigmf-meta").read_text())
    meta["global"]["core:dataset"] = name
    (tmp_path / "r.sigmf-meta").write_text(json.dumps(meta))
    with pytest.raises(UserError, match="core:dataset"):
        open_recording(tmp_path / "r.sigmf-meta")

"""Fuzzing SigMF metadata: open_recording gives a Recording or a one-line UserError, never anything else.

A valid recording's metadata is mutated (fields replaced by values of every
JSON type and edge magnitude, fields dropped, captures, annotations and
extensions added, sections replaced, bytes of the text flipped) and written
beside a small data file.  Whatever is accepted must obey the rules of
:func:`heradecode.io.sigmf_read.check_metadata`; every call must end quickly.
"""

from __future__ import annotations

import json
import math
import time
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heradecode.errors import UserError
from heradecode.io import open_recording
from heradecode.io.recording import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
from heradecode.io.sigmf_read import KNOWN_EXTENSIONS, check_metadata_text

from tests.io.helpers import START

FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

DATA_BYTES = 4 * 2 * 1000  # 1000 two-channel ci16 samples
BASE = {
    "global": {"core:datatype": "ci16_le", "core:sample_rate": 6144000, "core:num_channels": 2,
               "core:version": "1.2.6", "heradecode:sample_count": 1000,
               "core:extensions": [{"name": "heradecode", "version": "0.1.0", "optional": True}]},
    "captures": [{"core:sample_start": 0, "core:frequency": 8435750000, "core:datetime": START}],
    "annotations": [{"core:sample_start": 10, "core:sample_count": 100, "core:label": "CADU 0"}],
}
_EDGE = st.sampled_from([None, True, False, 0, -1, 1, 2, 3, 1e308, -1e308, math.nan, math.inf, -math.inf, 1e-300,
                         2**63, 2**63 - 1, -(2**63), 10**40, "", "x", "1.2.6", "9.9.9", "0.9", "1.0.0", "2.0.0",
                         "2024-10-07T16:24:20Z", "2024-13-45T99:99:99Z", "1728318260", "1970-01-01T00:00:00Z",
                         "2024-10-07", 12345, [], {}, [1, 2], {"a": 1}, "ci16_le", "cf32_le", "rf32_le", "ci8",
                         "ci64_le", "x" * 300, "../etc/passwd", "r.sigmf-data"])
VALUES = st.one_of(_EDGE, st.integers(), st.floats(), st.text(max_size=10))
GLOBAL_KEYS = st.sampled_from(["core:datatype", "core:sample_rate", "core:num_channels", "core:version",
                               "core:offset", "core:dataset", "core:trailing_bytes", "core:extensions",
                               "core:metadata_only", "core:hw", "heradecode:sample_count", "x:y"])
CAPTURE_KEYS = st.sampled_from(["core:sample_start", "core:frequency", "core:datetime", "core:header_bytes",
                                "core:global_index"])
ANNOTATION_KEYS = st.sampled_from(["core:sample_start", "core:sample_count", "core:label", "core:comment",
                                   "core:freq_lower_edge", "core:uuid"])
EXTENSIONS = st.fixed_dictionaries({
    "name": st.sampled_from(["heradecode", "antenna", "spatial", "mystery", "", 5]),
    "version": st.sampled_from(["1.0.0", "9.9.9", "", None]),
    "optional": st.sampled_from([True, False, None]),
})

OPS = st.one_of(
    st.tuples(st.just("global"), GLOBAL_KEYS, VALUES),
    st.tuples(st.just("drop_global"), GLOBAL_KEYS, st.none()),
    st.tuples(st.just("capture"), CAPTURE_KEYS, VALUES),
    st.tuples(st.just("drop_capture"), CAPTURE_KEYS, st.none()),
    st.tuples(st.just("add_capture"), st.sampled_from([0, 1, 500, 10**6, -5, 2**40, 2**70]), VALUES),
    st.tuples(st.just("annotation"), ANNOTATION_KEYS, VALUES),
    st.tuples(st.just("add_annotation"), st.sampled_from([0, 5, 999, 1000, 2**62, -1]), VALUES),
    st.tuples(st.just("extension"), EXTENSIONS, st.none()),
    st.tuples(st.just("section"), st.sampled_from(["global", "captures", "annotations", "extra"]), VALUES),
    st.tuples(st.just("drop_section"), st.sampled_from(["global", "captures", "annotations"]), st.none()),
)


def _apply(meta: dict, op: tuple) -> None:
    kind, key, value = op
    g = meta.get("global")
    caps = meta.get("captures")
    anns = meta.get("annotations")
    if kind in ("global", "drop_global", "extension") and not isinstance(g, dict):
        return
    if kind in ("capture", "drop_capture", "add_capture") and not (isinstance(caps, list) and caps
                                                                   and isinstance(caps[-1], dict)):
        return
    if kind in ("annotation", "add_annotation") and not isinstance(anns, list):
        return
    if kind == "global":
        g[key] = value
    elif kind == "drop_global":
        g.pop(key, None)
    elif kind == "capture":
        caps[-1][key] = value
    elif kind == "drop_capture":
        caps[-1].pop(key, None)
    elif kind == "add_capture":
        caps.append({"core:sample_start": key, "core:datetime": value})
    elif kind == "annotation":
        if anns and isinstance(anns[-1], dict):
            anns[-1][key] = value
    elif kind == "add_annotation":
        anns.append({"core:sample_start": key, "core:sample_count": value})
    elif kind == "extension":
        exts = g.setdefault("core:extensions", [])
        if isinstance(exts, list):
            exts.append(dict(key))
    elif kind == "section":
        meta[key] = value
    else:
        meta.pop(key, None)


def _check_accepted(rec, meta: dict) -> None:
    """What an accepted recording must satisfy."""
    assert MIN_SAMPLE_RATE <= rec.samp_rate <= MAX_SAMPLE_RATE
    assert math.isfinite(rec.center_freq_hz) and abs(rec.center_freq_hz) <= 1e12
    assert rec.num_channels in (1, 2)
    assert rec.num_samples * rec.num_channels * rec.sample_format.sample_bytes <= DATA_BYTES
    g = meta["global"]
    version = g.get("core:version")
    assert version is None or str(version).split(".")[0] == "1"
    for ext in g.get("core:extensions") or []:
        assert ext["optional"] or ext["name"] in KNOWN_EXTENSIONS
    assert isinstance(meta["captures"][0]["core:datetime"], str)
    assert rec.start_time == np.datetime64(rec.start_time, "ns")
    assert rec.read().shape == (rec.num_channels, rec.num_samples)


def _open(tmp_path, text: bytes):
    meta_path = tmp_path / "r.sigmf-meta"
    meta_path.write_bytes(text)
    t0 = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            rec = open_recording(meta_path, allow_truncated=True)
        except UserError as exc:
            rec = None
            assert "\n" not in str(exc) and str(exc)
    assert time.monotonic() - t0 < 2.0
    return rec


@FUZZ
@given(ops=st.lists(OPS, min_size=1, max_size=5))
def test_mutated_metadata(tmp_path, ops):
    (tmp_path / "r.sigmf-data").write_bytes(bytes(DATA_BYTES))
    meta = json.loads(json.dumps(BASE))
    for op in ops:
        _apply(meta, op)
    rec = _open(tmp_path, json.dumps(meta, allow_nan=True).encode())
    if rec is not None:
        _check_accepted(rec, meta)
    try:  # the in-process check agrees with open_recording on what it refuses
        check_metadata_text(json.dumps(meta, allow_nan=True), "r.sigmf-meta")
    except UserError:
        assert rec is None


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6),
       cut=st.one_of(st.none(), st.integers(0, 10**6)))
def test_byte_flipped_metadata(tmp_path, flips, cut):
    (tmp_path / "r.sigmf-data").write_bytes(bytes(DATA_BYTES))
    text = bytearray(json.dumps(BASE).encode())
    for pos, byte in flips:
        text[pos % len(text)] = byte
    if cut is not None:
        text = text[: cut % (len(text) + 1)]
    _open(tmp_path, bytes(text))


@FUZZ
@given(text=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda s: s.encode("utf-8", "replace")),
                      st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
                                   lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c,
                                                                                     max_size=3),
                                   max_leaves=20).map(lambda v: json.dumps(v).encode())))
def test_arbitrary_text(tmp_path, text):
    (tmp_path / "r.sigmf-data").write_bytes(bytes(DATA_BYTES))
    _open(tmp_path, text)


def test_pathological_json_refused_in_one_line(tmp_path):
    """Nesting too deep for the parser, and integers too long for Python's int conversion."""
    (tmp_path / "r.sigmf-data").write_bytes(bytes(DATA_BYTES))
    for text in (b"[" * 100_000 + b"]" * 100_000, b'{"global": {"core:sample_rate": ' + b"9" * 5000 + b"}}"):
        assert _open(tmp_path, text) is None

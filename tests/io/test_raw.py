"""Raw interleaved-I/Q files with the sample rate, centre frequency and start time given."""

from __future__ import annotations

import json

import numpy as np
import pytest

from heradecode.cli import main
from heradecode.errors import UserError
from heradecode.io import TruncatedRecordingWarning, open_recording

from .conftest import components, expected_complex

OPTS = dict(samp_rate=6.144e6, center_freq_hz=8435.75e6, start_time="2024-10-07T16:24:20Z")


def _raw_pair(tmp_path, n=300, ny=None, datatype="ci16_le"):
    comps = components(datatype, n, 2, seed=9)
    x, y = tmp_path / "hera_0x.raw", tmp_path / "hera_0y.raw"
    comps[:, 0].tofile(x)
    comps[:ny, 1].tofile(y)
    return x, y, comps


def test_raw_pair_in_either_order(tmp_path):
    x, y, comps = _raw_pair(tmp_path)
    for args in ([x, y], [y, x]):
        rec = open_recording(args, **OPTS)
        assert rec.num_channels == 2 and rec.paths == (x, y)
        assert rec.samp_rate == 6.144e6 and rec.center_freq_hz == 8435.75e6
        assert rec.start_time == np.datetime64("2024-10-07T16:24:20", "ns")
        np.testing.assert_array_equal(rec.read(), expected_complex("ci16_le", comps))


def test_raw_single_and_other_datatype(tmp_path):
    comps = components("ci8", 100, 1)
    p = tmp_path / "single.dat"
    comps.tofile(p)
    rec = open_recording(p, datatype="ci8", **OPTS)
    assert rec.num_channels == 1
    np.testing.assert_array_equal(rec.read(), expected_complex("ci8", comps))


def test_raw_errors(tmp_path):
    x, y, _ = _raw_pair(tmp_path)
    with pytest.raises(UserError, match="needs --samp-rate, --start-time"):
        open_recording([x, y], center_freq_hz=8.4e9)
    with pytest.raises(UserError, match="unsupported sample datatype"):
        open_recording([x, y], datatype="ri16_le", **OPTS)
    (tmp_path / "a.raw").write_bytes(b"\0" * 8)
    with pytest.raises(UserError, match="same file"):
        open_recording([tmp_path / "a.raw", tmp_path / "a.raw"], **OPTS)
    short = tmp_path / "short"
    short.mkdir()
    x2, y2, _ = _raw_pair(short, ny=250)
    with pytest.raises(UserError, match="different lengths: 300 samples .* vs 250"):
        open_recording([x2, y2], **OPTS)
    with pytest.warns(TruncatedRecordingWarning):
        assert open_recording([x2, y2], allow_truncated=True, **OPTS).num_samples == 250
    with open(x, "ab") as fh:
        fh.write(b"\0\0")
    with pytest.raises(UserError, match="not a whole number of 4-byte ci16_le samples"):
        open_recording([x, y], **OPTS)


def test_sigmf_wrap_then_open(tmp_path, capsys):
    x, y, comps = _raw_pair(tmp_path)
    code = main(["sigmf-wrap", str(y), str(x), "--samp-rate", "6144000", "--center-freq", "8435750000",
                 "--start-time", "2024-10-07T16:24:20.25Z", "--antenna", "ATA 1a", "--sha512"])
    assert code == 0
    meta = json.loads((tmp_path / "hera_0x.sigmf-meta").read_text())
    g = meta["global"]
    assert g["core:hw"] == "USRP N321" and g["antenna:model"] == "ATA 1a"
    assert g["core:dataset"] == "hera_0x.raw" and g["core:sample_rate"] == 6144000
    assert g["core:datatype"] == "ci16_le" and len(g["core:sha512"]) == 128
    assert meta["captures"][0]["core:datetime"] == "2024-10-07T16:24:20.250000000Z"
    assert meta["captures"][0]["core:frequency"] == 8435750000
    assert (tmp_path / "hera.sigmf-collection").is_file()
    want = expected_complex("ci16_le", comps)
    for arg in (tmp_path / "hera.sigmf-collection", tmp_path / "hera_0y.sigmf-meta", x, [x, y]):
        rec = open_recording(arg)
        assert rec.start_time == np.datetime64("2024-10-07T16:24:20.25", "ns")
        np.testing.assert_array_equal(rec.read(), want)
    # refuses to overwrite without --force; bad input is one line on stderr, exit 2
    assert main(["sigmf-wrap", str(x), str(y), "--samp-rate", "6144000", "--center-freq", "1",
                 "--start-time", "2024-10-07T16:24:20Z"]) == 2
    err = capsys.readouterr().err
    assert "exists; use --force" in err and err.count("\n") == 1
    assert main(["sigmf-wrap", str(x), str(y), "--samp-rate", "6144000", "--center-freq", "1",
                 "--start-time", "not a time", "--force"]) == 2


def test_sigmf_wrap_rejects_bad_files(tmp_path, capsys):
    x, y, _ = _raw_pair(tmp_path, ny=200)
    args = ["--samp-rate", "1e6", "--center-freq", "8.4e9", "--start-time", "2024-10-07T16:24:20Z"]
    assert main(["sigmf-wrap", str(x), str(y), *args]) == 2
    assert "different lengths" in capsys.readouterr().err
    odd = tmp_path / "odd.raw"
    odd.write_bytes(b"\0" * 7)
    assert main(["sigmf-wrap", str(odd), *args]) == 2
    assert "not a whole number" in capsys.readouterr().err

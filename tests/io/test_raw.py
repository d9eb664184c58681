"""Raw interleaved-I/Q files with the sample rate, centre frequency and start time given."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from heradecode.cli import main
from heradecode.errors import UserError
from heradecode.io import TruncatedRecordingWarning, open_recording

from tests.io.helpers import components, expected_complex, write_recording

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
    with pytest.warns(UserWarning, match="one polarization only"):
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


# --------------------------------------------------------------------------- issue #11 finding 10
def _one_pol_warnings(fn):
    """Call ``fn``; return (its result, the texts of the warnings saying only one polarization is used)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn()
    return result, [str(w.message) for w in caught if "one polarization only" in str(w.message)]


@pytest.mark.parametrize("names", [
    ("HERA_2024-10-07T16:24:20.353705_0x", "HERA_2024-10-07T16:24:20.353705_0y"),  # ATA names: dots, no extension
    ("hera_0x.raw", "hera_0y.raw"),
    ("cap_1X.bin", "cap_1Y.bin"),
])
def test_raw_x_or_y_finds_its_partner_beside_it(tmp_path, names):
    """A raw _0x file named alone is decoded with the _0y beside it, as SigMF pairs are."""
    comps = components("ci16_le", 400, 2, seed=11)
    x, y = tmp_path / names[0], tmp_path / names[1]
    comps[:, 0].tofile(x)
    comps[:, 1].tofile(y)
    (tmp_path / "HERA_other_0y").write_bytes(b"\0" * 16)  # an unrelated file is not taken
    for arg in (x, y, str(x)):
        rec, warned = _one_pol_warnings(lambda: open_recording(arg, **OPTS))
        assert rec.num_channels == 2 and rec.channel_names == ("X", "Y")
        assert rec.paths == (x, y)
        assert not warned
        np.testing.assert_array_equal(rec.read(), expected_complex("ci16_le", comps))


def test_one_polarization_is_always_said_once(tmp_path, two_channel):
    comps = components("ci16_le", 100, 1, seed=12)
    lone_x = tmp_path / "HERA_2024-10-07T16:24:20.353705_0x"
    plain = tmp_path / "capture.dat"
    for p in (lone_x, plain):
        comps.tofile(p)
    sig_dir = tmp_path / "sig"
    sig_dir.mkdir()
    sig_plain = write_recording(sig_dir / "single", comps, "ci16_le")
    sig_lone_y = write_recording(sig_dir / "obs_0y", comps, "ci16_le")
    for fn, pol in [
        (lambda: open_recording(lone_x, **OPTS), "X"),
        (lambda: open_recording(plain, **OPTS), None),
        (lambda: open_recording(sig_plain), None),
        (lambda: open_recording(sig_lone_y), "Y"),
    ]:
        rec, warned = _one_pol_warnings(fn)
        assert rec.num_channels == 1
        assert len(warned) == 1, warned
        if pol:
            assert rec.channel_names == (pol,) and f"({pol})" in warned[0]
    _, warned = _one_pol_warnings(lambda: open_recording(two_channel[0]))
    assert not warned


def test_cli_says_one_polarization_in_one_line(tmp_path, capsys):
    rng = np.random.default_rng(13)
    x = tmp_path / "HERA_2024-10-07T16:24:20.353705_0x"
    rng.integers(-300, 300, (20_000, 2)).astype("<i2").tofile(x)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["plot", str(x), "--samp-rate", "1e6", "--center-freq", "8.4e9",
                     "--start-time", "2024-10-07T16:24:20Z", "--out", str(tmp_path / "png")])
    err = capsys.readouterr().err
    said = [ln for ln in err.splitlines() if "one polarization only" in ln]
    said += [str(w.message) for w in caught if "one polarization only" in str(w.message)]
    assert code == 0 and (tmp_path / "png" / "spectrum.png").is_file()
    assert len(said) == 1 and "\n" not in said[0], (err, said)


def test_sigmf_wrap_ata_names_with_dots(tmp_path, capsys):
    """ATA names carry dots in their time stamps: each file gets its own metadata, and the pair a collection."""
    comps = components("ci16_le", 300, 2, seed=14)
    x = tmp_path / "HERA_2024-10-07T16:24:20.353705_0x"
    y = tmp_path / "HERA_2024-10-07T16:24:20.353705_0y"
    comps[:, 0].tofile(x)
    comps[:, 1].tofile(y)
    assert main(["sigmf-wrap", str(x), str(y), "--samp-rate", "6144000", "--center-freq", "8435750000",
                 "--start-time", "2024-10-07T16:24:20.353705Z"]) == 0
    mx = tmp_path / "HERA_2024-10-07T16:24:20.353705_0x.sigmf-meta"
    my = tmp_path / "HERA_2024-10-07T16:24:20.353705_0y.sigmf-meta"
    assert json.loads(mx.read_text())["global"]["core:dataset"] == x.name
    assert json.loads(my.read_text())["global"]["core:dataset"] == y.name
    assert (tmp_path / "HERA_2024-10-07T16:24:20.353705.sigmf-collection").is_file()
    for arg in (x, mx, tmp_path / "HERA_2024-10-07T16:24:20.353705.sigmf-collection"):
        rec = open_recording(arg)
        assert rec.paths == (x, y)
        np.testing.assert_array_equal(rec.read(), expected_complex("ci16_le", comps))


def test_implausible_options_refused_at_once(tmp_path):
    """Sample rate and centre frequency given for raw files follow the same rules as SigMF metadata."""
    x, y, _ = _raw_pair(tmp_path)
    for opts, match in [
        (dict(OPTS, samp_rate=1e308), "sample rate 1e\\+308 is implausible"),
        (dict(OPTS, samp_rate=0.01), "sample rate 0.01 is implausible"),
        (dict(OPTS, samp_rate=float("nan")), "finite"),
        (dict(OPTS, center_freq_hz=1e308), "centre frequency 1e\\+308 Hz is implausible"),
    ]:
        with pytest.raises(UserError, match=match):
            open_recording([x, y], **opts)
    long = tmp_path / "long.raw"
    with open(long, "wb") as fh:
        fh.truncate(4 * 10_000_000)  # sparse: 10 million samples, 116 days at 1 sample/s
    with pytest.raises(UserError, match="would end after 2262-04-11"):
        open_recording(long, samp_rate=1, center_freq_hz=8.4e9, start_time="2261-12-31T00:00:00Z")

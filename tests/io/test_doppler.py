"""Doppler profile files (``unix_time hz`` lines): what is read, and one clear line for each bad file.

Issue #11 finding 9: a UTF-8 byte-order mark is accepted; a directory is reported as a directory.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from heradecode.cli import main
from heradecode.errors import UserError
from heradecode.io.dopplerfile import DopplerProfile, read_doppler_profile

T0 = 1728318260.0
GOOD = "# Hera, DSS-24\n1728318260.0 -128.5\n1728318261.0 -180.25\n\n1728318262.5 -232\n"


def _write(tmp_path, content, name="d.txt"):
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return p


def test_good_file_read_exactly(tmp_path):
    prof = read_doppler_profile(_write(tmp_path, GOOD))
    np.testing.assert_array_equal(prof.unix_time, [T0, T0 + 1, T0 + 2.5])
    np.testing.assert_array_equal(prof.freq_hz, [-128.5, -180.25, -232.0])


def test_byte_order_mark_crlf_tabs_and_commas_accepted(tmp_path):
    text = "\ufeff" + GOOD.replace(" ", "\t").replace("\n", "\r\n")
    prof = read_doppler_profile(_write(tmp_path, text))
    assert prof.unix_time.size == 3 and prof.freq_hz[0] == -128.5
    prof = read_doppler_profile(_write(tmp_path, "\ufeff1728318260,1\n1728318261,2\n", "c.txt"))
    np.testing.assert_array_equal(prof.freq_hz, [1.0, 2.0])


def test_directory_is_reported_as_a_directory(tmp_path):
    with pytest.raises(UserError, match="is a directory") as exc:
        read_doppler_profile(tmp_path)
    assert "not found" not in str(exc.value)
    with pytest.raises(UserError, match="not found"):
        read_doppler_profile(tmp_path / "absent.txt")


def test_cli_doppler_directory_one_line(tmp_path, capsys):
    ddir = tmp_path / "decoded"
    ddir.mkdir()
    (ddir / "decode.json").write_text('{"codeblocks": []}', encoding="utf-8")
    code = main(["plot", "--decode-dir", str(ddir), "--doppler", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert "is a directory" in err and "not found" not in err, err


@pytest.mark.parametrize(
    "content, match",
    [
        ("", "at least two"),
        ("# only a comment\n\n", "at least two"),
        ("1728318260 5\n", "at least two"),
        ("1728318260 5\n1728318261 6\nabc def\n", r"d\.txt:3: not numbers"),
        ("1728318260 5\n1728318261\n", r"d\.txt:2: expected 'unix_time hz'"),
        ("1728318260 5\n1728318261 nan\n", r"d\.txt:2: .*not finite"),
        ("1728318260 5\ninf 6\n", r"d\.txt:2: .*not finite"),
        ("1728318260 5\n1728318261 1e400\n", r"d\.txt:2: .*not finite"),
        ("1728318260 5\n1728318261 6\n1728318261 7\n", r"d\.txt:3: .*increase"),
        ("1728318260 5\n1728318259 6\n", r"d\.txt:2: .*increase"),
        ("1728318260 5\n1728318261 2e9\n", r"d\.txt:2: .*Hz"),
        ("1728318260 5\n1e12 6\n", r"d\.txt:2: .*UNIX time"),
        (b"\xff\xfe1\x002\x00", "UTF-16"),
        (b"1728318260 5\n\x00\x01\x02\x03 \xff\n", r"d\.txt:2: not numbers"),
    ],
)
def test_bad_files_one_line_with_the_line_number(tmp_path, content, match):
    p = _write(tmp_path, content)
    with pytest.raises(UserError, match=match) as exc:
        read_doppler_profile(p)
    assert "\n" not in str(exc.value) and str(p) in str(exc.value)


def test_overlong_line_refused_without_reading_it_whole(tmp_path):
    p = _write(tmp_path, "1728318260 5\n" + "1" * 5_000_000 + "\n1728318261 6\n")
    with pytest.raises(UserError, match=r"d\.txt:2: .*longer than"):
        read_doppler_profile(p)


def test_large_file_streams(tmp_path):
    n = 200_000
    t = T0 + np.arange(n) * 0.5
    f = np.sin(np.arange(n) / 1e3) * 3e4
    p = tmp_path / "big.txt"
    DopplerProfile(t, f).write(p)
    t0 = time.monotonic()
    prof = read_doppler_profile(p)
    assert time.monotonic() - t0 < 2.0
    assert prof.unix_time.size == n
    np.testing.assert_allclose(prof.unix_time, t, rtol=0, atol=1e-7)
    np.testing.assert_allclose(prof.freq_hz, f, rtol=0, atol=1e-9)


def test_text_and_bytes_in_process(tmp_path):
    """The in-process entry points a fuzz benchmark calls: the same results and errors without a file."""
    from heradecode.io.dopplerfile import parse_doppler_text

    a = parse_doppler_text(GOOD)
    b = read_doppler_profile(GOOD.encode("utf-8"))
    c = read_doppler_profile(_write(tmp_path, GOOD))
    for p in (a, b):
        np.testing.assert_array_equal(p.unix_time, c.unix_time)
        np.testing.assert_array_equal(p.freq_hz, c.freq_hz)
    with pytest.raises(UserError, match=r"<text>:1: not numbers"):
        parse_doppler_text("x y\n1 2\n")
    with pytest.raises(UserError, match=r"mine:2: .*not finite"):
        parse_doppler_text(b"1728318260 5\n1728318261 nan\n", "mine")

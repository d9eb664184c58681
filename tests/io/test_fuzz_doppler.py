"""Fuzzing Doppler profile files: any bytes give a valid profile or a one-line UserError, nothing else.

A valid profile has at least two points, finite values within the documented
bounds and strictly increasing times; intact files read back their values
exactly, whatever the line ends, comments, blank lines or byte-order mark.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heradecode.errors import UserError
from heradecode.io.dopplerfile import (
    MAX_ABS_DOPPLER_HZ,
    MAX_ABS_UNIX_TIME_S,
    DopplerProfile,
    parse_doppler_text,
    read_doppler_profile,
)

FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _valid(prof: DopplerProfile) -> None:
    assert isinstance(prof, DopplerProfile)
    t, f = prof.unix_time, prof.freq_hz
    assert t.dtype == np.float64 and f.dtype == np.float64 and t.shape == f.shape and t.size >= 2
    assert np.all(np.isfinite(t)) and np.all(np.isfinite(f))
    assert np.all(np.abs(t) <= MAX_ABS_UNIX_TIME_S) and np.all(np.abs(f) <= MAX_ABS_DOPPLER_HZ)
    assert np.all(np.diff(t) > 0)


def _either(fn, *args) -> DopplerProfile | None:
    try:
        prof = fn(*args)
    except UserError as exc:
        assert "\n" not in str(exc) and str(exc)
        return None
    _valid(prof)
    return prof


_TOKENS = st.sampled_from(["1728318260", "1728318261.5", "-5", "0", "nan", "inf", "-inf", "1e400", "1e12", "2e9",
                           "x", "", "#", ",", "1_0", "\ufeff", "\x00", "\t", " ", "1,2", "0x10", "١٢٣"])
_LINES = st.lists(st.lists(st.one_of(_TOKENS, st.text(max_size=6)), max_size=4).map(" ".join), max_size=12)
_ENDS = st.sampled_from(["\n", "\r\n", "\r"])


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes(tmp_path, data):
    p = tmp_path / "d.txt"
    p.write_bytes(data)
    a = _either(read_doppler_profile, p)
    b = _either(parse_doppler_text, data, str(p))
    assert (a is None) == (b is None)
    if a is not None:
        np.testing.assert_array_equal(a.unix_time, b.unix_time)


@FUZZ
@given(lines=_LINES, end=_ENDS, bom=st.booleans())
def test_random_lines(tmp_path, lines, end, bom):
    text = ("\ufeff" if bom else "") + end.join(lines)
    p = tmp_path / "d.txt"
    p.write_bytes(text.encode("utf-8", "surrogatepass"))
    _either(read_doppler_profile, p)
    _either(parse_doppler_text, text)


@FUZZ
@given(
    steps=st.lists(st.floats(1e-3, 1e4), min_size=2, max_size=40),
    freqs=st.lists(st.floats(-3e5, 3e5), min_size=40, max_size=40),
    end=_ENDS, bom=st.booleans(), sep=st.sampled_from([" ", "\t", ",", " , ", "  "]),
    comment_at=st.integers(0, 40),
)
def test_intact_files_read_back_exactly(tmp_path, steps, freqs, end, bom, sep, comment_at):
    t = 1728318260.0 + np.cumsum(steps)
    t = t[np.r_[True, np.diff(t) > 0]]  # float sums can repeat a value for tiny steps at this magnitude
    f = np.array(freqs[: t.size])
    lines = [f"{a!r}{sep}{b!r}" for a, b in zip(t, f)]
    lines.insert(min(comment_at, len(lines)), "# a comment")
    text = ("\ufeff" if bom else "") + end.join(lines) + end
    p = tmp_path / "d.txt"
    p.write_text(text, encoding="utf-8", newline="")
    if t.size < 2:
        return
    prof = read_doppler_profile(p)
    np.testing.assert_array_equal(prof.unix_time, t)
    np.testing.assert_array_equal(prof.freq_hz, f)

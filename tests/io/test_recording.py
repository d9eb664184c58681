"""Recording: sample conversion for every datatype, chunking, exact timestamps, time parsing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heradecode.errors import UserError
from heradecode.io import open_recording
from heradecode.io.recording import format_utc, parse_utc, sample_format, unix_seconds

from tests.io.helpers import RATE, START, components, expected_complex, write_recording


@pytest.mark.parametrize("datatype", ["ci8", "cu8", "ci16_le", "ci16_be", "ci32_le", "cf32_le", "cf64_le"])
@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.filterwarnings("ignore::heradecode.io.SinglePolarizationWarning")
def test_values_every_datatype(tmp_path, datatype, channels):
    comps = components(datatype, 257, channels, seed=3)
    meta = write_recording(tmp_path / "r", comps, datatype)
    rec = open_recording(meta)
    assert rec.num_channels == channels
    assert rec.num_samples == 257
    assert rec.datatype == datatype
    got = rec.read()
    assert got.dtype == np.complex64 and got.shape == (channels, 257)
    np.testing.assert_array_equal(got, expected_complex(datatype, comps))


def test_fixed_point_scaling_matches_sigmf_package(two_channel):
    import sigmf

    meta, comps = two_channel
    ref = sigmf.sigmffile.fromfile(str(meta), skip_checksum=True).read_samples()  # (n, channels)
    np.testing.assert_allclose(open_recording(meta).read(), ref.T, rtol=0, atol=0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    chunk_len=st.integers(1, 400),
    overlap_frac=st.floats(0, 0.99),
    start=st.integers(0, 1100),
    stop=st.one_of(st.none(), st.integers(0, 1100)),
)
def test_chunks_reassemble_exactly(two_channel, chunk_len, overlap_frac, start, stop):
    meta, _ = two_channel
    rec = open_recording(meta)
    overlap = min(int(overlap_frac * chunk_len), chunk_len - 1)
    full = rec.read()
    end = rec.num_samples if stop is None else min(stop, rec.num_samples)
    pieces, pos, prev = [], None, None
    for k, ch in enumerate(rec.chunks(chunk_len, overlap, start=start, stop=stop)):
        assert ch.data.shape[0] == 2 and ch.data.shape[1] <= chunk_len
        np.testing.assert_array_equal(ch.data, full[:, ch.start_sample:ch.stop_sample])
        if prev is None:
            assert ch.start_sample == start
            pieces.append(ch.data)
        else:
            assert ch.start_sample == prev.start_sample + chunk_len - overlap
            assert ch.stop_sample > prev.stop_sample  # never only repeated samples
            pieces.append(ch.data[:, prev.stop_sample - ch.start_sample:])
        prev = ch
        pos = ch.stop_sample
    if start >= end:
        assert prev is None
    else:
        assert pos == end
        np.testing.assert_array_equal(np.concatenate(pieces, axis=1), full[:, start:end])


def test_chunk_arguments_checked(two_channel):
    rec = open_recording(two_channel[0])
    with pytest.raises(UserError):
        list(rec.chunks(0))
    with pytest.raises(UserError):
        list(rec.chunks(10, 10))
    with pytest.raises(UserError):
        rec.read(990, 20)


def test_timestamps_exact_over_hours(two_channel):
    rec = open_recording(two_channel[0])
    t0 = np.datetime64("2024-10-07T16:24:20.123456789", "ns")
    assert rec.start_time == t0
    # 3 h at 6.144 Msps: 66 355 200 000 samples, exactly 10800 s later
    n = 3 * 3600 * RATE
    assert rec.sample_time(n) == t0 + np.timedelta64(3 * 3600, "s")
    # one sample is 162.760416... ns; nanosecond rounding of start + n/fs
    for k in (1, 7, 12345, n + 1, n + 12345):
        exact_ns = (k * 10**9) / RATE
        got = (rec.sample_time(k) - t0) / np.timedelta64(1, "ns")
        assert abs(got - exact_ns) <= 0.5
    idx = np.array([0, 1, n, n + 12345], dtype=np.int64)
    arr = rec.sample_time(idx)
    assert arr.dtype == np.dtype("datetime64[ns]")
    assert list(arr) == [rec.sample_time(int(i)) for i in idx]
    # unix float time: resolution of float64 near 1.7e9 s is ~0.24 µs
    u0 = unix_seconds(t0)
    assert abs(rec.sample_unix_time(n) - (u0 + 10800.0)) < 1e-6
    np.testing.assert_allclose(rec.sample_unix_time(idx), [rec.sample_unix_time(int(i)) for i in idx], rtol=0, atol=0)
    assert rec.sample_index_at(rec.sample_time(12345)) == 12345
    assert rec.end_time == rec.sample_time(rec.num_samples)


def test_timestamps_non_integer_rate(tmp_path):
    comps = components("ci16_le", 10, 2)
    rate = 2.5e6 / 3
    rec = open_recording(write_recording(tmp_path / "r", comps, "ci16_le", rate=rate))
    n = 10**10
    got_ns = (rec.sample_time(n) - rec.start_time) / np.timedelta64(1, "ns")
    assert abs(got_ns - n * 1e9 / rate) < 1.0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-10-07T16:24:20Z", "2024-10-07T16:24:20.000000000"),
        ("2024-10-07T16:24:20.5Z", "2024-10-07T16:24:20.500000000"),
        ("2024-10-07T16:24:20.123456789Z", "2024-10-07T16:24:20.123456789"),
        ("2024-10-07 16:24:20.000001", "2024-10-07T16:24:20.000001000"),
        ("2024-10-07T18:24:20+02:00", "2024-10-07T16:24:20.000000000"),
        ("2024-10-07T16:24:20.25-0130", "2024-10-07T17:54:20.250000000"),
        ("1728318260.5", "2024-10-07T16:24:20.500000000"),
    ],
)
def test_parse_utc(text, expected):
    assert parse_utc(text) == np.datetime64(expected, "ns")


def test_parse_utc_other_types():
    t = np.datetime64("2024-10-07T16:24:20.5", "ns")
    assert parse_utc(1728318260.5) == t
    assert parse_utc(dt.datetime(2024, 10, 7, 16, 24, 20, 500000, tzinfo=dt.timezone.utc)) == t
    assert parse_utc(np.datetime64("2024-10-07T16:24:20.500", "ms")) == t
    assert format_utc(t) == "2024-10-07T16:24:20.500000000Z"
    assert parse_utc(format_utc(parse_utc(START))) == parse_utc(START)
    for bad in ("yesterday", "2024-13-07T00:00:00Z", float("nan"), [1]):
        with pytest.raises(UserError):
            parse_utc(bad)


def test_unsupported_datatypes_named():
    for bad in ("rf32_le", "ri16_le", "ci12_le", "cx16", ""):
        with pytest.raises(UserError, match="unsupported sample datatype"):
            sample_format(bad)
    assert sample_format("CI16_LE").name == "ci16_le"
    assert sample_format("ci8_le").name == "ci8"


def test_receiver_offset_stated_in_the_metadata():
    """heradecode:carrier_offset_hz: the archived recordings state their simulated LO offset; junk reads as 0."""
    import warnings

    from tests.helpers import SIM_DIR

    assert open_recording(SIM_DIR / "hera_high_sim_0x.sigmf-meta").receiver_offset_hz == -20000.0
    rec = open_recording(SIM_DIR / "hera_low_sim.sigmf-meta")
    assert rec.receiver_offset_hz == 1500.0
    for junk in ("x", float("nan"), True, [1]):
        rec.metadata["heradecode:carrier_offset_hz"] = junk
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert rec.receiver_offset_hz == 0.0
        assert len(caught) == 1 and "not a number of Hz" in str(caught[0].message)
    del rec.metadata["heradecode:carrier_offset_hz"]
    assert rec.receiver_offset_hz == 0.0

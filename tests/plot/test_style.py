"""UTC time-axis formatting shared by every plot."""

from __future__ import annotations

import numpy as np

from heradecode.plot._style import UtcTimeFormatter, datenum, span_text, unix_to_datetime64, utc_label


def _ticks(times: list[str]) -> list[str]:
    return UtcTimeFormatter().format_ticks(list(datenum(np.array(times, dtype="datetime64[ns]"))))


def test_whole_second_ticks_are_hh_mm_ss():
    assert _ticks(["2024-10-07T17:06:30", "2024-10-07T17:07:00", "2024-10-07T17:07:30"]) == [
        "17:06:30", "17:07:00", "17:07:30"]


def test_sub_second_ticks_get_just_enough_decimals():
    assert _ticks(["2024-10-07T17:06:31.2", "2024-10-07T17:06:31.4", "2024-10-07T17:06:31.6"]) == [
        "17:06:31.2", "17:06:31.4", "17:06:31.6"]
    assert _ticks(["2024-10-07T23:59:59.95", "2024-10-08T00:00:00.00", "2024-10-08T00:00:00.05"]) == [
        "23:59:59.95", "00:00:00.00", "00:00:00.05"]


def test_date_goes_in_the_label_and_title():
    assert utc_label(np.datetime64("2024-10-07T17:00"), np.datetime64("2024-10-07T18:00")) == "time (UTC) on 2024-10-07"
    assert utc_label(np.datetime64("2024-10-07T23:00"), np.datetime64("2024-10-08T01:00")) == (
        "time (UTC), 2024-10-07 to 2024-10-08")
    assert span_text(np.datetime64("2024-10-07T17:06:31.25"), np.datetime64("2024-10-07T17:06:37.5")) == (
        "2024-10-07 17:06:31.250–17:06:37.500 UTC")
    assert span_text(np.datetime64("2024-10-07T17:00:00"), np.datetime64("2024-10-07T17:10:00")) == (
        "2024-10-07 17:00:00–17:10:00 UTC")


def test_unix_to_datetime64_keeps_microseconds():
    t = unix_to_datetime64(np.array([1728320791.250001]))
    assert t[0] == np.datetime64("2024-10-07T17:06:31.250001", "ns")

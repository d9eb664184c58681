"""decode.json reader, Eb/N0-per-codeblock plot and frames timeline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.plot.helpers import START_UNIX, assert_png_ok, decode_dict
from heradecode.errors import UserError
from heradecode.plot import decode_log_from_dict, plot_codeblocks, plot_frames_timeline, read_decode_log

SCHEMA_EXAMPLE = """{"recording": "name", "mode": "high", "symbol_rate": 322560.0, "samp_rate": 6144000.0,
 "start_time_utc": "2024-10-07T17:06:31.000000000Z",
 "codeblocks": [
  {"start_sample": 12345, "unix_time": 1728320791.25, "time_utc": "2024-10-07T17:06:31.250000000Z",
   "polarity": 1, "sync_score": 0.93, "ebn0_db": 3.1, "esn0_db": -2.9, "iterations": 3,
   "crc_ok": true, "scid": 181, "vcid": 3, "vc_count": 17, "suspect": false},
  {"start_sample": 1000, "unix_time": 1728320791.1, "time_utc": "2024-10-07T17:06:31.100000001Z",
   "polarity": -1, "sync_score": 0.51, "ebn0_db": 0.4, "esn0_db": -5.6, "iterations": 10,
   "crc_ok": false, "scid": null, "vcid": null, "vc_count": null, "suspect": false}
 ]}"""


def test_reads_the_documented_schema(tmp_path):
    (tmp_path / "decode.json").write_text(SCHEMA_EXAMPLE, encoding="utf-8")
    log = read_decode_log(tmp_path)  # a decode directory is accepted
    assert (log.recording, log.mode, log.symbol_rate_baud, log.samp_rate_hz) == ("name", "high", 322560.0, 6144000.0)
    assert log.start_time == np.datetime64("2024-10-07T17:06:31", "ns")
    assert log.num_codeblocks == 2 and log.num_ok == 1 and log.num_failed == 1 and log.skipped == 0
    # time-ordered: the failed block (17:06:31.1) first, nanoseconds kept
    assert log.time_utc[0] == np.datetime64("2024-10-07T17:06:31.100000001", "ns")
    assert log.start_sample.tolist() == [1000, 12345]
    assert log.crc_ok.tolist() == [False, True]
    assert log.scid.tolist() == [-1, 181] and log.vcid.tolist() == [-1, 3] and log.vc_count.tolist() == [-1, 17]
    assert log.polarity.tolist() == [-1, 1] and log.iterations.tolist() == [10, 3]
    assert log.ebn0_db.tolist() == [0.4, 3.1] and log.esn0_db.tolist() == [-5.6, -2.9]
    assert log.unix_time[1] == 1728320791.25
    assert log.vcid.dtype == np.int32 and log.time_utc.dtype == np.dtype("datetime64[ns]")
    assert np.isnan(log.downlink_freq_hz) and np.isnan(log.center_freq_hz)
    data = json.loads(SCHEMA_EXAMPLE)
    data.update(center_freq_hz=8435.7e6, downlink_freq_hz=8435.75e6)
    log = decode_log_from_dict(data)
    assert (log.center_freq_hz, log.downlink_freq_hz) == (8435.7e6, 8435.75e6)


def test_unreadable_entries_are_skipped_and_counted():
    data = decode_dict(5)
    data["codeblocks"].append({"crc_ok": True})  # no time
    data["codeblocks"].append({"unix_time": START_UNIX + 9.0})  # no crc_ok
    data["codeblocks"].append("garbage")
    data["codeblocks"].append({"unix_time": START_UNIX + 10.0, "crc_ok": True, "vcid": 1, "ebn0_db": None})
    log = decode_log_from_dict(data)
    assert log.num_codeblocks == 6 and log.skipped == 3
    assert np.isnan(log.ebn0_db[-1]) and log.iterations[-1] == -1 and log.vcid[-1] == 1
    assert log.time_utc[-1] == np.datetime64("2024-10-07T17:06:41", "ns")


@pytest.mark.parametrize("text, match", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"codeblocks": 3}', "must be a list"),
])
def test_bad_files_are_user_errors(tmp_path, text, match):
    (tmp_path / "decode.json").write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=match):
        read_decode_log(tmp_path / "decode.json")


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        read_decode_log(tmp_path / "nope.json")


def test_codeblocks_png(tmp_path):
    log = decode_log_from_dict(decode_dict())
    png = tmp_path / "codeblocks.png"
    fig = plot_codeblocks(log, path=png)
    assert_png_ok(png, fig)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(s.startswith(f"CRC ok: {log.num_ok} codeblocks") for s in labels)
    assert any(s.startswith(f"CRC failed: {log.num_failed} codeblocks") for s in labels)
    assert any(s.startswith("suspect frames: 1") for s in labels)
    assert fig.axes[0].get_ylabel() == "Eb/N0 estimate (dB)" and fig.axes[1].get_ylabel() == "turbo iterations"
    assert fig.axes[1].get_xlabel() == "time (UTC) on 2024-10-07"
    assert f"{log.num_ok} of {log.num_codeblocks}" in fig._suptitle.get_text()


def test_frames_timeline_png(tmp_path):
    data = decode_dict()
    log = decode_log_from_dict(data)
    png = tmp_path / "frames.png"
    fig = plot_frames_timeline(log, path=png)
    assert_png_ok(png, fig)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    per_vc = {vc: sum(1 for cb in data["codeblocks"] if cb["crc_ok"] and cb["vcid"] == vc) for vc in (1, 3, 5, 7)}
    assert ticks == [f"CRC failed ({log.num_failed})", f"VC1 real time ({per_vc[1]})", f"VC3 replay ({per_vc[3]})",
                     f"VC5 ({per_vc[5]})", f"VC7 idle ({per_vc[7]})"]


def test_frames_timeline_keeps_named_rows_without_frames(tmp_path):
    data = decode_dict(8)
    for cb in data["codeblocks"]:
        cb.update(crc_ok=True, vcid=3, scid=181, vc_count=0)
    fig = plot_frames_timeline(decode_log_from_dict(data))
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["CRC failed (0)", "VC1 real time (0)", "VC3 replay (8)", "VC7 idle (0)"]


def test_empty_log_is_a_user_error():
    log = decode_log_from_dict(json.loads('{"codeblocks": []}'))
    with pytest.raises(UserError, match="no codeblocks"):
        plot_codeblocks(log)
    with pytest.raises(UserError, match="no codeblocks"):
        plot_frames_timeline(log)

"""The frame -> VC -> packet -> PUS pipeline and its summary, on real and corrupted data."""

import json
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.ccsds.framer import PacketFramer
from heradecode.ccsds.pus import build_pus_tm
from heradecode.ccsds.tmframe import read_frames
from heradecode.errors import UserError
from heradecode.fec.crc import append_fecf
from heradecode.products.telemetry import TelemetryProcessor
from tests.helpers import HIGH, LOW_1, LOW_2, REAL_FRAME_FILES

SUMMARY_KEYS = {"frames_total", "spacecraft_ids", "frames_by_vc", "vc_counter_gaps", "packets_by_apid",
                "packets_lost", "length_mismatches", "pus_by_service", "crc_failures"}


def _raw_frames(path):
    data = path.read_bytes()
    return [data[i:i + 1113] for i in range(0, len(data) - 1112, 1113)]


@pytest.mark.parametrize("path", REAL_FRAME_FILES, ids=lambda p: p.name[17:])
def test_real_summary_is_consistent(path):
    tp = TelemetryProcessor(keep_packets=True)
    for raw in _raw_frames(path):
        tp.feed(raw)
    d = tp.summary().to_dict()
    assert SUMMARY_KEYS <= d.keys()
    n = path.stat().st_size // 1113
    assert d["frames_total"] == d["frames_accepted"] == n
    assert d["spacecraft_ids"] == {"181": n}
    assert sum(d["frames_by_vc"].values()) == n
    assert set(d["frames_by_vc"]) <= {"1", "3", "7"}
    assert d["length_mismatches"] == 0 and d["crc_failures"] == 0 and d["pec_failures"] == 0
    assert d["packets_lost"] <= sum(d["vc_counter_gaps"].values())
    assert sum(d["packets_by_apid"].values()) == len(tp.packets)
    # the PUS histogram counts exactly the PUS-labelled packets; housekeeping (APID 260) is PUS 3/25
    assert sum(d["pus_by_service"].values()) == sum(1 for p in tp.packets if p.kind == "pus")
    assert all(p.pus.service == 3 for p in tp.packets if p.packet.apid == 260)
    assert d["pus_by_service"]["3/25"] >= d["packets_by_apid"]["260"] * 0.9
    assert d["time_packets"] == d["packets_by_apid"].get("0", 0)
    assert d["idle_packets"] == d["packets_by_apid"].get("2047", 0)
    json.dumps(d)


def test_time_packets_agree_with_pus_on_board_time():
    tp = TelemetryProcessor(keep_packets=True)
    tp.feed_many(_raw_frames(LOW_2))
    times = [(p.packet.frame_index, p.time.obt_s) for p in tp.packets if p.kind == "time"]
    pus = [(p.packet.frame_index, p.pus.obt_s) for p in tp.packets if p.kind == "pus"]
    assert times and pus
    for idx, t in times[:10]:
        near = [o for i, o in pus if abs(i - idx) <= 1]
        assert near and min(abs(o - t) for o in near) < 10.0


def test_dataframe_columns():
    tp = TelemetryProcessor(keep_packets=True)
    tp.feed_many(_raw_frames(LOW_2)[:50])
    df = tp.dataframe()
    assert len(df) == len(tp.packets) > 0
    assert {"apid", "pus_service", "pus_subtype", "obt_s", "data_hex"} <= set(df.columns)
    hk = df[df.apid == 260]
    assert (hk.pus_service == 3).all()


def test_corrupt_data_is_counted_and_the_rest_comes_out():
    rng = random.Random(7)
    good = _raw_frames(HIGH)[:300]
    clean = TelemetryProcessor()
    clean.feed_many(good)
    n_clean = clean.summary().to_dict()["packets_by_apid"]["260"]

    stream = []
    garbage = wrong_scid = 0
    for i, raw in enumerate(good):
        stream.append(raw)
        if i % 50 == 25:
            junk = bytes(rng.randrange(256) for _ in range(1113))
            stream.append(junk)
            garbage += 1
        if i % 70 == 35:
            other = bytearray(raw)
            other[0] = (other[0] & 0xC0) | 0x01  # SCID 0x01x
            stream.append(bytes(other))
            wrong_scid += 1
    stream.append(good[0][:500])  # a short frame
    tp = TelemetryProcessor()
    tp.feed_many(stream)
    d = tp.summary().to_dict()
    assert d["frames_total"] == len(stream)
    assert d["frames_accepted"] == 300
    assert d["wrong_scid"] + d["bad_version"] == garbage + wrong_scid
    assert d["malformed_frames"] == 1
    assert d["packets_by_apid"]["260"] == n_clean  # extra frames are not on any of Hera's VC sequences


def test_crc_failures_with_fecf_frames():
    frames = [append_fecf(r) for r in _raw_frames(LOW_2)[:40]]
    bad = {3, 17, 30}
    for i in bad:
        b = bytearray(frames[i])
        b[200] ^= 0x01
        frames[i] = bytes(b)
    tp = TelemetryProcessor(frame_length=1115)
    tp.feed_many(frames)
    d = tp.summary().to_dict()
    assert d["crc_failures"] == 3 and d["frames_accepted"] == 37


def test_any_scid_accepts_other_spacecraft():
    raw = bytearray(_raw_frames(LOW_2)[0])
    raw[0] = (raw[0] & 0xC0) | 0x01
    tp = TelemetryProcessor(scid=None)
    tp.feed(bytes(raw))
    assert tp.summary().frames_accepted == 1


def test_bad_frame_length_is_a_user_error():
    with pytest.raises(UserError, match="1113"):
        TelemetryProcessor(frame_length=1000)


def test_products_streamed(tmp_path):
    with TelemetryProcessor(out_dir=tmp_path, vcids=[1]) as tp:
        tp.feed_many(_raw_frames(HIGH)[:200])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (tmp_path / "vc1.u8").stat().st_size == 1113 * summary["frames_by_vc"]["1"]
    assert not (tmp_path / "vc3.u8").exists()
    lines = (tmp_path / "packets.csv").read_text().splitlines()
    assert lines[0].startswith("frame_index,vcid,apid")
    assert len(lines) - 1 == sum(summary["packets_by_apid"].values())
    assert all(",1," in ln[:12] for ln in lines[1:])


def test_generated_telemetry_round_trip():
    pkts = [build_pus_tm(260 + i % 3, 3, 25, bytes(60 + 7 * i), sequence_count=i, obt_s=1000 + i)
            for i in range(200)]
    framer = PacketFramer(vcid=1)
    raws = list(framer.frames(pkts)) + list(framer.flush())
    tp = TelemetryProcessor(keep_packets=True)
    tp.feed_many(raws)
    got = [p.packet.raw for p in tp.packets if p.kind == "pus"]
    assert got == pkts
    assert tp.summary().to_dict()["pus_by_service"] == {"3/25": 200}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=1200), max_size=15), st.integers(0, 2**16))
def test_arbitrary_input_never_raises(chunks, seed):
    rng = np.random.default_rng(seed)
    real = _raw_frames(LOW_2)
    tp = TelemetryProcessor(scid=None)
    for c in chunks:
        tp.feed(c)
        tp.feed(real[int(rng.integers(len(real)))])
    d = tp.summary().to_dict()
    assert d["frames_total"] == 2 * len(chunks)


# -- issue #11: repeated frames (finding 3) and unfinished packets at the end (finding 4) -----------
def _packet_list(tp):
    return [(p.packet.vcid, p.packet.raw) for p in tp.packets]


def _first_packet_frame(raws, vcid):
    """Index of a frame of ``vcid`` (after the first 20) that completes packets."""
    tp = TelemetryProcessor()
    for i, r in enumerate(raws):
        if tp.feed(r) and i >= 20 and (r[1] >> 1) & 7 == vcid:
            return i
    raise AssertionError("no such frame")


@pytest.mark.parametrize("vcid", [1, 3])
def test_repeated_real_frame_is_counted_and_emits_nothing(vcid):
    raws = _raw_frames(HIGH)[:200]
    k = _first_packet_frame(raws, vcid)
    clean = TelemetryProcessor(keep_packets=True)
    clean.feed_many(raws)
    tp = TelemetryProcessor(keep_packets=True)
    for i, r in enumerate(raws):
        out = tp.feed(r)
        if i == k:
            assert out
            assert tp.feed(r) == []  # the same frame again, straight after
    assert _packet_list(tp) == _packet_list(clean)
    d, c = tp.summary().to_dict(), clean.summary().to_dict()
    assert d["duplicate_frames"] == 1 and d["duplicate_frames_by_vc"] == {str(vcid): 1}
    assert c["duplicate_frames"] == 0 and c["duplicate_frames_by_vc"] == {}
    for key in ("packets_lost", "mc_counter_gaps", "vc_counter_gaps", "vc_frames_missing", "frames_by_vc",
                "packets_by_apid", "length_mismatches"):
        assert d[key] == c[key], key
    assert d["frames_total"] == c["frames_total"] + 1
    assert d["frames_total"] == (d["frames_accepted"] + d["duplicate_frames"] + d["crc_failures"]
                                 + d["wrong_scid"] + d["bad_version"] + d["malformed_frames"])
    assert "duplicate frames: 1" in tp.summary().format_text()


def test_frames_repeated_a_few_frames_later_give_no_repeated_packets():
    raws = _raw_frames(HIGH)[:120]
    clean = TelemetryProcessor(keep_packets=True)
    clean.feed_many(raws)
    # A B C B C D: frames 50..59 then 55..59 again, then the rest, as when overlapping segments are joined
    stream = raws[:60] + raws[55:60] + raws[60:]
    tp = TelemetryProcessor(keep_packets=True)
    tp.feed_many(stream)
    assert _packet_list(tp) == _packet_list(clean)
    d, c = tp.summary().to_dict(), clean.summary().to_dict()
    assert d["duplicate_frames"] == 5
    assert d["packets_lost"] == c["packets_lost"] and d["mc_counter_gaps"] == c["mc_counter_gaps"]
    assert d["vc_counter_gaps"] == c["vc_counter_gaps"]


def test_duplicates_are_not_written_to_vc_files(tmp_path):
    raws = _raw_frames(LOW_1)
    with TelemetryProcessor(out_dir=tmp_path) as tp:
        tp.feed_many(raws + raws[-3:])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["duplicate_frames"] == 3
    assert (tmp_path / "vc1.u8").stat().st_size + (tmp_path / "vc7.u8").stat().st_size == 1113 * len(raws)


def test_unfinished_packets_at_the_end_are_counted_on_the_real_file():
    tp = TelemetryProcessor()
    tp.feed_many(_raw_frames(HIGH))
    before = tp.summary().to_dict()
    assert before["partial_packets_at_end"] == {} and before["data_field_octets"]["in_progress"] == 105 + 191
    tp.finish()
    d = tp.summary().to_dict()
    assert d["partial_packets_at_end"] == {"1": 1, "3": 1}
    assert d["partial_octets_at_end"] == {"1": 191, "3": 105}
    o = d["data_field_octets"]
    assert o["in_progress"] == 0 and o["partial_at_end"] == 296
    assert o["total"] == o["in_packets"] + o["idle"] + o["lost"] + o["skipped"] + o["partial_at_end"]
    text = tp.summary().format_text()
    assert "unfinished at end: VC 1: 1 packet (191 octets), VC 3: 1 packet (105 octets)" in text
    tp.finish()  # ending twice changes nothing
    assert tp.summary().to_dict() == d


def test_close_ends_the_stream_and_summary_json_has_the_partials(tmp_path):
    with TelemetryProcessor(out_dir=tmp_path) as tp:
        tp.feed_many(_raw_frames(HIGH))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["partial_octets_at_end"] == {"1": 191, "3": 105}


def test_data_field_octets_balance_on_real_files():
    for path in REAL_FRAME_FILES:
        tp = TelemetryProcessor()
        tp.feed_many(_raw_frames(path))
        tp.finish()
        o = tp.summary().to_dict()["data_field_octets"]
        n = path.stat().st_size // 1113
        assert o["total"] == n * (1113 - 10)  # every frame carries an OCF: 1103 data octets each
        assert o["total"] == o["in_packets"] + o["idle"] + o["lost"] + o["skipped"] + o["partial_at_end"]


def test_decode_writer_close_ends_the_stream(tmp_path):
    # the decode products go through DecodeWriter.close -> TelemetryProcessor.close, which ends the stream
    from heradecode.products.decodelog import DecodedCodeblock, DecodeWriter

    writer = DecodeWriter(tmp_path)
    blank = DecodedCodeblock(start_sample=0, unix_time=0.0, polarity=1, sync_score=9.0, sync_reason="test",
                             esn0_db=0.0, ebn0_db=0.0, iterations=1, crc_ok=False)
    raws = _raw_frames(HIGH)
    for raw in raws[-1000:] + raws[-2:]:  # the file's last 1000 frames, the last two of them twice
        writer.add(blank.with_frame(raw, 181))
    writer.close({})
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["duplicate_frames"] == 2
    assert summary["partial_octets_at_end"] == {"1": 191, "3": 105}
    assert summary["data_field_octets"]["in_progress"] == 0

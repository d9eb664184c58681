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
from tests.conftest import HIGH, LOW_2, REAL_FRAME_FILES

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

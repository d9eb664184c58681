"""The decode log's format: the header dataclass, its JSON round trip, the writer's counts, the reader."""

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.ccsds.mission import HERA
from heradecode.products.decodelog import (DECODE_COUNTERS, DecodedCodeblock, DecodeHeader, DecodeWriter,
                                           read_decode_header, read_decode_log)
from tests.helpers import HIGH

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
numbers = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=200, deadline=None)
@given(recording=texts, mission=texts, mode=texts, rate=numbers, fs=numbers, f0=numbers, dur=numbers,
       mode_d=st.sampled_from(["", "one-way", "three-way"]), scid=st.none() | st.integers(0, 1023),
       counters=st.fixed_dictionaries({}, optional={k: st.integers(0, 2**40) for k in DECODE_COUNTERS}))
def test_header_round_trips_through_json(recording, mission, mode, rate, fs, f0, dur, mode_d, scid, counters):
    h = DecodeHeader(recording=recording, mission=mission, mode=mode, symbol_rate_baud=rate, samp_rate_hz=fs,
                     center_freq_hz=f0, duration_s=dur, doppler_mode=mode_d, scid=scid, counters=counters)
    doc = json.loads(json.dumps(h.to_dict()))
    assert DecodeHeader.from_dict(doc) == h
    if rate == rate:
        assert doc["symbol_rate"] == rate  # the key decode logs have always used


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(texts, st.none() | st.booleans() | numbers | texts | st.lists(st.integers(), max_size=3)))
def test_any_json_header_reads_without_error(data):
    h = DecodeHeader.from_dict(data)
    assert isinstance(h.recording, str) and isinstance(h.symbol_rate_baud, float)


def test_writer_counts_and_reader(tmp_path):
    frames = HIGH.read_bytes()
    w = DecodeWriter(tmp_path)
    base = DecodedCodeblock(start_sample=0, unix_time=1728320791.0, polarity=1, sync_score=9.0, sync_reason="strong",
                            esn0_db=-2.0, ebn0_db=4.0, iterations=3, crc_ok=False)
    w.add(base.with_frame(frames[:1113], HERA.scid))
    w.add(base)  # CRC failed
    w.add(base.with_frame(frames[1113:2226], HERA.scid + 1))  # another spacecraft: suspect
    w.close(DecodeHeader(recording="x.sigmf-data", mission="hera", mode="high", symbol_rate_baud=322560.0,
                         counters={"sync_attempts": 4}))
    assert (w.n_frames, w.n_failed, w.n_suspect, w.n_codeblocks) == (1, 1, 1, 3)
    log = read_decode_log(tmp_path)
    assert log.num_codeblocks == 3 and log.num_ok == 2 and int(log.suspect.sum()) == 1
    head = read_decode_header(tmp_path / "decode.json")
    assert head == log.header and head.counters == {"sync_attempts": 4} and head.symbol_rate_baud == 322560.0
    assert math.isnan(head.downlink_freq_hz)

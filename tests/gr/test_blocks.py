"""heradecode's GNU Radio blocks, one by one and chained in a Python flowgraph."""

import json
import time

import numpy as np
import pytest

from heradecode.ccsds.mission import HERA
from heradecode.dsp.nco import Nco
from heradecode.fec.crc import append_fecf
from heradecode.fec.turbo import encode
from heradecode.io import open_recording
from heradecode.io.dopplerfile import read_doppler_profile
from tests.helpers import HERA_DOPPLER, HIGH, REPO, frame_hashes, golden
from tests.gr.gnuradio_env import require_gnuradio

require_gnuradio()

import pmt  # noqa: E402
from gnuradio import blocks, gr  # noqa: E402

import heradecode.gr as hg  # noqa: E402
from heradecode.gr import tags  # noqa: E402
from heradecode.gr.sigmf_source_block import PAD_TO  # noqa: E402

pytestmark = pytest.mark.gnuradio
SIM = REPO / "recordings" / "sim"
LOW_REC = SIM / "hera_low_sim.sigmf-meta"


def _wait_for(pred, timeout_s: float = 20.0) -> None:
    t_end = time.monotonic() + timeout_s
    while not pred() and time.monotonic() < t_end:
        time.sleep(0.01)


def test_meta_round_trip_and_pdu_parts():
    meta = {"a": 1, "b": 2.5, "c": True, "d": "tracked"}
    assert tags.pmt_to_meta(tags.meta_to_pmt(meta)) == meta
    assert tags.pdu_parts(pmt.intern("not a pdu")) is None
    parts = tags.pdu_parts(pmt.cons(tags.meta_to_pmt(meta), pmt.init_u8vector(3, [1, 2, 3])))
    assert parts[0] == meta and list(pmt.u8vector_elements(parts[1])) == [1, 2, 3]
    t = 1728318260.123456
    assert tags.rx_time_value(tags.rx_time_pmt(t)) == pytest.approx(t, abs=1e-9)


def test_sigmf_source_streams_the_recording_with_tags():
    rec = open_recording(LOW_REC)
    tb = gr.top_block()
    src = hg.sigmf_source(str(LOW_REC), 2)
    sinks = [blocks.vector_sink_c() for _ in range(2)]
    for ch, s in enumerate(sinks):
        tb.connect((src, ch), s)
    tb.run()
    want = rec.read(0, rec.num_samples)
    padded = -(-rec.num_samples // PAD_TO) * PAD_TO
    for ch, s in enumerate(sinks):
        got = np.array(s.data(), np.complex64)
        assert got.size == padded  # zeros after the recording, to a multiple of PAD_TO
        np.testing.assert_array_equal(got[:rec.num_samples], want[ch])
        assert not np.any(got[rec.num_samples:])
    found = {pmt.symbol_to_string(t.key): t for t in sinks[1].tags()}
    assert found["rx_time"].offset == 0
    assert tags.rx_time_value(found["rx_time"].value) == pytest.approx(rec.sample_unix_time(0), abs=1e-6)
    assert pmt.to_double(found["rx_rate"].value) == rec.samp_rate
    assert pmt.to_double(found["rx_freq"].value) == rec.center_freq_hz
    assert found["heradecode_eos"].offset == padded - 1


def test_sigmf_source_rejects_a_wrong_channel_count():
    with pytest.raises(ValueError, match="2 channel"):
        hg.sigmf_source(str(LOW_REC), 1)


def test_doppler_source_is_the_library_nco():
    fs, t0 = 48_000.0, 1728321991.0
    prof = read_doppler_profile(HERA_DOPPLER)
    tb = gr.top_block()
    src = hg.doppler_source(fs, t0, str(HERA_DOPPLER), 1500.0)
    head = blocks.head(gr.sizeof_gr_complex, 100_000)
    sink = blocks.vector_sink_c()
    tb.connect(src, head, sink)
    tb.run()
    want = Nco(fs, doppler=prof, offset_hz=1500.0, start_unix_s=t0).process(np.ones(100_000, np.complex64))
    got = np.array(sink.data(), np.complex64)
    assert got.size == 100_000
    np.testing.assert_allclose(got, want, atol=1e-5)
    # it really turns: the phase advances at -(Doppler + offset)
    f = np.angle(got[1:] * np.conj(got[:-1])).mean() * fs / (2 * np.pi)
    f_profile = prof.freq_at(t0 + np.arange(1, 100_000) / fs).mean()
    assert f == pytest.approx(-(f_profile + 1500.0), abs=0.5)


def test_doppler_source_refuses_a_profile_that_misses_the_start():
    with pytest.raises(ValueError, match="not the start time"):
        hg.doppler_source(48_000.0, 1.0e9, str(HERA_DOPPLER), 0.0)


def _codeblock_pdu(frame: bytes, noise_sigma: float, seed: int):
    bits = np.unpackbits(np.frombuffer(append_fecf(frame), np.uint8))
    sym = 1.0 - 2.0 * encode(bits, 4).astype(np.float32)
    rng = np.random.default_rng(seed)
    llr = (2 / noise_sigma**2) * (sym + noise_sigma * rng.standard_normal(sym.size)).astype(np.float32)
    return pmt.cons(tags.meta_to_pmt({"asm_index": 7}), pmt.init_f32vector(llr.size, llr.tolist()))


def test_turbo_decoder_block_publishes_frames_and_failures_and_rejects_junk():
    frame = HIGH.read_bytes()[:1113]
    tb = gr.top_block()
    dec = hg.turbo_decoder()
    ok, failed = blocks.message_debug(), blocks.message_debug()
    tb.msg_connect((dec, "out"), (ok, "store"))
    tb.msg_connect((dec, "failed"), (failed, "store"))
    tb.start()
    port = pmt.intern("in")
    dec.to_basic_block()._post(port, pmt.intern("junk"))
    dec.to_basic_block()._post(port, pmt.cons(pmt.make_dict(), pmt.init_f32vector(10, [0.0] * 10)))
    dec.to_basic_block()._post(port, _codeblock_pdu(frame, 0.7, seed=1))  # Es/N0 ~ 0 dB: decodes
    dec.to_basic_block()._post(port, _codeblock_pdu(frame, 3.0, seed=2))  # Es/N0 ~ -12.6 dB: cannot
    _wait_for(lambda: ok.num_messages() + failed.num_messages() >= 2)
    tb.stop()
    tb.wait()
    assert ok.num_messages() == 1 and failed.num_messages() == 1 and dec.n_rejected == 2
    meta, vec = tags.pdu_parts(ok.get_message(0))
    assert bytes(pmt.u8vector_elements(vec)) == frame
    assert meta["crc_ok"] is True and meta["asm_index"] == 7 and meta["iterations"] >= 1
    assert tags.pdu_parts(failed.get_message(0))[0]["crc_ok"] is False


def test_tm_sink_writes_products_and_sets_aside_bad_frames(tmp_path):
    frames = [HIGH.read_bytes()[i * 1113:(i + 1) * 1113] for i in range(3)]
    alien = bytearray(frames[0])
    alien[0] = (alien[0] & 0xC0) | 0x01  # another spacecraft ID
    sink = hg.tm_sink(str(tmp_path))
    for i, f in enumerate([*frames, bytes(alien), b"short"]):
        meta = tags.meta_to_pmt({"start_sample": 1000 * i, "unix_time": 1.0 + i, "polarity": 1, "iterations": 3})
        sink.handle_frame(pmt.cons(meta, pmt.init_u8vector(len(f), list(f))))
    sink.handle_failed(pmt.cons(tags.meta_to_pmt({"start_sample": 9}), pmt.init_u8vector(0, [])))
    sink.handle_frame(pmt.intern("junk"))
    assert sink.stop() is True
    assert sink.n_rejected == 2 and sink.writer.n_failed == 1
    assert (tmp_path / "frames.u8").read_bytes() == b"".join(frames)
    assert (tmp_path / "suspect_frames.u8").read_bytes() == bytes(alien)
    log = json.loads((tmp_path / "decode.json").read_text())["codeblocks"]
    assert [c["crc_ok"] for c in log] == [True, True, True, True, False]
    assert [c["start_sample"] for c in log] == [0, 1000, 2000, 3000, 9]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["frames_total"] == 3


@pytest.mark.slow
def test_python_flowgraph_decodes_the_low_rate_recording(tmp_path):
    """sigmf_source -> doppler_source x Multiply -> biphase_demod -> asm_sync -> turbo_decoder -> tm_sink."""
    info = hg.recording_info(str(LOW_REC))
    tb = gr.top_block()
    src = hg.sigmf_source(str(LOW_REC), 2)
    dop = hg.doppler_source(info.samp_rate, info.start_unix_time, str(HERA_DOPPLER),
                            HERA.downlink_freq_hz - info.center_freq_hz)
    dem = hg.biphase_demod(info.samp_rate, 60237.5, 2)
    sync, dec, sink = hg.asm_sync(), hg.turbo_decoder(), hg.tm_sink(str(tmp_path))
    for ch in range(2):
        mix = blocks.multiply_cc()
        tb.connect((src, ch), (mix, 0))
        tb.connect(dop, (mix, 1))
        tb.connect(mix, (dem, ch))
    tb.connect(dem, sync)
    tb.msg_connect((sync, "codeblocks"), (dec, "in"))
    tb.msg_connect((dec, "out"), (sink, "frames"))
    tb.msg_connect((dec, "failed"), (sink, "failed"))
    tb.run()
    want = golden("hera_low_sim")
    assert frame_hashes((tmp_path / "frames.u8").read_bytes()) == want
    assert sync.n_codeblocks == len(want) and dec.n_failed == 0
    assert dem.ended  # the end-of-stream tag passed the Doppler mixers (the stream is padded to their alignment)
    # codeblock positions and times agree with the simulator's truth (within a few symbols)
    truth = json.loads((SIM / "hera_low_sim.truth.json").read_text())
    starts = np.array([row[2] for row in truth["codeblocks"]], float)
    log = json.loads((tmp_path / "decode.json").read_text())["codeblocks"]
    sps = info.samp_rate / 60237.5
    np.testing.assert_allclose([c["start_sample"] for c in log], starts, atol=3 * sps)
    np.testing.assert_allclose([c["unix_time"] for c in log], info.start_unix_time + starts / info.samp_rate,
                               atol=3 / 60237.5)


def _weak_marker_stream(frame: bytes, seed: int) -> tuple[np.ndarray, int]:
    """One Hera CADU alone between noise gaps, its marker at 0.5 amplitude (about 5 sigma, under the 6-sigma
    threshold), the codeblock at Es/N0 0 dB (it decodes); LLRs, and the marker's symbol index."""
    from heradecode.fec.asm import asm_bits
    from heradecode.fec.randomizer import randomize_bits

    rng = np.random.default_rng(seed)
    bits = np.unpackbits(np.frombuffer(append_fecf(frame), np.uint8))
    cadu = np.concatenate([0.5 * (1.0 - 2.0 * asm_bits(4)), 1.0 - 2.0 * randomize_bits(encode(bits, 4))])
    lead = 5000
    clean = np.concatenate([np.zeros(lead), cadu, np.zeros(5000)])
    sigma = np.sqrt(0.5)  # Es/N0 0 dB
    y = clean + sigma * rng.standard_normal(clean.size)
    return (2 * y / sigma**2).astype(np.float32), lead


@pytest.mark.parametrize("confirm", [True, False])
def test_asm_sync_decides_a_weak_lone_marker_by_decoding(confirm):
    frame = HIGH.read_bytes()[:1113]  # a real Hera frame: TM version 0, SCID 0xB5
    llr, asm_at = _weak_marker_stream(frame, seed=5)
    tb = gr.top_block()
    src = blocks.vector_source_f(llr.tolist(), False)
    sync = hg.asm_sync(confirm=confirm)
    got = blocks.message_debug()
    tb.connect(src, sync)
    tb.msg_connect((sync, "codeblocks"), (got, "store"))
    tb.run()
    if not confirm:  # under the threshold, alone: the marker is lost without decoding
        assert got.num_messages() == 0 and sync.framesync.n_attempts == 0
        return
    assert got.num_messages() == 1 and sync.framesync.n_confirmed == 1
    meta, _ = tags.pdu_parts(got.get_message(0))
    assert meta["asm_index"] == asm_at and meta["sync_reason"] == "confirmed" and 4.0 <= meta["sync_score"] < 6.0

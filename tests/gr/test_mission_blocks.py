"""The GNU Radio blocks with another mission: Europa Clipper's rate-1/6 code and AOS frames."""

import json

import numpy as np
import pytest

from heradecode.fec.crc import append_fecf
from heradecode.fec.turbo import encode
from tests.gr.gnuradio_env import require_gnuradio
from tests.missions.helpers import EUROPA_CLIPPER, FRAME_LENGTH

require_gnuradio()

import pmt  # noqa: E402

import heradecode.gr as hg  # noqa: E402
from heradecode.gr import tags  # noqa: E402

pytestmark = pytest.mark.gnuradio


def test_turbo_decoder_and_tm_sink_for_an_aos_mission(tmp_path):
    frames = [EUROPA_CLIPPER.read_bytes()[i * FRAME_LENGTH:(i + 1) * FRAME_LENGTH] for i in range(3)]
    dec = hg.turbo_decoder(mission="europa-clipper")  # its code: k 8920, rate 1/6
    sink = hg.tm_sink(str(tmp_path), mission="europa-clipper")
    rng = np.random.default_rng(16)
    for i, f in enumerate(frames):
        bits = np.unpackbits(np.frombuffer(append_fecf(f), np.uint8))
        llr = 4.0 * (1.0 - 2.0 * encode(bits, 6)) + rng.standard_normal(53544)  # derandomized, as asm_sync gives
        dec.handle(pmt.cons(tags.meta_to_pmt({"start_sample": 100 * i}), pmt.init_f32vector(llr.size, llr.tolist())))
    assert (dec.n_ok, dec.n_failed) == (3, 0)
    # the decoder's output goes to the sink as a flowgraph would pass it
    for f in frames:
        sink.handle_frame(pmt.cons(tags.meta_to_pmt({"iterations": 2}), pmt.init_u8vector(len(f), list(f))))
    assert sink.stop() is True
    assert (tmp_path / "frames.u8").read_bytes() == b"".join(frames)
    assert not (tmp_path / "suspect_frames.u8").exists()
    log = json.loads((tmp_path / "decode.json").read_text())["codeblocks"]
    assert [(c["scid"], c["vcid"]) for c in log] == [(0x9F, 32)] * 3
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["mission"] == "Europa Clipper" and summary["frames_by_vc"] == {"32": 3}


def test_asm_sync_uses_the_rate_one_sixth_marker():
    assert hg.asm_sync(mission="psyche").code == hg.asm_sync(8920, 6).code
    sync = hg.asm_sync(8920, 6)
    assert sync.code.asm_length == 192 and sync.rate == pytest.approx(8920 / 53544)
    assert sync.framesync.period == 192 + 53544

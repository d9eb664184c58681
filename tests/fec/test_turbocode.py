"""TurboCode: the lengths and marker one (k, rate) implies, and the objects built from it."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heradecode.errors import UserError
from heradecode.fec.asm import FrameSync
from heradecode.fec.crc import append_fecf
from heradecode.fec.randomizer import derandomize_llr, randomize_bits
from heradecode.fec.turbo import TurboDecoder
from heradecode.fec.turbocode import TurboCode
from heradecode.missions import load_mission

# CCSDS 131.0-B-4 table 6-1 and 9.3.4: codeblock lengths and marker lengths per rate
CODEBLOCK = {(1784, 2): 3576, (1784, 6): 10728, (8920, 3): 26772, (8920, 4): 35696, (8920, 6): 53544}


@pytest.mark.parametrize("k,r", sorted(CODEBLOCK))
def test_lengths_follow_the_standard(k, r):
    code = TurboCode(k, r)
    assert code.codeblock_length == CODEBLOCK[(k, r)]
    assert code.asm_length == 32 * r == len(bytes.fromhex(code.asm_hex)) * 8 == code.asm_bits.size
    assert code.cadu_length == code.asm_length + code.codeblock_length
    assert (code.frame_length, code.frame_length_no_fecf) == (k // 8, k // 8 - 2)
    assert code.info_bits_per_symbol == pytest.approx(k / CODEBLOCK[(k, r)])


@given(st.integers(-10, 10000), st.integers(-3, 9))
def test_only_standard_codes_exist(k, r):
    if k in (1784, 3568, 7136, 8920) and r in (2, 3, 4, 6):
        assert TurboCode(k, r).k == k
    else:
        with pytest.raises(UserError):
            TurboCode(k, r)


def test_missions_codes():
    assert TurboCode.from_mission(load_mission("hera")) == TurboCode(8920, 4)
    assert TurboCode.from_mission(load_mission("psyche")) == TurboCode(8920, 6)
    with pytest.raises(UserError, match="not turbo coded"):
        TurboCode.from_mission(load_mission("euclid"))


def test_framesync_and_decoder_take_the_code():
    code = TurboCode(1784, 6)
    fs = FrameSync(code=code)
    assert (fs.k, fs.inv_rate, fs.codeblock_len, fs.asm_len, fs.period) == (
        1784, 6, code.codeblock_length, code.asm_length, code.cadu_length)
    assert FrameSync(8920, 4).code == TurboCode()
    dec = TurboDecoder(code=code)
    assert (dec.k, dec.inv_rate, dec.n_symbols) == (1784, 6, code.codeblock_length)


def test_encode_sync_and_decode_one_cadu():
    rng = np.random.default_rng(7)
    code = TurboCode(1784, 3)

    frame = rng.integers(0, 256, code.frame_length_no_fecf, dtype=np.uint8).tobytes()
    bits = np.unpackbits(np.frombuffer(append_fecf(frame), np.uint8))
    cadu = np.concatenate([code.asm_bits, randomize_bits(code.encode(bits))])
    soft = np.concatenate([rng.standard_normal(500), 4.0 * (1.0 - 2.0 * cadu), rng.standard_normal(3000)])
    fs = FrameSync(code=code)
    blocks = fs.feed(soft.astype(np.float32)) + fs.flush()

    assert blocks and blocks[0].asm_index == 500
    r = TurboDecoder(code=code).decode(derandomize_llr(blocks[0].soft))
    assert r.crc_ok and r.frame() == frame
    with pytest.raises(UserError, match="takes 1784 information bits"):
        code.encode(bits[:-8])

"""CodeblockDecoder: one soft codeblock to a checked frame and its identity, for TM and AOS missions."""

import math

import numpy as np
import pytest

from heradecode.ccsds.codeblock import CodeblockDecoder, frame_identity
from heradecode.fec.confirm import HeaderSpec
from heradecode.fec.crc import append_fecf
from heradecode.fec.randomizer import derandomize_llr, randomize_bits
from heradecode.fec.turbo import encode
from heradecode.missions import load_mission
from tests.helpers import LOW_1
from tests.missions.helpers import EUROPA_CLIPPER, FRAME_LENGTH

HERA_FRAME = LOW_1.read_bytes()[:FRAME_LENGTH]
EC_FRAME = EUROPA_CLIPPER.read_bytes()[:FRAME_LENGTH]


def soft_codeblock(frame: bytes, inv_rate: int, esn0_db: float, seed: int) -> np.ndarray:
    """Sign-corrected, randomized LLRs of a frame's codeblock on a BPSK/AWGN channel."""
    rng = np.random.default_rng(seed)
    bits = np.unpackbits(np.frombuffer(append_fecf(frame), np.uint8))
    x = 1.0 - 2.0 * randomize_bits(encode(bits, inv_rate))
    sigma2 = 1.0 / (2.0 * 10 ** (esn0_db / 10))
    y = x + math.sqrt(sigma2) * rng.standard_normal(x.size)
    return (2.0 * y / sigma2).astype(np.float32)


def test_hera_frame_decodes_with_its_identity():
    cbd = CodeblockDecoder()  # Hera by default: k 8920, rate 1/4
    d = cbd.decode(soft_codeblock(HERA_FRAME, 4, -1.0, seed=1))
    assert d.crc_ok and d.frame == HERA_FRAME and not d.suspect
    ident = d.identity
    assert (ident.version, ident.scid, ident.vcid, ident.vc_count) == (
        0, 181, (HERA_FRAME[1] >> 1) & 7, HERA_FRAME[3])
    assert d.esn0_db == pytest.approx(-1.0, abs=0.6)
    assert d.ebn0_db == pytest.approx(d.esn0_db - 10 * math.log10(8920 / 35696))


def test_another_spacecraft_is_suspect_and_noise_fails():
    other = bytearray(HERA_FRAME)
    other[0] = (other[0] & 0xC0) | 0x05  # SCID 0x05x
    d = CodeblockDecoder().decode(soft_codeblock(bytes(other), 4, 0.0, seed=2))
    assert d.crc_ok and d.suspect and d.identity.scid != 181
    noise = np.random.default_rng(3).standard_normal(35696).astype(np.float32)
    bad = CodeblockDecoder().decode(noise)
    assert not bad.crc_ok and bad.frame is None and bad.identity is None and not bad.suspect


def test_aos_mission_identity_and_rate():
    ec = load_mission("europa-clipper")
    cbd = CodeblockDecoder(mission=ec)  # the code from the profile: rate 1/6
    assert (cbd.code.k, cbd.code.inv_rate) == (8920, 6)
    d = cbd.decode(soft_codeblock(EC_FRAME, 6, -2.0, seed=4))
    assert d.crc_ok and d.frame == EC_FRAME and not d.suspect
    assert (d.identity.version, d.identity.scid, d.identity.vcid) == (1, 0x9F, 32)
    assert d.identity.vc_count == int.from_bytes(EC_FRAME[2:5], "big")
    check = cbd.frame_check()
    assert isinstance(check, HeaderSpec) and check(EC_FRAME) and not check(HERA_FRAME)
    # read as a TM frame by Hera's profile the same octets are another spacecraft's
    assert frame_identity(EC_FRAME, load_mission("hera").frames, 181).suspect


def test_erased_values_batch_and_predecoded_results():
    cbd = CodeblockDecoder()
    softs = [soft_codeblock(HERA_FRAME, 4, 0.0, seed=s) for s in (5, 6, 7)]
    softs[1][::97] = np.nan  # corrupt input is erased, not fatal
    first = cbd.decode(softs[0]).result
    out = cbd.decode_batch(softs, [first, None, None])
    assert [d.crc_ok for d in out] == [True, True, True]
    assert out[0].result is first  # given results are not decoded again
    assert all(d.frame == HERA_FRAME for d in out)


def test_derandomized_input_and_unknown_scid():
    soft = soft_codeblock(HERA_FRAME, 4, 0.0, seed=8)
    plain = CodeblockDecoder(derandomize=False, esn0=False).decode(derandomize_llr(soft))
    assert plain.crc_ok and plain.frame == HERA_FRAME and math.isnan(plain.esn0_db)
    juice = CodeblockDecoder(mission=load_mission("juice"))
    assert juice.frame_check() is None  # no SCID known: CRC only
    assert not juice.decode(soft).suspect

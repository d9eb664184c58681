"""Turbo attached sync markers (CCSDS 131.0-B section 9)."""

import numpy as np
import pytest

from heradecode.errors import UserError
from heradecode.fec.asm import ASM_HEX, asm_bits, asm_symbols

# Bit patterns as printed in the standard (figures of section 9), first transmitted bit first.
R13 = "001001011101010111000000110011101000100110010000111101101100100101000110000110111111011110011100"
R14 = (
    "0000001101000111011101101100011100100111001010001001010110110000"
    "1111110010111000100010010011100011011000110101110110101001001111"
)
R16 = R13 + "110110100010101000111111001100010111011001101111000010010011011010111001111001000000100001100011"


@pytest.mark.parametrize(
    "inv_rate, pattern, hexstr",
    [
        (2, R14[:64], "034776C7272895B0"),
        (3, R13, "25D5C0CE8990F6C9461BF79C"),
        (4, R14, "034776C7272895B0FCB88938D8D76A4F"),
        (6, R16, "25D5C0CE8990F6C9461BF79CDA2A3F31766F0936B9E40863"),
    ],
)
def test_known_answers(inv_rate, pattern, hexstr):
    bits = asm_bits(inv_rate)
    assert bits.dtype == np.uint8
    assert "".join(map(str, bits)) == pattern
    assert ASM_HEX[inv_rate] == hexstr
    assert bits.size == 32 * inv_rate
    assert np.array_equal(asm_symbols(inv_rate), 1.0 - 2.0 * bits)


def test_default_is_rate_quarter():
    assert np.array_equal(asm_bits(), asm_bits(4))


@pytest.mark.parametrize("bad", [1, 5, 8, "4"])
def test_bad_rate(bad):
    with pytest.raises(UserError):
        asm_bits(bad)


# ---- frame synchronizer internals: the local-power statistic, the robust block scales, bounded memory


def _window_z_reference(y, p0, p1, m, wlen, corr):
    """The statistic by its definition, with direct float64 window sums (y from stream position 0)."""
    from heradecode.fec.asm import OWN_POWER_WEIGHT

    sq = y.astype(np.float64) ** 2
    total = y.size
    z = np.zeros(p1 - p0)
    for i, p in enumerate(range(p0, p1)):
        b = min(p + wlen, total)
        c = max(p + m - wlen, 0)
        lead = sq[p:b].sum() / (b - p)
        trail = sq[c : p + m].sum() / (p + m - c)
        own = OWN_POWER_WEIGHT * sq[p : p + m].sum() / m
        den = np.sqrt(m * max(lead, trail, own, 0.0))
        z[i] = corr[i] / den if den > 0 else 0.0
    return z


@pytest.mark.parametrize("m, wlen, p0, p1", [(128, 2048, 0, 3000), (96, 300, 517, 2901), (64, 64, 5, 1000),
                                             (192, 1000, 1300, 2809)])
def test_window_statistic_matches_its_definition(m, wlen, p0, p1):
    from heradecode.fec.asm import _window_z

    rng = np.random.default_rng(m + wlen)
    y = (rng.standard_normal(3000) * np.repeat(rng.uniform(0.1, 3.0, 30), 100)).astype(np.float32)
    y[700:900] = 0.0  # an erased stretch
    p1 = min(p1, y.size - m + 1)
    corr = rng.standard_normal(p1 - p0).astype(np.float32) * 10
    z = np.full(p1 - p0, np.nan, np.float32)
    _window_z(y, 0, p0, p1, m, wlen, y.size, corr, z)
    ref = _window_z_reference(y, p0, p1, m, wlen, corr)
    np.testing.assert_allclose(z, ref, rtol=1e-5, atol=1e-6)


def test_window_statistic_huge_value_stays_in_its_segments():
    # a value near CLIP_MAX wrecks the precision of the windows of the segments that hold it, not later ones
    from heradecode.fec.asm import _SEGMENT, _window_z

    rng = np.random.default_rng(3)
    y = rng.standard_normal(6000).astype(np.float32)
    y[1000] = 1e30
    m, wlen = 128, 512
    p1 = y.size - m + 1
    corr = np.ones(p1, np.float32)
    z = np.zeros(p1, np.float32)
    _window_z(y, 0, 0, p1, m, wlen, y.size, corr, z)
    ref = _window_z_reference(y, 0, p1, m, wlen, corr)
    clean = (1000 // _SEGMENT + 1) * _SEGMENT  # the first segment after the one whose windows reach it last
    np.testing.assert_allclose(z[clean:], ref[clean:], rtol=1e-5)
    assert np.all(np.isfinite(z))


def test_block_scales_are_the_medians_whatever_the_hint():
    from heradecode.fec.asm import _block_scales

    rng = np.random.default_rng(8)
    B = 256
    y = (rng.standard_normal(40 * B) * np.repeat(rng.choice([0.01, 1.0, 1.1, 100.0], 40), B)).astype(np.float32)
    y[5 * B : 5 * B + 240] = 0.0  # too few non-zero values for a scale
    y[9 * B : 10 * B : 2] = 0.0  # half of them erased
    y[12 * B : 13 * B] = 2.5  # all alike
    y = np.concatenate([y, rng.standard_normal(77).astype(np.float32)])  # a partial last block
    ref = []
    for k in range(41):
        a = np.abs(y[k * B : (k + 1) * B])
        a = np.sort(a[a > 0])
        ref.append(a[a.size // 2] if a.size >= 32 else 0.0)
    for hint in (0.0, 1.0, 1e-3, 1e6):
        out = np.full(41, -1.0)
        _block_scales(y, B, 32, out, hint)
        assert np.array_equal(out, np.array(ref, np.float32).astype(np.float64)), hint


def test_framesync_memory_stays_bounded_while_tracking():
    # an unmatched peak before the lock must not hold the buffer while every later marker is tracked
    from heradecode.fec.asm import FrameSync
    from tests.fec.helpers import soft_stream

    rng = np.random.default_rng(21)
    stream, truth = soft_stream(rng, 30, esn0_db=-1.0, gaps=False)
    lead = (rng.standard_normal(5000) * 2.0).astype(np.float32)
    lead[1000:1128] += 0.8 * asm_symbols(4)  # a weak (about 4 sigma) lone marker-like peak
    stream = np.concatenate([lead, stream])
    fs = FrameSync(1784, 4)
    found = []
    held = 0
    for i in range(0, stream.size, 4096):
        found += fs.feed(stream[i : i + 4096])
        held = max(held, fs._total - fs._buf_start)
    found += fs.flush()
    assert len(found) == len(truth)
    assert held < 4 * fs.period + 3 * 4096

"""CCSDS pseudo-randomizer h(x) = x^8 + x^7 + x^5 + x^3 + 1, all-ones seed."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.fec.randomizer import PN_PERIOD, derandomize_llr, pn_sequence, randomize_bits


def test_first_bytes_known_answer():
    # CCSDS 131.0-B: the sequence starts 1111 1111 0100 1000 0000 1110 1100 0000 ...
    first = np.packbits(pn_sequence(8 * 16)).tobytes()
    assert first.hex().upper() == "FF480EC09A0D70BC8E2C93ADA7B746CE"


def test_period_and_recurrence():
    seq = pn_sequence(3 * PN_PERIOD)
    assert PN_PERIOD == 255
    assert np.array_equal(seq[:255], seq[255:510])
    assert not np.array_equal(seq[:100], seq[1:101])
    # every bit obeys the recurrence of h(x): x[n+8] = x[n+7] ^ x[n+5] ^ x[n+3] ^ x[n]
    n = np.arange(len(seq) - 8)
    assert np.array_equal(seq[n + 8], seq[n + 7] ^ seq[n + 5] ^ seq[n + 3] ^ seq[n])
    assert seq[:8].tolist() == [1] * 8
    assert seq[:255].sum() == 128  # an m-sequence has 2^(8-1) ones per period


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 40000), st.integers(0, 2**32 - 1))
def test_bits_and_llr_agree(n, seed):
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, n).astype(np.uint8)
    rnd = randomize_bits(bits)
    assert np.array_equal(randomize_bits(rnd), bits)
    assert np.array_equal(rnd ^ bits, pn_sequence(n))
    llr = (1.0 - 2.0 * rnd).astype(np.float32) * rng.uniform(0.5, 3.0, n).astype(np.float32)
    der = derandomize_llr(llr)
    assert der.dtype == np.float32
    assert np.array_equal(der < 0, bits.astype(bool))
    assert np.array_equal(np.abs(der), np.abs(llr))


def test_llr_rows():
    llr = np.ones((3, 300), dtype=np.float32)
    out = derandomize_llr(llr)
    assert np.array_equal(out[1] < 0, pn_sequence(300).astype(bool))
    assert np.array_equal(out[0], out[2])

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

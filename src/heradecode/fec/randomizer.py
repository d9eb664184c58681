"""CCSDS pseudo-randomizer (CCSDS 131.0-B section 10 / 9): h(x) = x^8 + x^7 + x^5 + x^3 + 1.

The generator is an 8-stage LFSR set to all ones at the start of each codeblock (for turbo
codes: of each codeword, after encoding; the ASM is not randomized).  Its output has period
255 and starts FF 48 0E C0 9A 0D 70 BC ... .  Randomizing is XOR with the sequence; on soft
values (LLR, positive = bit 0) it is a sign flip wherever the sequence bit is 1.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

PN_PERIOD = 255


@lru_cache(maxsize=1)
def _period() -> np.ndarray:
    # Fibonacci LFSR: x[n+8] = x[n+7] ^ x[n+5] ^ x[n+3] ^ x[n]  (taps of h(x)), seed all ones.
    seq = np.ones(PN_PERIOD + 8, dtype=np.uint8)
    for n in range(PN_PERIOD):
        seq[n + 8] = seq[n + 7] ^ seq[n + 5] ^ seq[n + 3] ^ seq[n]
    out = seq[:PN_PERIOD].copy()
    out.setflags(write=False)
    return out


def pn_sequence(n_bits: int) -> np.ndarray:
    """First n_bits of the CCSDS pseudo-random sequence (uint8 0/1, all-ones seed)."""
    n_bits = int(n_bits)
    if n_bits < 0:
        raise ValueError(f"n_bits must be >= 0, got {n_bits}")
    reps = -(-n_bits // PN_PERIOD)
    return np.tile(_period(), reps)[:n_bits].copy()


@lru_cache(maxsize=16)
def _sign_vector(n: int) -> np.ndarray:
    sign = (1.0 - 2.0 * pn_sequence(n)).astype(np.float32)
    sign.setflags(write=False)
    return sign


def randomize_bits(bits: np.ndarray) -> np.ndarray:
    """XOR bits (uint8 0/1, 1-D: one codeblock starting at its first bit) with the PN sequence.

    The same call derandomizes.
    """
    bits = np.asarray(bits)
    if bits.ndim != 1:
        raise ValueError(f"randomize_bits expects a 1-D bit array, got shape {bits.shape}")
    return (bits.astype(np.uint8) ^ pn_sequence(bits.size)).astype(np.uint8)


derandomize_bits = randomize_bits


def derandomize_llr(llr: np.ndarray) -> np.ndarray:
    """Derandomize soft values of one codeblock (1-D) or of many (2-D, one per row): flip signs where PN = 1.

    Sign flips commute with XOR, so this also randomizes soft values.  Output dtype float32.
    """
    llr = np.asarray(llr, dtype=np.float32)
    if llr.ndim not in (1, 2):
        raise ValueError(f"derandomize_llr expects 1-D or 2-D soft values, got shape {llr.shape}")
    return llr * _sign_vector(llr.shape[-1])


randomize_llr = derandomize_llr

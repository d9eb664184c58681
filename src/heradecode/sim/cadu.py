"""Frames → channel-coded symbols, as CCSDS 131.0-B prescribes for Hera's turbo-coded link.

For each 1113-octet TM frame: append the CRC-16 FECF (1115 octets = k 8920
bits) → turbo encode at rate 1/4 (35696 symbols) → XOR the codeblock with the
CCSDS pseudo-random sequence (the ASM is not randomized) → prepend the 128-bit
ASM for rate-1/4 turbo codes.  The result, 35824 symbols, is one CADU;
CADUs are sent back to back.
"""

from __future__ import annotations

import numpy as np

from heradecode.fec.asm import asm_bits
from heradecode.fec.crc import append_fecf
from heradecode.fec.randomizer import randomize_bits
from heradecode.fec.turbo import encode

TURBO_K = 8920
TURBO_INV_RATE = 4
CODEBLOCK_SYMBOLS = (TURBO_K + 4) * TURBO_INV_RATE  # 35696
ASM_SYMBOLS = 32 * TURBO_INV_RATE  # 128
CADU_SYMBOLS = ASM_SYMBOLS + CODEBLOCK_SYMBOLS  # 35824
INFO_BITS_PER_SYMBOL = TURBO_K / CODEBLOCK_SYMBOLS  # ASM excluded


def info_bits(frame: bytes | np.ndarray) -> np.ndarray:
    """The 8920 turbo input bits of a frame: frame octets then FECF, MSB first."""
    return np.unpackbits(np.frombuffer(append_fecf(bytes(np.asarray(frame, dtype=np.uint8))), dtype=np.uint8))


def codeblock_bits(frame: bytes | np.ndarray) -> np.ndarray:
    """Randomized turbo codeblock (35696 uint8 bits) of one frame."""
    bits = info_bits(frame)
    if bits.size != TURBO_K:
        raise ValueError(f"a frame with FECF must be {TURBO_K // 8} octets, got {bits.size // 8}")
    return randomize_bits(encode(bits, TURBO_INV_RATE))


def cadu_bits(frame: bytes | np.ndarray) -> np.ndarray:
    """ASM followed by the randomized turbo codeblock: 35824 uint8 bits sent for one frame."""
    return np.concatenate([asm_bits(TURBO_INV_RATE).astype(np.uint8), codeblock_bits(frame)])

"""Frames → channel-coded symbols, as CCSDS 131.0-B prescribes for Hera's turbo-coded link.

For each 1113-octet TM frame: append the CRC-16 FECF (1115 octets = k 8920
bits) → turbo encode at rate 1/4 (35696 symbols) → XOR the codeblock with the
CCSDS pseudo-random sequence (the ASM is not randomized) → prepend the 128-bit
ASM for rate-1/4 turbo codes.  The result, 35824 symbols, is one CADU;
CADUs are sent back to back.
"""

from __future__ import annotations

import numpy as np

from heradecode.fec.crc import append_fecf
from heradecode.fec.randomizer import randomize_bits
from heradecode.fec.turbocode import TurboCode
from heradecode.missions import load_mission

CODE = TurboCode.from_mission(load_mission("hera"))
"""The turbo code the simulator sends: Hera's (k 8920, rate 1/4), from its mission profile."""
TURBO_K = CODE.k
TURBO_INV_RATE = CODE.inv_rate
CODEBLOCK_SYMBOLS = CODE.codeblock_length  # 35696
ASM_SYMBOLS = CODE.asm_length  # 128
CADU_SYMBOLS = CODE.cadu_length  # 35824
INFO_BITS_PER_SYMBOL = CODE.info_bits_per_symbol  # ASM excluded


def info_bits(frame: bytes | np.ndarray) -> np.ndarray:
    """The turbo input bits of a frame: frame octets then FECF, MSB first."""
    return np.unpackbits(np.frombuffer(append_fecf(bytes(np.asarray(frame, dtype=np.uint8))), dtype=np.uint8))


def codeblock_bits(frame: bytes | np.ndarray, code: TurboCode = CODE) -> np.ndarray:
    """Randomized turbo codeblock (uint8 bits, 35696 for Hera's code) of one frame."""
    bits = info_bits(frame)
    if bits.size != code.k:
        raise ValueError(f"a frame with FECF must be {code.frame_length} octets, got {bits.size // 8}")
    return randomize_bits(code.encode(bits))


def cadu_bits(frame: bytes | np.ndarray, code: TurboCode = CODE) -> np.ndarray:
    """ASM followed by the randomized turbo codeblock: the uint8 bits sent for one frame (35824 for Hera)."""
    return np.concatenate([code.asm_bits.astype(np.uint8), codeblock_bits(frame, code)])

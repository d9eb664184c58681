"""One CCSDS turbo code as a value: information block length k and nominal rate 1/inv_rate (131.0-B-4 6).

Everything else follows from (k, inv_rate)::

    codeblock          (k + 4) * inv_rate code symbols (4 termination steps per constituent encoder)
    attached marker    32 * inv_rate symbols: the rate's ASM (131.0-B 9.3.4, :data:`heradecode.fec.asm.ASM_HEX`)
    CADU               ASM + codeblock symbols, one transfer frame each
    transfer frame     k / 8 octets with its 2-octet CRC-16 FECF, k / 8 - 2 without
    information rate   k / ((k + 4) * inv_rate) bits per code symbol (the ASM carries none)

A :class:`TurboCode` is what the frame synchronizer, the decoder, the encoder and the
simulator are built for; :meth:`TurboCode.from_mission` reads it from a mission profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heradecode.errors import UserError
from heradecode.fec.asm import ASM_HEX, asm_bits
from heradecode.fec.interleaver import check_k
from heradecode.fec.turbo import DEFAULT_INV_RATE, DEFAULT_K, check_inv_rate, encode
from heradecode.missions import MissionProfile

FECF_OCTETS = 2


@dataclass(frozen=True)
class TurboCode:
    """A CCSDS turbo code: k information bits (1784, 3568, 7136, 8920) at rate 1/inv_rate (2, 3, 4, 6)."""

    k: int = DEFAULT_K  # the default mission's (Hera's): k 8920, rate 1/4
    inv_rate: int = DEFAULT_INV_RATE

    def __post_init__(self) -> None:
        object.__setattr__(self, "k", check_k(self.k))
        object.__setattr__(self, "inv_rate", check_inv_rate(self.inv_rate))

    @classmethod
    def from_mission(cls, profile: MissionProfile) -> "TurboCode":
        """The mission's turbo code; UserError when it is not turbo coded or its ASM is not the code's."""
        c = profile.coding
        if c.scheme != "turbo" or c.turbo_k is None or c.turbo_inv_rate is None:
            raise UserError(f"{profile.name} is not turbo coded ({c.scheme})")
        code = cls(c.turbo_k, c.turbo_inv_rate)
        if c.asm_hex.upper() != code.asm_hex:
            raise UserError(f"{profile.name}'s ASM {c.asm_hex} is not the rate-1/{code.inv_rate} turbo ASM "
                            f"{code.asm_hex}")
        return code

    @property
    def asm_hex(self) -> str:
        """The attached sync marker, hexadecimal."""
        return ASM_HEX[self.inv_rate]

    @property
    def asm_bits(self) -> np.ndarray:
        """The attached sync marker's bits (uint8 0/1, first transmitted first)."""
        return asm_bits(self.inv_rate)

    @property
    def asm_length(self) -> int:
        """Symbols of the attached sync marker."""
        return 32 * self.inv_rate

    @property
    def codeblock_length(self) -> int:
        """Code symbols of one codeblock: (k + 4) * inv_rate."""
        return (self.k + 4) * self.inv_rate

    @property
    def cadu_length(self) -> int:
        """Symbols of marker plus codeblock: one frame's share of the stream."""
        return self.asm_length + self.codeblock_length

    @property
    def frame_length(self) -> int:
        """Transfer frame octets with the FECF: k / 8."""
        return self.k // 8

    @property
    def frame_length_no_fecf(self) -> int:
        """Transfer frame octets without the FECF."""
        return self.k // 8 - FECF_OCTETS

    @property
    def info_bits_per_symbol(self) -> float:
        """Information bits per code symbol, k / codeblock length (the marker excluded)."""
        return self.k / self.codeblock_length

    def encode(self, info_bits: np.ndarray) -> np.ndarray:
        """The codeblock (uint8 0/1) of k information bits (frame and FECF, MSB first)."""
        bits = np.asarray(info_bits)
        if bits.size != self.k:
            raise UserError(f"this turbo code takes {self.k} information bits, got {bits.size}")
        return encode(bits, self.inv_rate)

    def __str__(self) -> str:
        return f"turbo k={self.k} r=1/{self.inv_rate}"

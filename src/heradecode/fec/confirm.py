"""Marker candidates confirmed by decoding: is this codeblock a real frame?

A marker candidate too weak to be accepted on its correlation alone (see
:class:`heradecode.fec.asm.FrameSync`) is decided by decoding the codeblock behind it.
:class:`DecodeConfirm` derandomizes the (sign-corrected) soft codeblock, turbo-decodes it
and keeps it only when all of these hold:

1. the decoder stopped early on its CRC criterion: the CRC-16 FECF checked after two
   consecutive half-iterations with identical decisions, within the iteration budget
   (``TurboResult.converged`` and ``crc_ok``, with ``stop_on_crc`` and without
   ``stop_on_stable``; a decoder configured otherwise is refused);
2. the frame's header passes ``frame_check`` (for Hera: :class:`HeaderSpec`, TM version 0
   and the mission's spacecraft ID; the check is passed in by the caller, so that this
   layer does not depend on the frame layer).

Undetected errors.  A turbo decoder fed pure noise wanders; each CRC check passes with
probability 2^-16, the early stop needs two consecutive passes with the same decisions,
so a noise candidate passes (1) with probability p_crc of at most 20 x 2^-16 = 3e-4 per
attempt at 10 iterations (benchmarks/sync.py: none in 20000 noise codeblocks, p_crc < 1.5e-4
at 95 %); a random frame then passes (2) with probability 2^-12 (2 version bits, 10 SCID
bits).  With A attempts per second of noise the false frames per hour are
``3600 * A * p_crc * 2^-12``: the synchronizer screens and budgets its candidates down to
A = 0.13 per second at 322.56 kbaud (0.03 at 60.24 kbaud), which gives at most 3.4e-5
false frames per hour with the bound 3e-4 (one per 3 years of uninterrupted pure noise at the
high rate; the measured p_crc halves that).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from heradecode.errors import UserError
from heradecode.fec.randomizer import derandomize_llr
from heradecode.fec.turbo import TurboDecoder, TurboResult

HEADER_BITS = 12
"""Header bits HeaderSpec checks (2 version bits and 10 spacecraft-ID bits)."""


@dataclass(frozen=True)
class HeaderSpec:
    """Expected transfer frame identity: version and spacecraft ID in the frame's first 12 (TM) or 10 (AOS) bits."""

    scid: int
    """Spacecraft ID the frames must carry (TM: 0..1023, AOS: 0..255)."""
    version: int = 0
    """Transfer frame version number (0: TM, 1: AOS with its 8-bit spacecraft ID)."""

    def __post_init__(self) -> None:
        limit = 256 if self.version == 1 else 1024
        if not (0 <= int(self.scid) < limit and 0 <= int(self.version) < 4):
            raise UserError(f"spacecraft ID must be in 0..{limit - 1} and version in 0..3, "
                            f"got {self.scid}, {self.version}")

    def __call__(self, frame: bytes) -> bool:
        """True when the frame (its first 2 octets at least) carries this version and spacecraft ID."""
        if len(frame) < 2:
            return False
        version = frame[0] >> 6
        if self.version == 1:
            scid = ((frame[0] & 0x3F) << 2) | (frame[1] >> 6)
        else:
            scid = ((frame[0] & 0x3F) << 4) | (frame[1] >> 4)
        return version == self.version and scid == self.scid


class DecodeConfirm:
    """Decode a candidate's soft codeblock; return the TurboResult when it is a valid frame, else None.

    ``to_llr`` maps the sign-corrected soft codeblock to LLRs (None: they are LLRs already);
    ``frame_check`` is called with the decoded frame without its FECF.
    """

    def __init__(self, decoder: TurboDecoder, *, frame_check: Callable[[bytes], bool] | None,
                 to_llr: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        if not decoder.stop_on_crc or decoder.stop_on_stable:
            raise UserError("confirming markers by decoding needs a decoder that stops on its CRC criterion only")
        self.decoder = decoder
        self.frame_check = frame_check
        self.to_llr = to_llr
        self.n_attempts = 0
        """Codeblocks decoded."""
        self.n_crc = 0
        """Of them, those whose CRC passed the decoder's double check."""
        self.n_confirmed = 0
        """Of them, those whose header also checked."""

    def __call__(self, soft: np.ndarray) -> TurboResult | None:
        """The decoder's result when ``soft`` decodes to a valid frame, else None."""
        llr = np.asarray(self.to_llr(soft) if self.to_llr is not None else soft, dtype=np.float32)
        llr = derandomize_llr(llr)
        bad = ~np.isfinite(llr)
        if bad.any():
            llr[bad] = 0.0
        self.n_attempts += 1
        r = self.decoder.decode(llr)
        if not (r.crc_ok and r.converged):
            return None
        self.n_crc += 1
        if self.frame_check is not None and not self.frame_check(r.frame(strip_fecf=True)):
            return None
        self.n_confirmed += 1
        return r

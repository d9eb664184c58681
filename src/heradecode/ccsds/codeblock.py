"""From a soft turbo codeblock to a checked transfer frame: the one codeblock decoder.

For each codeblock the synchronizer found (sign-corrected soft values, LLR convention
L = ln P(0)/P(1), still randomized)::

    LLRs (``to_llr``, when the soft values are not LLRs yet)
    -> derandomize (CCSDS pseudo-random sequence)  -> non-finite values erased (0)
    -> turbo decode (:class:`~heradecode.fec.turbo.TurboDecoder` of the :class:`~heradecode.fec.turbocode.TurboCode`)
    -> CRC-16 FECF (the decoder's double check)
    -> Es/N0 of the codeblock (:func:`esn0_from_soft`: blind, or data-aided when asked and the CRC passed)
    -> frame identity read by the mission's frame parser (TM or AOS): version, SCID, VCID, VC count;
       a CRC-valid frame of another version or spacecraft is *suspect*

Eb/N0 = Es/N0 - 10 log10(k / codeblock length).  The receiver, ``heradecode turbo-decode``
and the GNU Radio blocks all decode through :class:`CodeblockDecoder`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from heradecode.ccsds.aosframe import parse_transfer_frame
from heradecode.ccsds.mission import HERA
from heradecode.ccsds.tmframe import FrameError
from heradecode.fec.confirm import DecodeConfirm, HeaderSpec
from heradecode.fec.randomizer import derandomize_llr
from heradecode.fec.turbo import Algorithm, DEFAULT_ALGORITHM, TurboDecoder, TurboResult
from heradecode.fec.turbocode import TurboCode
from heradecode.missions import FrameLayout, MissionProfile


def esn0_from_soft(soft: np.ndarray, decoded=None, loss_db: float = 0.0) -> float:
    """Es/N0 (dB) of a soft codeblock (sign-corrected LLRs as sent, i.e. before derandomization).

    With ``decoded`` (a :class:`~heradecode.fec.turbo.TurboResult` whose CRC checks) the codeblock
    is encoded again and the estimate is data-aided; otherwise it is
    :func:`heradecode.dsp.snr.esn0_from_llr` (the demodulator's calibrated LLRs, or a blind fit
    of soft values of an unknown scale).  ``loss_db``, the receiver's known band-limiting loss
    (:func:`heradecode.dsp.decimate.manchester_loss_db` of the band it keeps), is added: the
    result is then the signal's Es/N0, not the matched filter's.
    """
    from heradecode.dsp.snr import esn0_data_aided, esn0_from_llr

    y = np.asarray(soft, dtype=np.float32).reshape(-1)
    if decoded is not None and getattr(decoded, "crc_ok", False):
        from heradecode.fec.randomizer import randomize_bits
        from heradecode.fec.turbo import encode

        k = int(np.asarray(decoded.bits).size)
        if k and y.size % (k + 4) == 0:
            sent = randomize_bits(encode(np.asarray(decoded.bits, dtype=np.uint8), y.size // (k + 4)))
            return esn0_data_aided(y, sent).esn0_db + loss_db
    return esn0_from_llr(y).esn0_db + loss_db


@dataclass(frozen=True, slots=True)
class FrameIdentity:
    """Who a decoded frame says it is: version, spacecraft, virtual channel, VC count; suspect if not the mission's."""

    version: int
    scid: int
    vcid: int
    vc_count: int
    suspect: bool


def frame_identity(frame: bytes, layout: FrameLayout, scid: int | None) -> FrameIdentity:
    """Identity read by the mission's frame parser; suspect when its version or SCID is not the mission's."""
    try:
        f = parse_transfer_frame(frame, layout, has_fecf=False)
    except FrameError:
        return FrameIdentity(frame[0] >> 6 if frame else -1, -1, -1, -1, True)
    suspect = f.version != layout.version or (scid is not None and f.scid != scid)
    return FrameIdentity(f.version, f.scid, f.vcid, f.vc_count, suspect)


@dataclass(frozen=True)
class DecodedFrame:
    """One decoded codeblock: the decoder's result, Es/N0 and, when the CRC passed, the frame and its identity."""

    result: TurboResult
    esn0_db: float
    ebn0_db: float
    frame: bytes | None = None  # without FECF, when the CRC passed
    identity: FrameIdentity | None = None

    @property
    def crc_ok(self) -> bool:
        """True when the CRC-16 FECF checked."""
        return bool(self.result.crc_ok)

    @property
    def iterations(self) -> int:
        """Turbo iterations used."""
        return int(self.result.iterations)

    @property
    def suspect(self) -> bool:
        """CRC passed but the frame's version or spacecraft ID is not the mission's."""
        return self.identity is not None and self.identity.suspect


class CodeblockDecoder:
    """Decodes sign-corrected soft codeblocks of one turbo code into checked frames of one mission.

    ``derandomize``: False when the soft values come derandomized already (GNU Radio
    ``asm_sync`` does it); ``to_llr``: scales soft values of unknown amplitude to LLRs;
    ``esn0``: estimate Es/N0 per codeblock (``esn0_loss_db`` added, see :func:`esn0_from_soft`),
    from the decoded bits when ``esn0_data_aided`` and the CRC passed.
    """

    def __init__(self, code: TurboCode | None = None, mission: MissionProfile = HERA, *,
                 max_iterations: int = 10, algorithm: Algorithm = DEFAULT_ALGORITHM, derandomize: bool = True,
                 to_llr: Callable[[np.ndarray], np.ndarray] | None = None, esn0: bool = True,
                 esn0_loss_db: float = 0.0, esn0_data_aided: bool = False,
                 decoder: TurboDecoder | None = None) -> None:
        self.code = code if code is not None else TurboCode.from_mission(mission)
        self.mission = mission
        self.decoder = decoder if decoder is not None else TurboDecoder(
            code=self.code, algorithm=algorithm, max_iterations=max_iterations)
        self.derandomize = bool(derandomize)
        self.to_llr = to_llr
        self.esn0 = bool(esn0)
        self.esn0_loss_db = float(esn0_loss_db)
        self.esn0_data_aided = bool(esn0_data_aided)
        self.rate_db = 10.0 * math.log10(self.code.info_bits_per_symbol)

    def llr(self, soft: np.ndarray) -> np.ndarray:
        """The decoder's input: LLRs (``to_llr``), derandomized, non-finite values erased (1-D or one row each)."""
        x = np.asarray(soft, dtype=np.float32)
        if self.to_llr is not None:
            x = np.stack([self.to_llr(r) for r in x]) if x.ndim == 2 else self.to_llr(x)
        x = derandomize_llr(np.asarray(x, dtype=np.float32)) if self.derandomize else np.array(x, dtype=np.float32)
        bad = ~np.isfinite(x)
        if bad.any():
            x[bad] = 0.0
        return x

    def frame_check(self) -> Callable[[bytes], bool] | None:
        """Accepts a decoded frame (no FECF) with the mission's version and SCID; None when the SCID is unknown."""
        if self.mission.scid is None:
            return None
        return HeaderSpec(scid=self.mission.scid, version=self.mission.frames.version)

    def confirm(self) -> DecodeConfirm:
        """The decoder deciding weak markers for :class:`~heradecode.fec.asm.FrameSync` (CRC and frame identity)."""
        return DecodeConfirm(self.decoder, frame_check=self.frame_check(), to_llr=self.to_llr)

    def identify(self, frame: bytes) -> FrameIdentity:
        """The identity of a CRC-valid frame (no FECF), read by the mission's frame parser."""
        return frame_identity(frame, self.mission.frames, self.mission.scid)

    def finish(self, soft: np.ndarray, result: TurboResult) -> DecodedFrame:
        """Es/N0, frame and identity of a codeblock decoded already (e.g. confirmed by the synchronizer)."""
        esn0 = math.nan
        if self.esn0:
            aided = self.esn0_data_aided and self.derandomize and self.to_llr is None
            esn0 = esn0_from_soft(soft, decoded=result if aided else None, loss_db=self.esn0_loss_db)
        if not result.crc_ok:
            return DecodedFrame(result, esn0, esn0 - self.rate_db)
        frame = result.frame(strip_fecf=True)
        return DecodedFrame(result, esn0, esn0 - self.rate_db, frame, self.identify(frame))

    def decode(self, soft: np.ndarray) -> DecodedFrame:
        """Decode one sign-corrected soft codeblock."""
        return self.finish(soft, self.decoder.decode(self.llr(soft)))

    def decode_batch(self, softs: Sequence[np.ndarray], results: Sequence[TurboResult | None] | None = None,
                     workers: int | None = 1) -> list[DecodedFrame]:
        """Decode many codeblocks in parallel; ``results`` gives those decoded already (None: decode it)."""
        done = list(results) if results is not None else [None] * len(softs)
        todo = [i for i, r in enumerate(done) if r is None]
        if todo:
            fresh = self.decoder.decode_batch(self.llr(np.stack([softs[i] for i in todo])), workers=workers)
            for i, r in zip(todo, fresh):
                done[i] = r
        return [self.finish(s, r) for s, r in zip(softs, done)]

"""TM transfer frames (CCSDS 132.0-B-3): primary header, data field, OCF/CLCW, FECF.

Layout of a frame with the 6-octet primary header::

    version(2) SCID(10) VCID(3) OCF-flag(1) | MC count(8) | VC count(8) |
    secondary-header flag(1) sync(1) packet-order(1) segment-length-id(2) first-header-pointer(11)
    [secondary header] data field [OCF 4 octets] [FECF 2 octets]
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from heradecode.errors import UserError
from heradecode.fec.crc import crc16

PRIMARY_HEADER_LEN = 6
OCF_LEN = 4
FECF_LEN = 2
FHP_NO_PACKET_START = 0x7FF
FHP_IDLE_ONLY = 0x7FE
FRAME_LENGTH_WITH_FECF = 1115  # Hera's frames: 1113 octets + FECF; other lengths need has_fecf


class FrameError(ValueError):
    """A byte string that cannot be a TM transfer frame."""


@dataclass(frozen=True, slots=True)
class Clcw:
    """Communications link control word (CCSDS 232.0-B) carried in the OCF."""

    control_word_type: int
    version: int
    status: int
    cop_in_effect: int
    vcid: int
    no_rf_available: bool
    no_bit_lock: bool
    lockout: bool
    wait: bool
    retransmit: bool
    farm_b_counter: int
    report_value: int

    @classmethod
    def from_bytes(cls, ocf: bytes) -> "Clcw":
        """Decode the four OCF octets as a CLCW."""
        w = int.from_bytes(ocf[:4], "big")
        return cls(
            control_word_type=(w >> 31) & 1,
            version=(w >> 29) & 3,
            status=(w >> 26) & 7,
            cop_in_effect=(w >> 24) & 3,
            vcid=(w >> 18) & 0x3F,
            no_rf_available=bool((w >> 15) & 1),
            no_bit_lock=bool((w >> 14) & 1),
            lockout=bool((w >> 13) & 1),
            wait=bool((w >> 12) & 1),
            retransmit=bool((w >> 11) & 1),
            farm_b_counter=(w >> 9) & 3,
            report_value=w & 0xFF,
        )


class FrameViews:
    """What a TM and an AOS frame both tell from their fields: the CLCW and the first header pointer's meaning."""

    __slots__ = ()
    ocf: bytes | None
    first_header_pointer: int

    @property
    def clcw(self) -> Clcw | None:
        """The CLCW in the OCF, when the OCF is present and holds a type-0 report."""
        if self.ocf is None or self.ocf[0] & 0x80:
            return None
        return Clcw.from_bytes(self.ocf)

    @property
    def idle_only(self) -> bool:
        """True when the first header pointer says the data field holds only idle data."""
        return self.first_header_pointer == FHP_IDLE_ONLY

    @property
    def no_packet_start(self) -> bool:
        """True when no packet starts in this frame (continuation only)."""
        return self.first_header_pointer == FHP_NO_PACKET_START


@dataclass(frozen=True, slots=True)
class TMFrame(FrameViews):
    """One parsed TM transfer frame; ``index`` is its position in the input stream."""

    index: int
    version: int
    scid: int
    vcid: int
    ocf_flag: bool
    mc_count: int
    vc_count: int
    secondary_header_flag: bool
    sync_flag: bool
    packet_order_flag: bool
    segment_length_id: int
    first_header_pointer: int
    secondary_header: bytes
    data: bytes
    ocf: bytes | None
    fecf: int | None
    crc_ok: bool | None
    raw: bytes

    @property
    def vc_count_modulo(self) -> int:
        """The 8-bit VC frame count wraps at 256."""
        return 256


def parse_frame(raw: bytes, *, has_fecf: bool, index: int = 0) -> TMFrame:
    """Parse one frame; raise FrameError when it is too short for its own header fields."""
    raw = bytes(raw)
    trailer = FECF_LEN if has_fecf else 0
    if len(raw) < PRIMARY_HEADER_LEN + trailer + 1:
        raise FrameError(f"frame of {len(raw)} octets is shorter than its headers")
    h = raw[:PRIMARY_HEADER_LEN]
    version = h[0] >> 6
    scid = ((h[0] & 0x3F) << 4) | (h[1] >> 4)
    vcid = (h[1] >> 1) & 0x7
    ocf_flag = bool(h[1] & 1)
    dfs = (h[4] << 8) | h[5]
    sec_flag = bool(dfs >> 15)
    end = len(raw) - trailer
    fecf = crc_ok = None
    if has_fecf:
        fecf = int.from_bytes(raw[end:], "big")
        crc_ok = crc16(raw[:end]) == fecf
    ocf = None
    if ocf_flag:
        if end - OCF_LEN < PRIMARY_HEADER_LEN:
            raise FrameError("frame too short for its operational control field")
        ocf = raw[end - OCF_LEN : end]
        end -= OCF_LEN
    start = PRIMARY_HEADER_LEN
    sec = b""
    if sec_flag:
        sec_len = (raw[start] & 0x3F) + 1
        if start + sec_len > end:
            raise FrameError("frame secondary header runs past the data field")
        sec = raw[start : start + sec_len]
        start += sec_len
    return TMFrame(
        index=index,
        version=version,
        scid=scid,
        vcid=vcid,
        ocf_flag=ocf_flag,
        mc_count=h[2],
        vc_count=h[3],
        secondary_header_flag=sec_flag,
        sync_flag=bool((dfs >> 14) & 1),
        packet_order_flag=bool((dfs >> 13) & 1),
        segment_length_id=(dfs >> 11) & 3,
        first_header_pointer=dfs & 0x7FF,
        secondary_header=sec,
        data=raw[start:end],
        ocf=ocf,
        fecf=fecf,
        crc_ok=crc_ok,
        raw=raw,
    )


class FrameFile:
    """A file of concatenated fixed-length frames, read in blocks (bounded memory).

    ``has_fecf`` defaults to True for 1115-octet frames (Hera's length with FECF).

    Iterating yields :class:`TMFrame` (or what ``parse(raw, index)`` makes of
    each frame's octets, e.g. a mission's AOS frames); after iteration
    ``trailing_bytes`` tells how many octets at the end did not make a whole frame.
    """

    def __init__(self, path: str | Path, frame_length: int = 1113, *, has_fecf: bool | None = None,
                 first_index: int = 0, block_frames: int = 4096,
                 parse: Callable[[bytes, int], object] | None = None) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise UserError(f"no such frame file: {self.path}")
        if not self.path.is_file():
            raise UserError(f"not a file: {self.path}")
        if frame_length < PRIMARY_HEADER_LEN + 1:
            raise UserError(f"frame length {frame_length} is too short for a TM frame")
        self.frame_length = frame_length
        self.has_fecf = frame_length == FRAME_LENGTH_WITH_FECF if has_fecf is None else has_fecf
        self.first_index = first_index
        self.block_frames = block_frames
        self.parse = parse
        size = self.path.stat().st_size
        self.num_frames, self.trailing_bytes = divmod(size, frame_length)

    def __len__(self) -> int:
        return self.num_frames

    def __iter__(self) -> Iterator[TMFrame]:
        n = self.frame_length
        index = self.first_index
        with open(self.path, "rb") as fh:
            for _ in range(0, self.num_frames, self.block_frames):
                block = fh.read(n * self.block_frames)
                for off in range(0, len(block) - n + 1, n):
                    raw = block[off : off + n]
                    if self.parse is not None:
                        yield self.parse(raw, index)  # type: ignore[misc]
                    else:
                        yield parse_frame(raw, has_fecf=self.has_fecf, index=index)
                    index += 1


def read_frames(path: str | Path, frame_length: int = 1113, *, has_fecf: bool | None = None) -> list[TMFrame]:
    """Read every whole frame of a frame file; warn about trailing octets that make no frame."""
    ff = FrameFile(path, frame_length, has_fecf=has_fecf)
    frames = list(ff)
    if ff.trailing_bytes:
        warnings.warn(f"{ff.path}: {ff.trailing_bytes} trailing octets do not make a whole "
                      f"{frame_length}-octet frame and were not read", stacklevel=2)
    return frames

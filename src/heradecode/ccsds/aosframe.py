"""AOS transfer frames (CCSDS 732.0-B-4) carrying a multiplexing PDU (M_PDU) of space packets.

Layout::

    version(2)=01 SCID(8) VCID(6) | VC frame count(24) |
    replay(1) VC-count-usage(1) spare(2) VC-count-cycle(4) |
    [frame header error control, 2 octets] [insert zone, mission-fixed length] |
    M_PDU header: spare(5) first-header-pointer(11) | packet zone |
    [OCF 4 octets] [FECF 2 octets]

Which optional fields are present is not in the frame: it is a managed
parameter of the mission (the profile's ``frames`` table).  With the
VC-count-usage flag set, the 4-bit cycle extends the VC frame count to 28 bits.
The first header pointer has the TM frame's meaning: 0x7FF no packet starts in
this frame, 0x7FE the packet zone holds idle data only.

An :class:`AOSFrame` offers the attributes the virtual-channel demultiplexer
and packet assembler read from a TM frame (``vcid``, ``vc_count``,
``first_header_pointer``, ``data``, ``index``, ``raw``); it has no master
channel frame count (``mc_count`` is None).
"""

from __future__ import annotations

from dataclasses import dataclass

from heradecode.ccsds.tmframe import FECF_LEN, OCF_LEN, FrameError, FrameViews, TMFrame, parse_frame
from heradecode.fec.crc import crc16
from heradecode.missions import FrameLayout

AOS_VERSION = 1
AOS_PRIMARY_HEADER_LEN = 6
FHEC_LEN = 2
M_PDU_HEADER_LEN = 2
VC_COUNT_BITS = 24


@dataclass(frozen=True, slots=True)
class AOSFrame(FrameViews):
    """One parsed AOS transfer frame; ``data`` is the M_PDU packet zone; ``index`` its stream position."""

    index: int
    version: int
    scid: int
    vcid: int
    vc_count: int  # 24 bits, or 28 with the cycle when the usage flag is set
    replay_flag: bool
    vc_count_usage_flag: bool
    vc_count_cycle: int
    fhec: bytes | None
    insert_zone: bytes
    first_header_pointer: int
    data: bytes
    ocf: bytes | None
    fecf: int | None
    crc_ok: bool | None
    raw: bytes

    @property
    def mc_count(self) -> None:
        """AOS frames carry no master channel frame count."""
        return None

    @property
    def vc_count_modulo(self) -> int:
        """The VC frame count wraps at this value."""
        return 1 << (VC_COUNT_BITS + 4 if self.vc_count_usage_flag else VC_COUNT_BITS)

    @property
    def ocf_flag(self) -> bool:
        """True when the frame has an OCF."""
        return self.ocf is not None


def parse_aos_frame(raw: bytes, *, has_fecf: bool, has_ocf: bool = False, insert_zone_octets: int = 0,
                    has_fhec: bool = False, index: int = 0) -> AOSFrame:
    """Parse one AOS frame with an M_PDU; raise FrameError when it is too short for its fields."""
    raw = bytes(raw)
    head = AOS_PRIMARY_HEADER_LEN + (FHEC_LEN if has_fhec else 0) + insert_zone_octets
    end = len(raw) - (FECF_LEN if has_fecf else 0)
    fecf = crc_ok = None
    if has_fecf and end >= 0:
        fecf = int.from_bytes(raw[end:], "big")
    ocf = None
    if has_ocf:
        end -= OCF_LEN
    if end < head + M_PDU_HEADER_LEN + 1:
        raise FrameError(f"AOS frame of {len(raw)} octets is shorter than its headers and trailer")
    if has_fecf:
        crc_ok = crc16(raw[: len(raw) - FECF_LEN]) == fecf
    if has_ocf:
        ocf = raw[end : end + OCF_LEN]
    version = raw[0] >> 6
    scid = ((raw[0] & 0x3F) << 2) | (raw[1] >> 6)
    vcid = raw[1] & 0x3F
    count = int.from_bytes(raw[2:5], "big")
    signalling = raw[5]
    usage = bool(signalling & 0x40)
    cycle = signalling & 0x0F
    if usage:
        count |= cycle << VC_COUNT_BITS
    pos = AOS_PRIMARY_HEADER_LEN
    fhec = None
    if has_fhec:
        fhec = raw[pos : pos + FHEC_LEN]
        pos += FHEC_LEN
    insert_zone = raw[pos : pos + insert_zone_octets]
    pos += insert_zone_octets
    fhp = ((raw[pos] << 8) | raw[pos + 1]) & 0x7FF
    pos += M_PDU_HEADER_LEN
    return AOSFrame(
        index=index, version=version, scid=scid, vcid=vcid, vc_count=count,
        replay_flag=bool(signalling & 0x80), vc_count_usage_flag=usage, vc_count_cycle=cycle,
        fhec=fhec, insert_zone=insert_zone, first_header_pointer=fhp, data=raw[pos:end],
        ocf=ocf, fecf=fecf, crc_ok=crc_ok, raw=raw,
    )


TransferFrame = TMFrame | AOSFrame


def parse_transfer_frame(raw: bytes, layout: FrameLayout, *, has_fecf: bool, index: int = 0) -> TransferFrame:
    """Parse a TM or AOS frame as the mission's frame layout says; FrameError when it cannot be one."""
    if layout.type == "AOS":
        return parse_aos_frame(raw, has_fecf=has_fecf, has_ocf=layout.ocf,
                               insert_zone_octets=layout.insert_zone_octets, has_fhec=layout.fhec, index=index)
    return parse_frame(raw, has_fecf=has_fecf, index=index)

"""ECSS PUS telemetry headers, PUS-C (ECSS-E-ST-70-41C 7.4.3.1) and PUS-A (ECSS-E-70-41A 5.3.1), and CCSDS time packets.

Hera's TM secondary header, as its packets show (13 octets)::

    PUS version (4) + spacecraft time reference status (4) | service type | subtype |
    message type counter (2) | destination ID (2) | CUC time: 4 coarse + 2 fine octets, no P-field

followed by the application data and a 2-octet packet error control field
(CRC-16, poly 0x1021, init 0xFFFF, over the whole packet before it).

PUS-A (version 1, e.g. Euclid) differs in the first octet: a spare bit, the
version in 3 bits and 4 spare bits (no time reference status, reported as 0);
the counters, destination ID and time that follow are laid out by the mission
(its :class:`~heradecode.missions.PusTmLayout`, as for PUS-C).

Time packets (APID 0, no secondary header) carry a rate-exponent octet, a CUC
P-field (CCSDS 301.0-B-4 3.2.2) and the CUC T-field it describes.
"""

from __future__ import annotations

from dataclasses import dataclass

from heradecode.ccsds.mission import HERA, PusTmLayout
from heradecode.ccsds.spacepacket import PRIMARY_HEADER_LEN, SpacePacket, build_packet
from heradecode.fec.crc import crc16

PUS_A_VERSION = 1
PUS_C_VERSION = 2
PEC_LEN = 2


@dataclass(frozen=True, slots=True)
class PusTmHeader:
    """The fields of a PUS TM secondary header; ``obt_s`` is the on-board time in seconds."""

    pus_version: int
    time_reference_status: int
    service: int
    subtype: int
    message_counter: int
    destination_id: int
    obt_coarse: int
    obt_fine: int
    obt_s: float
    header_length: int  # octets of secondary header, P-field included


@dataclass(frozen=True, slots=True)
class TimePacket:
    """A CCSDS time packet: rate exponent and the on-board time (CUC) it reports."""

    rate_exponent: int
    pfield: int
    obt_coarse: int
    obt_fine: int
    obt_s: float


def _cuc_seconds(coarse: int, fine: int, fine_octets: int) -> float:
    return coarse + (fine / float(1 << (8 * fine_octets)) if fine_octets else 0.0)


def _uint(buf: bytes, start: int, n: int) -> int:
    return int.from_bytes(buf[start : start + n], "big")


def _cuc_layout_from_pfield(pfield: int) -> tuple[int, int] | None:
    """(coarse octets, fine octets) from a 1-octet CUC P-field, or None if it is not CUC."""
    code_id = (pfield >> 4) & 0x7
    if pfield & 0x80 or code_id not in (0b001, 0b010):
        return None
    return ((pfield >> 2) & 0x3) + 1, pfield & 0x3


def parse_pus_tm(packet: SpacePacket | bytes, layout: PusTmLayout = HERA.pus_tm) -> PusTmHeader | None:
    """Parse the PUS TM secondary header (the layout's PUS version) of a packet; None when it has none."""
    raw = packet.raw if isinstance(packet, SpacePacket) else bytes(packet)
    if len(raw) < PRIMARY_HEADER_LEN + 1 or not (raw[0] >> 3) & 1 or (raw[0] >> 4) & 1:
        return None  # no secondary header flag, or a telecommand
    pos = PRIMARY_HEADER_LEN
    if layout.pus_version == PUS_A_VERSION:
        pus_version, time_ref = (raw[pos] >> 4) & 0x7, 0
    else:
        pus_version, time_ref = raw[pos] >> 4, raw[pos] & 0xF
    if pus_version != layout.pus_version:
        return None
    if len(raw) < pos + layout.length:
        return None
    service, subtype = raw[pos + 1], raw[pos + 2]
    pos += 3
    counter = _uint(raw, pos, layout.message_counter_octets)
    pos += layout.message_counter_octets
    dest = _uint(raw, pos, layout.destination_id_octets)
    pos += layout.destination_id_octets
    coarse_n, fine_n = layout.cuc_coarse_octets, layout.cuc_fine_octets
    if layout.has_pfield:
        cuc = _cuc_layout_from_pfield(raw[pos])
        if cuc is None:
            return None
        coarse_n, fine_n = cuc
        pos += 1
        if len(raw) < pos + coarse_n + fine_n + layout.spare_octets:
            return None  # the time the P-field announces leaves no room for the rest of the header
    coarse = _uint(raw, pos, coarse_n)
    fine = _uint(raw, pos + coarse_n, fine_n)
    pos += coarse_n + fine_n + layout.spare_octets
    return PusTmHeader(
        pus_version=pus_version,
        time_reference_status=time_ref,
        service=service,
        subtype=subtype,
        message_counter=counter,
        destination_id=dest,
        obt_coarse=coarse,
        obt_fine=fine,
        obt_s=_cuc_seconds(coarse, fine, fine_n),
        header_length=pos - PRIMARY_HEADER_LEN,
    )


def pec_ok(packet: SpacePacket | bytes) -> bool:
    """True when the packet's last two octets are the CRC-16 of the octets before them."""
    raw = packet.raw if isinstance(packet, SpacePacket) else bytes(packet)
    if len(raw) < PRIMARY_HEADER_LEN + PEC_LEN + 1:
        return False
    return crc16(raw[:-PEC_LEN]) == int.from_bytes(raw[-PEC_LEN:], "big")


def parse_time_packet(packet: SpacePacket | bytes) -> TimePacket | None:
    """Parse a CCSDS time packet's data field (rate octet, CUC P-field, T-field); None if malformed."""
    raw = packet.raw if isinstance(packet, SpacePacket) else bytes(packet)
    data = raw[PRIMARY_HEADER_LEN:]
    if len(data) < 3:
        return None
    cuc = _cuc_layout_from_pfield(data[1])
    if cuc is None:
        return None
    coarse_n, fine_n = cuc
    if len(data) < 2 + coarse_n + fine_n:
        return None
    coarse = _uint(data, 2, coarse_n)
    fine = _uint(data, 2 + coarse_n, fine_n)
    return TimePacket(
        rate_exponent=data[0],
        pfield=data[1],
        obt_coarse=coarse,
        obt_fine=fine,
        obt_s=_cuc_seconds(coarse, fine, fine_n),
    )


def build_pus_tm(apid: int, service: int, subtype: int, app_data: bytes, *, sequence_count: int = 0,
                 message_counter: int = 0, destination_id: int = 0, obt_s: float = 0.0,
                 layout: PusTmLayout = HERA.pus_tm) -> bytes:
    """A complete PUS TM packet (Hera's PUS-C layout by default, no P-field) with its PEC."""
    if layout.has_pfield:
        raise ValueError("building packets with a P-field is not supported")
    fine_n = layout.cuc_fine_octets
    coarse = int(obt_s)
    fine = int(round((obt_s - coarse) * (1 << (8 * fine_n)))) if fine_n else 0
    sec = (bytes([(layout.pus_version << 4), service & 0xFF, subtype & 0xFF])
           + (message_counter % (1 << (8 * layout.message_counter_octets))).to_bytes(layout.message_counter_octets,
                                                                                    "big")
           + destination_id.to_bytes(layout.destination_id_octets, "big")
           + coarse.to_bytes(layout.cuc_coarse_octets, "big")
           + min(fine, (1 << (8 * fine_n)) - 1).to_bytes(fine_n, "big")
           + bytes(layout.spare_octets))
    body = build_packet(apid, sec + bytes(app_data) + b"\0\0", sequence_count=sequence_count,
                        secondary_header_flag=True)[:-PEC_LEN]
    return body + crc16(body).to_bytes(2, "big")

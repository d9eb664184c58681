"""Non-PUS packet secondary headers that start with a time field of a declared format.

Missions outside ECSS (NASA's Europa Clipper, Psyche, Lucy) put a time code
first in the packet secondary header; its format is a mission fact (the
profile's ``packets.time``: CUC coarse octets of seconds, fine octets of binary
fraction, epoch).  The time field starts right after the 6-octet primary header,
in a packet whose secondary header flag is set::

    primary header (6) | coarse seconds (c octets) | fine (f octets, units 2^-8f s) | ...
"""

from __future__ import annotations

from heradecode.ccsds.spacepacket import PRIMARY_HEADER_LEN, SpacePacket
from heradecode.missions import TimeFormat


def secondary_header_time_s(packet: SpacePacket | bytes, fmt: TimeFormat) -> float | None:
    """Seconds since the format's epoch in the packet's secondary header; None without one or when too short."""
    raw = packet.raw if isinstance(packet, SpacePacket) else bytes(packet)
    if len(raw) < PRIMARY_HEADER_LEN + fmt.length or not (raw[0] >> 3) & 1:
        return None
    return fmt.seconds(raw[PRIMARY_HEADER_LEN : PRIMARY_HEADER_LEN + fmt.length])

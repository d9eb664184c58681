"""Building TM transfer frames: the inverse of parsing and reassembly, for simulation and tests.

:class:`PacketFramer` packs a stream of space packets into the fixed-length
frames of one virtual channel with correct VC counters and first header
pointers, as a spacecraft's packet service does (CCSDS 132.0-B 4.1.4).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from heradecode.ccsds.mission import HERA, MissionProfile
from heradecode.ccsds.spacepacket import IDLE_APID, build_packet
from heradecode.ccsds.tmframe import FHP_IDLE_ONLY, FHP_NO_PACKET_START, OCF_LEN, PRIMARY_HEADER_LEN
from heradecode.fec.crc import append_fecf


def build_frame(data: bytes, *, scid: int, vcid: int, mc_count: int, vc_count: int, first_header_pointer: int,
                ocf: bytes | None = None, with_fecf: bool = False, version: int = 0) -> bytes:
    """Assemble one frame from its data field; OCF when given, FECF appended on request."""
    b0 = ((version & 3) << 6) | ((scid >> 4) & 0x3F)
    b1 = ((scid & 0xF) << 4) | ((vcid & 7) << 1) | (1 if ocf is not None else 0)
    dfs = ((3 & 3) << 11) | (first_header_pointer & 0x7FF)  # no sec. header, sync 0, order 0, seg-len-id 11
    frame = bytes([b0, b1, mc_count & 0xFF, vc_count & 0xFF, dfs >> 8, dfs & 0xFF]) + bytes(data)
    if ocf is not None:
        if len(ocf) != OCF_LEN:
            raise ValueError("an OCF has 4 octets")
        frame += ocf
    return append_fecf(frame) if with_fecf else frame


def idle_packet(length: int) -> bytes:
    """An idle packet (APID 0x7FF) of ``length`` >= 7 octets."""
    return build_packet(IDLE_APID, b"\x55" * (length - PRIMARY_HEADER_LEN))


@dataclass
class PacketFramer:
    """Packs packets into frames of one VC; call :meth:`frames` with the packets, then :meth:`flush`."""

    vcid: int
    mission: MissionProfile = HERA
    ocf: bytes | None = b"\x01\x04\x22\x00"
    with_fecf: bool = False
    mc_counter: list[int] = field(default_factory=lambda: [0])  # shared between the framers of one MC
    vc_count: int = 0
    _pending: bytearray = field(default_factory=bytearray)
    _starts: list[int] = field(default_factory=list)  # offsets in _pending where packets start

    @property
    def data_field_length(self) -> int:
        """Octets of packet data per frame."""
        return self.mission.frame_length - 2 - PRIMARY_HEADER_LEN - (OCF_LEN if self.ocf is not None else 0)

    def frames(self, packets: Iterable[bytes]) -> Iterator[bytes]:
        """Yield every frame that the packets fill completely."""
        n = self.data_field_length
        for pkt in packets:
            self._starts.append(len(self._pending))
            self._pending += pkt
            while len(self._pending) >= n:
                yield self._emit(n)

    def flush(self) -> Iterator[bytes]:
        """Complete the last partial frame with an idle packet and yield it."""
        n = self.data_field_length
        rest = n - len(self._pending) % n if self._pending else 0
        if rest:
            # An idle packet needs 7 octets at least: when less room is left, it fills the next frame too.
            fill = idle_packet(rest if rest > PRIMARY_HEADER_LEN else rest + n)
            self._starts.append(len(self._pending))
            self._pending += fill
        while len(self._pending) >= n:
            yield self._emit(n)
        self._pending.clear()
        self._starts.clear()

    def idle_frame(self) -> bytes:
        """A frame holding only idle data (first header pointer 0x7FE)."""
        return self._frame(b"\x55" * self.data_field_length, FHP_IDLE_ONLY)

    def _emit(self, n: int) -> bytes:
        starts = [s for s in self._starts if s < n]
        fhp = starts[0] if starts else FHP_NO_PACKET_START
        data = bytes(self._pending[:n])
        del self._pending[:n]
        self._starts = [s - n for s in self._starts if s >= n]
        return self._frame(data, fhp)

    def _frame(self, data: bytes, fhp: int) -> bytes:
        frame = build_frame(data, scid=self.mission.scid, vcid=self.vcid, mc_count=self.mc_counter[0],
                            vc_count=self.vc_count, first_header_pointer=fhp, ocf=self.ocf,
                            with_fecf=self.with_fecf)
        self.mc_counter[0] = (self.mc_counter[0] + 1) & 0xFF
        self.vc_count = (self.vc_count + 1) & 0xFF
        return frame

"""CCSDS space packets (133.0-B-2) and their streaming reassembly from one virtual channel.

Primary header (6 octets)::

    version(3) type(1) sec-hdr-flag(1) APID(11) | seq-flags(2) seq-count(14) | data-length(16)

``data-length`` is the number of octets after the primary header minus one.

:class:`PacketAssembler` takes the frames of one virtual channel one at a
time (so a live decoder can use it) and returns the packets they complete.
Its rules:

* it starts at the first header pointer of the first frame it sees; the octets
  before it belong to a packet that started earlier and are not a packet;
* a packet whose octets span a VC frame-counter gap is discarded and counted
  as lost, and reassembly resumes at the next first header pointer;
* when the octets before a first header pointer do not complete the packet in
  progress to its declared length (or there is no packet in progress for
  them), a length mismatch is counted and reassembly resyncs at the pointer;
* 0x7FF (no packet starts here) continues the packet in progress; 0x7FE
  (idle data only) carries nothing;
* a pointer beyond the data field, or a packet header with a version other
  than 0 or a length beyond ``max_packet_length``, is counted and reassembly
  resyncs at the next pointer;
* :meth:`PacketAssembler.flush` ends the stream: the unfinished packet held
  then is counted (``partial_packets_at_end``, ``partial_octets_at_end``) and
  dropped.

Nothing is dropped silently.  Every octet of every data field fed is counted
in exactly one place of the octet ledger in :class:`AssemblerStats`::

    data_octets = packet_octets + idle_octets + lost_octets + skipped_octets
                  + partial_octets_at_end + in_progress

``packet_octets``: in an emitted packet; ``idle_octets``: the data field of an
idle-only frame; ``lost_octets``: the beginning of a packet discarded at a
counter gap, an impossible pointer or a length mismatch; ``skipped_octets``:
octets that cannot be given to a packet (before the first pointer at the start
or after a resync, the data field of a frame with an impossible pointer, or
from an implausible packet header to the next pointer); ``in_progress``: held
for a packet not finished yet (0 after :meth:`PacketAssembler.flush`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from heradecode.ccsds.aosframe import TransferFrame
from heradecode.ccsds.tmframe import FHP_IDLE_ONLY, FHP_NO_PACKET_START

PRIMARY_HEADER_LEN = 6
IDLE_APID = 0x7FF
MAX_PACKET_LENGTH = PRIMARY_HEADER_LEN + 65536

SEQ_FLAG_NAMES = {0: "continuation", 1: "first", 2: "last", 3: "unsegmented"}


@dataclass(frozen=True, slots=True)
class SpacePacket:
    """One complete space packet and where it came from."""

    version: int
    packet_type: int  # 0 telemetry, 1 telecommand
    secondary_header_flag: bool
    apid: int
    sequence_flags: int
    sequence_count: int
    data_length: int  # the header field: octets after the primary header minus one
    raw: bytes  # the whole packet, primary header included
    vcid: int
    frame_index: int  # index of the frame holding the packet's first octet

    @property
    def length(self) -> int:
        """Total packet length in octets."""
        return len(self.raw)

    @property
    def data(self) -> bytes:
        """The packet data field (secondary header and user data)."""
        return self.raw[PRIMARY_HEADER_LEN:]

    @property
    def is_idle(self) -> bool:
        """True for idle packets (APID 0x7FF)."""
        return self.apid == IDLE_APID


@dataclass(frozen=True, slots=True)
class PacketHeader:
    """The fields of a space packet primary header."""

    version: int
    packet_type: int
    secondary_header_flag: bool
    apid: int
    sequence_flags: int
    sequence_count: int
    data_length: int

    @property
    def packet_length(self) -> int:
        """Total packet length in octets that the header declares."""
        return PRIMARY_HEADER_LEN + self.data_length + 1


def parse_packet_header(buf: bytes) -> PacketHeader:
    """Decode the first six octets of ``buf`` as a space packet primary header."""
    if len(buf) < PRIMARY_HEADER_LEN:
        raise ValueError(f"a space packet header needs 6 octets, got {len(buf)}")
    w0 = (buf[0] << 8) | buf[1]
    w1 = (buf[2] << 8) | buf[3]
    return PacketHeader(
        version=w0 >> 13,
        packet_type=(w0 >> 12) & 1,
        secondary_header_flag=bool((w0 >> 11) & 1),
        apid=w0 & 0x7FF,
        sequence_flags=w1 >> 14,
        sequence_count=w1 & 0x3FFF,
        data_length=(buf[4] << 8) | buf[5],
    )


def build_packet(apid: int, data: bytes, *, sequence_count: int = 0, sequence_flags: int = 3,
                 secondary_header_flag: bool = False, packet_type: int = 0) -> bytes:
    """Return a space packet (primary header + data); ``data`` must hold 1 to 65536 octets."""
    if not 1 <= len(data) <= 65536:
        raise ValueError("a space packet data field holds 1 to 65536 octets")
    w0 = (packet_type << 12) | (int(secondary_header_flag) << 11) | (apid & 0x7FF)
    w1 = ((sequence_flags & 3) << 14) | (sequence_count & 0x3FFF)
    return w0.to_bytes(2, "big") + w1.to_bytes(2, "big") + (len(data) - 1).to_bytes(2, "big") + bytes(data)


@dataclass
class AssemblerStats:
    """Counters of one assembler (or the sum of several), with the octet ledger of the data fields fed."""

    packets: int = 0
    packets_lost: int = 0  # partial packets discarded at a VC counter gap or broken pointer
    length_mismatches: int = 0
    bad_first_header_pointers: int = 0
    bad_packet_headers: int = 0
    idle_frames: int = 0
    partial_packets_at_end: int = 0  # unfinished packets held when the stream ended
    data_octets: int = 0  # octets of all data fields fed
    packet_octets: int = 0  # ... in emitted packets
    idle_octets: int = 0  # ... in idle-only frames
    lost_octets: int = 0  # ... of packets discarded unfinished (gap, bad pointer, length mismatch)
    skipped_octets: int = 0  # ... not in any packet (unsynced, bad pointer frame, bad header)
    partial_octets_at_end: int = 0  # ... of the packets unfinished when the stream ended

    def add(self, other: "AssemblerStats") -> None:
        """Add another's counters to these."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def octets_accounted(self) -> int:
        """Data-field octets in packets, idle, lost, skipped or partial at the end (not the ones in progress)."""
        return (self.packet_octets + self.idle_octets + self.lost_octets + self.skipped_octets
                + self.partial_octets_at_end)


@dataclass
class PacketAssembler:
    """Streaming space packet reassembly for ONE virtual channel."""

    vcid: int | None = None
    max_packet_length: int = MAX_PACKET_LENGTH
    stats: AssemblerStats = field(default_factory=AssemblerStats)
    _buf: bytearray = field(default_factory=bytearray)
    _frame_index: int = -1  # frame where the packet in progress started
    _synced: bool = False  # invariant: not synced implies an empty buffer

    @property
    def in_progress(self) -> int:
        """Octets of an unfinished packet held from earlier frames."""
        return len(self._buf)

    @property
    def unaccounted_octets(self) -> int:
        """Data-field octets fed but in no ledger entry and not in progress: always 0."""
        return self.stats.data_octets - self.stats.octets_accounted() - len(self._buf)

    def reset(self, *, lost: bool) -> None:
        """Drop the packet in progress and wait for a pointer; ``lost``: count it as a lost packet (else skipped)."""
        if self._buf:
            if lost:
                self.stats.packets_lost += 1
                self.stats.lost_octets += len(self._buf)
            else:
                self.stats.skipped_octets += len(self._buf)
        self._buf.clear()
        self._synced = False

    def flush(self) -> int:
        """End of the stream: count the unfinished packet in progress and drop it; return its octets."""
        n = len(self._buf)
        if n:
            self.stats.partial_packets_at_end += 1
            self.stats.partial_octets_at_end += n
        self._buf.clear()
        self._synced = False
        return n

    def feed(self, frame: TransferFrame, *, discontinuity: bool = False) -> list[SpacePacket]:
        """Take the next frame of this VC; ``discontinuity`` is True after a VC counter gap."""
        st = self.stats
        data = frame.data
        st.data_octets += len(data)
        if discontinuity:
            self.reset(lost=True)
        fhp = frame.first_header_pointer
        if fhp == FHP_IDLE_ONLY:
            st.idle_frames += 1
            st.idle_octets += len(data)
            return []
        if fhp == FHP_NO_PACKET_START:
            if self._synced:
                return self._continue(data, frame)
            st.skipped_octets += len(data)
            return []
        if fhp >= len(data):
            st.bad_first_header_pointers += 1
            self.reset(lost=True)
            st.skipped_octets += len(data)
            return []
        out: list[SpacePacket] = []
        if self._synced and self._buf:
            self._buf += data[:fhp]
            if len(self._buf) >= PRIMARY_HEADER_LEN and not self._header_plausible(
                    parse_packet_header(self._buf)):
                st.skipped_octets += len(self._buf)
            elif self._complete_exactly():
                out.append(self._emit(bytes(self._buf)))
            else:
                st.length_mismatches += 1
                st.lost_octets += len(self._buf)
            self._buf.clear()
        elif self._synced and fhp:
            # The last packet ended with the previous frame: nothing may precede the pointer.
            st.length_mismatches += 1
            st.lost_octets += fhp
        else:
            st.skipped_octets += fhp  # octets before the first pointer: a packet that started earlier
        self._synced = True
        out.extend(self._split(data, fhp, frame))
        return out

    # -- internals --------------------------------------------------------
    def _complete_exactly(self) -> bool:
        if len(self._buf) < PRIMARY_HEADER_LEN:
            return False
        return parse_packet_header(self._buf).packet_length == len(self._buf)

    def _continue(self, data: bytes, frame: TransferFrame) -> list[SpacePacket]:
        """Append a continuation-only data field to the packet in progress."""
        if not self._buf:
            # The previous packet ended exactly at a frame end, yet no packet starts here.
            self.stats.bad_first_header_pointers += 1
            self.stats.skipped_octets += len(data)
            self._synced = False
            return []
        self._buf += data
        if len(self._buf) < PRIMARY_HEADER_LEN:
            return []
        hdr = parse_packet_header(self._buf)
        if not self._header_plausible(hdr):
            self.reset(lost=False)
            return []
        need = hdr.packet_length
        if len(self._buf) < need:
            return []
        if len(self._buf) > need:
            # A packet ended inside a frame that says no packet starts in it.
            self.stats.length_mismatches += 1
            self.stats.lost_octets += len(self._buf)
            self._buf.clear()
            self._synced = False
            return []
        pkt = self._emit(bytes(self._buf))
        self._buf.clear()
        return [pkt]

    def _header_plausible(self, hdr: PacketHeader) -> bool:
        if hdr.version != 0 or hdr.packet_length > self.max_packet_length:
            self.stats.bad_packet_headers += 1
            return False
        return True

    def _split(self, data: bytes, pos: int, frame: TransferFrame) -> list[SpacePacket]:
        """Cut the packets starting at ``pos``; keep an unfinished last one in the buffer."""
        out: list[SpacePacket] = []
        n = len(data)
        self._frame_index = frame.index
        while pos < n:
            if n - pos < PRIMARY_HEADER_LEN:
                self._buf += data[pos:]
                break
            hdr = parse_packet_header(data[pos : pos + PRIMARY_HEADER_LEN])
            if not self._header_plausible(hdr):
                self.stats.skipped_octets += n - pos
                self._synced = False
                break
            end = pos + hdr.packet_length
            if end <= n:
                out.append(self._emit(data[pos:end], frame.index))
                pos = end
            else:
                self._buf += data[pos:]
                break
        return out

    def _emit(self, raw: bytes, frame_index: int | None = None) -> SpacePacket:
        hdr = parse_packet_header(raw)
        self.stats.packets += 1
        self.stats.packet_octets += len(raw)
        return SpacePacket(
            version=hdr.version,
            packet_type=hdr.packet_type,
            secondary_header_flag=hdr.secondary_header_flag,
            apid=hdr.apid,
            sequence_flags=hdr.sequence_flags,
            sequence_count=hdr.sequence_count,
            data_length=hdr.data_length,
            raw=raw,
            vcid=self.vcid if self.vcid is not None else -1,
            frame_index=self._frame_index if frame_index is None else frame_index,
        )

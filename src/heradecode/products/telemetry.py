"""From decoded frames to telemetry products: VC split, packets, PUS labels, summary.

The mission profile (:mod:`heradecode.missions`) decides how frames and
packets are read: TM (CCSDS 132.0-B) or AOS (732.0-B) frames, the spacecraft
ID, the idle and time APIDs, and the packet secondary header: PUS-C, PUS-A
or a non-PUS time field (labelled ``'timed'``, its seconds in ``obt_s``).

:class:`TelemetryProcessor` is the one object every front end feeds (the
``frames`` command, ``turbo-decode``, the receiver): one frame at a time, in
reception order.  Frames that fail their FECF, have the wrong version or
another spacecraft's ID are counted and kept out of the packet layer; nothing
raises on bad data.

Duplicates: a frame that is an exact copy of one of the last 64 distinct frames
(same VCID, MC and VC counts and octets, see :mod:`heradecode.ccsds.vcdemux`)
is counted in ``duplicate_frames`` (per VC in ``duplicate_frames_by_vc``) and
otherwise ignored: no packets, no counter gap, not written to ``vc<N>.u8``.

The end of the stream: :meth:`TelemetryProcessor.finish` (also done by
:meth:`~TelemetryProcessor.close` and the ``with`` block) counts the packets
left unfinished per VC (``partial_packets_at_end``, ``partial_octets_at_end``).

Frame accounting (always true)::

    frames_total = frames_accepted + duplicate_frames + crc_failures + wrong_scid
                   + bad_version + malformed_frames,   frames_accepted = sum(frames_by_vc)

Octet accounting of the data fields given to packet reassembly
(``data_field_octets`` in the summary; ``in_progress`` is 0 after ``finish``)::

    total = in_packets + idle + lost + skipped + partial_at_end + in_progress

In-process fuzzing entry point: :func:`process_frames` (a fresh processor, the
stream ended, the summary returned).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from heradecode.ccsds.aosframe import AOSFrame, TransferFrame, parse_transfer_frame
from heradecode.ccsds.mission import HERA, MissionProfile
from heradecode.ccsds.packettime import secondary_header_time_s
from heradecode.ccsds.pus import PusTmHeader, TimePacket, parse_pus_tm, parse_time_packet, pec_ok
from heradecode.ccsds.spacepacket import AssemblerStats, PacketAssembler, SpacePacket
from heradecode.ccsds.tmframe import Clcw, FrameError, TMFrame
from heradecode.ccsds.vcdemux import VirtualChannelDemux
from heradecode.errors import UserError

PACKET_COLUMNS = (
    "frame_index", "vcid", "apid", "kind", "sequence_flags", "sequence_count", "length",
    "pus_service", "pus_subtype", "message_counter", "destination_id", "obt_s", "pec_ok", "data_hex",
)


@dataclass(frozen=True, slots=True)
class TelemetryPacket:
    """A reassembled packet with its label: 'pus', 'time', 'timed' (non-PUS time field), 'idle' or 'other'."""

    packet: SpacePacket
    kind: str
    pus: PusTmHeader | None = None
    time: TimePacket | None = None
    pec_ok: bool | None = None
    time_s: float | None = None  # 'timed': seconds since the mission's epoch in the secondary header

    def row(self) -> dict[str, Any]:
        """One flat row (the columns of packets.csv)."""
        p, h = self.packet, self.pus
        obt = h.obt_s if h else (self.time.obt_s if self.time else self.time_s)
        return {
            "frame_index": p.frame_index,
            "vcid": p.vcid,
            "apid": p.apid,
            "kind": self.kind,
            "sequence_flags": p.sequence_flags,
            "sequence_count": p.sequence_count,
            "length": p.length,
            "pus_service": h.service if h else None,
            "pus_subtype": h.subtype if h else None,
            "message_counter": h.message_counter if h else None,
            "destination_id": h.destination_id if h else None,
            "obt_s": obt,
            "pec_ok": self.pec_ok,
            "data_hex": p.raw.hex(),
        }


def label_packet(packet: SpacePacket, mission: MissionProfile = HERA) -> TelemetryPacket:
    """Attach the PUS header, time report, secondary-header time or idle label that the packet carries."""
    layout = mission.packets
    if packet.apid == layout.idle_apid:
        return TelemetryPacket(packet, "idle")
    if packet.apid == layout.time_apid and not packet.secondary_header_flag:
        return TelemetryPacket(packet, "time", time=parse_time_packet(packet))
    if layout.pus is not None:
        pus = parse_pus_tm(packet, layout.pus)
        if pus is not None:
            return TelemetryPacket(packet, "pus", pus=pus, pec_ok=pec_ok(packet) if layout.pec else None)
    elif layout.time is not None:
        time_s = secondary_header_time_s(packet, layout.time)
        if time_s is not None:
            return TelemetryPacket(packet, "timed", time_s=time_s)
    return TelemetryPacket(packet, "other")


def packets_dataframe(packets: Iterable[TelemetryPacket]):
    """The packets as a pandas DataFrame, one row per packet (columns as packets.csv)."""
    import pandas as pd

    return pd.DataFrame([p.row() for p in packets], columns=list(PACKET_COLUMNS))


def _str_keys(counter: dict) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(counter.items())}


OCTET_LEDGER_KEYS = ("total", "in_packets", "idle", "lost", "skipped", "partial_at_end", "in_progress")


@dataclass
class TelemetrySummary:
    """Counts of everything seen; ``to_dict`` gives the summary.json schema (string keys)."""

    frames_total: int = 0
    frames_accepted: int = 0
    spacecraft_ids: Counter = field(default_factory=Counter)
    frames_by_vc: Counter = field(default_factory=Counter)
    vc_counter_gaps: Counter = field(default_factory=Counter)
    vc_frames_missing: Counter = field(default_factory=Counter)
    mc_counter_gaps: int = 0
    packets_by_apid: Counter = field(default_factory=Counter)
    pus_by_service: Counter = field(default_factory=Counter)
    packets_lost: int = 0
    length_mismatches: int = 0
    bad_first_header_pointers: int = 0
    bad_packet_headers: int = 0
    idle_packets: int = 0
    time_packets: int = 0
    timed_packets: int = 0  # non-PUS packets with a secondary-header time
    timed_first_s: float | None = None  # their earliest and latest time (s since the mission's epoch)
    timed_last_s: float | None = None
    pec_failures: int = 0
    crc_failures: int = 0
    wrong_scid: int = 0
    bad_version: int = 0
    malformed_frames: int = 0
    trailing_bytes: int = 0
    duplicate_frames_by_vc: Counter = field(default_factory=Counter)  # exact copies of recent frames
    partial_packets_at_end: Counter = field(default_factory=Counter)  # per VC, set by finish()
    partial_octets_at_end: Counter = field(default_factory=Counter)
    data_field_octets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OCTET_LEDGER_KEYS, 0))
    last_clcw: dict[str, Any] | None = None
    mission: str = HERA.name

    @property
    def duplicate_frames(self) -> int:
        """Frames that were exact copies of a recent frame, all VCs."""
        return sum(self.duplicate_frames_by_vc.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; integer keys written as strings."""
        return {
            "mission": self.mission,
            "frames_total": self.frames_total,
            "frames_accepted": self.frames_accepted,
            "spacecraft_ids": _str_keys(self.spacecraft_ids),
            "frames_by_vc": _str_keys(self.frames_by_vc),
            "vc_counter_gaps": _str_keys(self.vc_counter_gaps),
            "vc_frames_missing": _str_keys(self.vc_frames_missing),
            "mc_counter_gaps": self.mc_counter_gaps,
            "packets_by_apid": _str_keys(self.packets_by_apid),
            "packets_total": sum(self.packets_by_apid.values()),
            "packets_lost": self.packets_lost,
            "length_mismatches": self.length_mismatches,
            "bad_first_header_pointers": self.bad_first_header_pointers,
            "bad_packet_headers": self.bad_packet_headers,
            "idle_packets": self.idle_packets,
            "time_packets": self.time_packets,
            "timed_packets": self.timed_packets,
            "timed_first_s": self.timed_first_s,
            "timed_last_s": self.timed_last_s,
            "pus_by_service": {f"{s}/{t}": int(n) for (s, t), n in sorted(self.pus_by_service.items())},
            "pec_failures": self.pec_failures,
            "crc_failures": self.crc_failures,
            "wrong_scid": self.wrong_scid,
            "bad_version": self.bad_version,
            "malformed_frames": self.malformed_frames,
            "trailing_bytes": self.trailing_bytes,
            "duplicate_frames": self.duplicate_frames,
            "duplicate_frames_by_vc": _str_keys(self.duplicate_frames_by_vc),
            "partial_packets_at_end": _str_keys(self.partial_packets_at_end),
            "partial_octets_at_end": _str_keys(self.partial_octets_at_end),
            "data_field_octets": dict(self.data_field_octets),
            "last_clcw": self.last_clcw,
        }

    def format_text(self, mission: MissionProfile = HERA) -> str:
        """A readable multi-line summary for the terminal."""
        d = self.to_dict()
        lines = [f"{self.mission} telemetry: {self.frames_total} frames read, {self.frames_accepted} accepted"]
        scids = ", ".join(f"{k} (0x{int(k):03X}): {v}" for k, v in d["spacecraft_ids"].items()) or "none"
        lines.append(f"  spacecraft IDs   {scids}")
        problems = [(k, d[k]) for k in ("crc_failures", "wrong_scid", "bad_version", "malformed_frames",
                                        "trailing_bytes", "duplicate_frames") if d[k]]
        if problems:
            lines.append("  rejected         " + ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in problems))
        lines.append("  virtual channels")
        lines.append("    VC  name        frames  counter gaps  frames missing  duplicates")
        for vc in sorted(set(self.frames_by_vc) | set(self.duplicate_frames_by_vc)):
            lines.append(f"    {vc:>2}  {mission.vc_name(vc):<10}  {self.frames_by_vc.get(vc, 0):>6}  "
                         f"{self.vc_counter_gaps.get(vc, 0):>12}  {self.vc_frames_missing.get(vc, 0):>14}  "
                         f"{self.duplicate_frames_by_vc.get(vc, 0):>10}")
        lines.append(f"    master channel counter gaps: {self.mc_counter_gaps}")
        lines.append(f"  packets          {d['packets_total']} complete, {self.packets_lost} lost at gaps, "
                     f"{self.length_mismatches} length mismatches, {self.pec_failures} PEC failures")
        if self.bad_first_header_pointers or self.bad_packet_headers:
            lines.append(f"                   {self.bad_first_header_pointers} bad first header pointers, "
                         f"{self.bad_packet_headers} bad packet headers")
        if self.partial_packets_at_end:
            ends = ", ".join(f"VC {vc}: {n} packet{'s' if n != 1 else ''} ({self.partial_octets_at_end[vc]} octets)"
                             for vc, n in sorted(self.partial_packets_at_end.items()) if n)
            lines.append(f"                   unfinished at end: {ends}")
        o = self.data_field_octets
        if o["total"]:
            held = f", {o['in_progress']} in progress" if o["in_progress"] else ""
            lines.append(f"  data octets      {o['total']}: {o['in_packets']} in packets, {o['idle']} idle, "
                         f"{o['lost']} lost, {o['skipped']} skipped, {o['partial_at_end']} unfinished at end{held}")
        if self.packets_by_apid:
            lines.append("    APID   packets")
            for apid, n in sorted(self.packets_by_apid.items()):
                tag = (" (idle)" if apid == mission.packets.idle_apid
                       else (" (time)" if apid == mission.time_apid else ""))
                lines.append(f"    {apid:>4}  {n:>8}{tag}")
        if self.pus_by_service:
            lines.append("  PUS service/subtype")
            for (s, t), n in sorted(self.pus_by_service.items()):
                lines.append(f"    {s:>3}/{t:<3}  {n:>8}")
        if self.timed_packets:
            first, last = self.timed_first_s, self.timed_last_s
            fmt = mission.packets.time
            span = f"{first:.3f} .. {last:.3f} s"
            if fmt is not None and fmt.epoch_utc is not None and first is not None and last is not None:
                span += (f" since {fmt.epoch_utc} ({fmt.utc(first):%Y-%m-%d %H:%M:%S} .. "
                         f"{fmt.utc(last):%Y-%m-%d %H:%M:%S} UTC)")
            lines.append(f"  packet times     {self.timed_packets} packets, {span}")
        if self.last_clcw:
            c = self.last_clcw
            lines.append(f"  last CLCW        VC {c['vcid']}, report value {c['report_value']}, "
                         f"lockout {int(c['lockout'])}, wait {int(c['wait'])}, retransmit {int(c['retransmit'])}, "
                         f"no RF {int(c['no_rf_available'])}, no bit lock {int(c['no_bit_lock'])}")
        return "\n".join(lines)


class TelemetryProcessor:
    """Feed frames in reception order; get labelled packets, a summary and (with out_dir) products.

    ``mission``: the profile: frame type (TM or AOS), lengths, spacecraft ID, packet layout.
    ``scid``: the spacecraft ID to accept (default: the mission's); ``None`` accepts any.
    ``vcids``: restrict packet reassembly and per-VC products to these VCs.
    ``out_dir``: stream products there: ``vc<N>.u8`` per VC, ``packets.csv``;
    :meth:`close` adds ``summary.json``.  ``keep_packets`` keeps the labelled
    packets in memory (``packets``, :meth:`dataframe`).
    """

    def __init__(self, *, mission: MissionProfile = HERA, frame_length: int | None = None,
                 scid: int | None | str = "mission", vcids: Iterable[int] | None = None,
                 out_dir: str | Path | None = None, keep_packets: bool = False) -> None:
        self.mission = mission
        self.frame_length = frame_length or mission.frame_length_no_fecf
        if self.frame_length not in (mission.frame_length, mission.frame_length_no_fecf):
            raise UserError(f"{mission.name} frames are {mission.frame_length_no_fecf} octets "
                            f"(without FECF) or {mission.frame_length} (with FECF), not {self.frame_length}")
        self.has_fecf = mission.frames.fecf and self.frame_length == mission.frame_length
        self.scid = mission.scid if scid == "mission" else scid
        self.vcids = None if vcids is None else frozenset(vcids)
        self.demux = VirtualChannelDemux()
        self.assemblers: dict[int, PacketAssembler] = {}
        self.stats = TelemetrySummary(mission=mission.name)
        self.keep_packets = keep_packets
        self.packets: list[TelemetryPacket] = []
        self._index = 0
        self._last_ocf: bytes | None = None
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self._vc_files: dict[int, IO[bytes]] = {}
        self._csv_file: IO[str] | None = None
        self._csv: csv.DictWriter | None = None
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._csv_file = open(self.out_dir / "packets.csv", "w", newline="", encoding="ascii")
            self._csv = csv.DictWriter(self._csv_file, fieldnames=PACKET_COLUMNS)
            self._csv.writeheader()

    # -- feeding -------------------------------------------------------------
    def parse(self, raw: bytes, index: int = 0) -> TransferFrame:
        """Parse one frame as the mission's frames are laid out (TM or AOS); FrameError if it cannot be one."""
        return parse_transfer_frame(raw, self.mission.frames, has_fecf=self.has_fecf, index=index)

    def feed(self, frame: bytes | TransferFrame) -> list[TelemetryPacket]:
        """Take one frame (raw octets or parsed); return the packets it completes."""
        st = self.stats
        st.frames_total += 1
        if not isinstance(frame, (TMFrame, AOSFrame)):
            raw = bytes(frame)
            try:
                if len(raw) != self.frame_length:
                    raise FrameError(f"{len(raw)} octets instead of {self.frame_length}")
                frame = self.parse(raw, self._index)
            except FrameError:
                st.malformed_frames += 1
                self._index += 1
                return []
        self._index = frame.index + 1
        if frame.crc_ok is False:
            st.crc_failures += 1
            return []
        st.spacecraft_ids[frame.scid] += 1
        if frame.version != self.mission.frames.version:
            st.bad_version += 1
            return []
        if self.scid is not None and frame.scid != self.scid:
            st.wrong_scid += 1
            return []
        event = self.demux.feed(frame)
        if event.duplicate:
            st.duplicate_frames_by_vc[frame.vcid] = self.demux.duplicate_frames[frame.vcid]
            return []
        st.frames_accepted += 1
        st.frames_by_vc[frame.vcid] = self.demux.frames_by_vc[frame.vcid]
        st.vc_counter_gaps[frame.vcid] = self.demux.vc_gaps[frame.vcid]
        st.vc_frames_missing[frame.vcid] = self.demux.vc_frames_missing[frame.vcid]
        st.mc_counter_gaps = self.demux.mc_gaps
        if frame.ocf is not None:
            self._last_ocf = frame.ocf
        if self.vcids is not None and frame.vcid not in self.vcids:
            return []
        if self.out_dir is not None:
            fh = self._vc_files.get(frame.vcid)
            if fh is None:
                fh = self._vc_files[frame.vcid] = open(self.out_dir / f"vc{frame.vcid}.u8", "wb")
            fh.write(frame.raw)
        assembler = self.assemblers.get(frame.vcid)
        if assembler is None:
            assembler = self.assemblers[frame.vcid] = PacketAssembler(vcid=frame.vcid)
        out = [label_packet(p, self.mission) for p in assembler.feed(frame, discontinuity=event.discontinuity)]
        for tp in out:
            self._count(tp)
        return out

    def feed_many(self, frames: Iterable[bytes | TransferFrame]) -> list[TelemetryPacket]:
        """Feed several frames; return all packets they complete."""
        out: list[TelemetryPacket] = []
        for f in frames:
            out.extend(self.feed(f))
        return out

    def _count(self, tp: TelemetryPacket) -> None:
        st = self.stats
        st.packets_by_apid[tp.packet.apid] += 1
        if tp.kind == "idle":
            st.idle_packets += 1
        elif tp.kind == "time":
            st.time_packets += 1
        elif tp.kind == "timed" and tp.time_s is not None:
            st.timed_packets += 1
            st.timed_first_s = tp.time_s if st.timed_first_s is None else min(st.timed_first_s, tp.time_s)
            st.timed_last_s = tp.time_s if st.timed_last_s is None else max(st.timed_last_s, tp.time_s)
        elif tp.pus is not None:
            st.pus_by_service[(tp.pus.service, tp.pus.subtype)] += 1
            if tp.pec_ok is False:
                st.pec_failures += 1
        if self.keep_packets:
            self.packets.append(tp)
        if self._csv is not None:
            self._csv.writerow(tp.row())

    def finish(self) -> None:
        """End the stream: count each VC's unfinished packet (partial at end) and drop it.

        Calling it again adds nothing; frames fed afterwards start a new stream
        (each VC's packets restart at its next first header pointer).
        """
        for vcid, a in self.assemblers.items():
            if a.flush():
                self.stats.partial_packets_at_end[vcid] = a.stats.partial_packets_at_end
                self.stats.partial_octets_at_end[vcid] = a.stats.partial_octets_at_end

    # -- results ---------------------------------------------------------------
    def summary(self) -> TelemetrySummary:
        """The counts so far (packet-layer counters summed over VCs)."""
        total = AssemblerStats()
        for a in self.assemblers.values():
            total.add(a.stats)
        st = self.stats
        st.packets_lost = total.packets_lost
        st.length_mismatches = total.length_mismatches
        st.bad_first_header_pointers = total.bad_first_header_pointers
        st.bad_packet_headers = total.bad_packet_headers
        st.data_field_octets = {
            "total": total.data_octets,
            "in_packets": total.packet_octets,
            "idle": total.idle_octets,
            "lost": total.lost_octets,
            "skipped": total.skipped_octets,
            "partial_at_end": total.partial_octets_at_end,
            "in_progress": sum(a.in_progress for a in self.assemblers.values()),
        }
        if self._last_ocf is not None and not self._last_ocf[0] & 0x80:
            st.last_clcw = asdict(Clcw.from_bytes(self._last_ocf))
        return st

    def dataframe(self):
        """The kept packets as a pandas DataFrame (needs keep_packets=True)."""
        if not self.keep_packets:
            raise ValueError("create the TelemetryProcessor with keep_packets=True to get a DataFrame")
        return packets_dataframe(self.packets)

    def write_summary(self, path: str | Path) -> None:
        """Write the summary as JSON."""
        Path(path).write_text(json.dumps(self.summary().to_dict(), indent=2) + "\n", encoding="ascii")

    def write_products(self, out_dir: str | Path | None = None) -> Path:
        """Finish products: summary.json (and packets.csv of kept packets when not streaming)."""
        target = Path(out_dir) if out_dir is not None else self.out_dir
        if target is None:
            raise ValueError("no output directory: pass out_dir")
        target.mkdir(parents=True, exist_ok=True)
        if target != self.out_dir and self.keep_packets:
            packets_dataframe(self.packets).to_csv(target / "packets.csv", index=False)
        self.close()
        self.write_summary(target / "summary.json")
        return target

    def close(self) -> None:
        """End the stream (:meth:`finish`), close the streamed product files; write summary.json when streaming."""
        self.finish()
        for fh in self._vc_files.values():
            fh.close()
        self._vc_files.clear()
        if self._csv_file is not None:
            self._csv_file.close()
            self._csv_file = None
            self._csv = None
            if self.out_dir is not None:
                self.write_summary(self.out_dir / "summary.json")

    def __enter__(self) -> "TelemetryProcessor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def process_frames(frames: Iterable[bytes | TransferFrame], **options: Any) -> TelemetrySummary:
    """Feed frames to a fresh TelemetryProcessor, end the stream and return its summary (fuzzing entry point).

    ``options`` go to :class:`TelemetryProcessor` (not ``out_dir``).  It raises
    nothing on any frame content: bad frames are counted in the summary.
    """
    tp = TelemetryProcessor(**options)
    tp.feed_many(frames)
    tp.finish()
    return tp.summary()

"""GNU Radio TM sink: CRC-checked frame PDUs in; frames, virtual channels, packets and a decode log out."""

from __future__ import annotations

import math
from pathlib import Path

import pmt
from gnuradio import gr

from heradecode import __version__
from heradecode.gr.tags import count_rejected, pdu_parts, pdu_vector
from heradecode.missions import DEFAULT_MISSION, load_mission
from heradecode.products.decodelog import DecodedCodeblock, DecodeHeader, DecodeWriter
from heradecode.products.telemetry import TelemetryProcessor

FRAMES = pmt.intern("frames")
FAILED = pmt.intern("failed")


class tm_sink(gr.basic_block):  # noqa: N801 - GNU Radio block naming
    """Writes what ``heradecode decode --out`` writes: frames.u8, vc<N>.u8, packets.csv, summary.json, decode.json.

    ``frames`` takes frame PDUs (octets without FECF, as from the turbo decoder); ``failed`` takes
    the failed-codeblock PDUs (counted in decode.json).  Frames of another spacecraft or version go
    to suspect_frames.u8; PDUs of the wrong length are counted and skipped.  Files are complete
    when the flowgraph stops.  ``mission`` (a bundled name or a profile file) lays out the frames
    and packets (TM or AOS); ``scid`` and ``frame_length`` default to the mission's.
    """

    def __init__(self, out_dir: str, scid: int | None = None, frame_length: int | None = None,
                 mission: str = DEFAULT_MISSION) -> None:
        gr.basic_block.__init__(self, name="heradecode_tm_sink", in_sig=None, out_sig=None)
        self.out_dir = Path(out_dir)
        self.mission = load_mission(mission)
        self.mission_name = str(mission)
        self.scid = self.mission.scid if scid is None else int(scid)
        self.frame_length = self.mission.frame_length_no_fecf if frame_length is None else int(frame_length)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.writer = DecodeWriter(self.out_dir, telemetry=TelemetryProcessor(
            mission=self.mission, frame_length=self.frame_length, scid=self.scid, out_dir=self.out_dir))
        self.n_rejected = 0
        self._closed = False
        self.message_port_register_in(FRAMES)
        self.message_port_register_in(FAILED)
        self.set_msg_handler(FRAMES, self.handle_frame)
        self.set_msg_handler(FAILED, self.handle_failed)

    @staticmethod
    def _record(meta: dict, crc_ok: bool) -> DecodedCodeblock:
        def num(key: str, default: float) -> float:
            v = meta.get(key, default)
            return float(v) if isinstance(v, (int, float)) else default

        return DecodedCodeblock(
            start_sample=int(num("start_sample", -1)), unix_time=num("unix_time", math.nan),
            polarity=int(num("polarity", 1)), sync_score=num("sync_score", math.nan),
            sync_reason=str(meta.get("sync_reason", "")), esn0_db=num("esn0_db", math.nan),
            ebn0_db=num("ebn0_db", math.nan), iterations=int(num("iterations", 0)), crc_ok=crc_ok)

    def handle_frame(self, msg) -> None:
        """Record one CRC-valid frame."""
        parts = pdu_vector(msg, "u8", self.frame_length)
        if parts is None:
            count_rejected(self, f"a {self.frame_length}-octet frame PDU")
            return
        meta, vec = parts
        frame = bytes(pmt.u8vector_elements(vec))
        self.writer.add(self._record(meta, True).with_frame(frame, self.scid, self.mission.frames))

    def handle_failed(self, msg) -> None:
        """Record one codeblock whose CRC failed."""
        parts = pdu_parts(msg)
        self.writer.add(self._record(parts[0] if parts else {}, False))

    def stop(self) -> bool:
        """Close every product file."""
        self.close()
        return True

    def close(self) -> None:
        """Finish the products (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.writer.close(DecodeHeader(source="heradecode GNU Radio tm_sink", mission=self.mission_name,
                                       scid=self.scid, heradecode_version=__version__))
        by_vc = ", ".join(f"VC{k} {v}" for k, v in sorted(self.writer.telemetry.stats.frames_by_vc.items()))
        print(f"heradecode tm_sink: {self.writer.n_frames} frames ({by_vc or 'none'}), {self.writer.n_failed} failed codeblocks, "
              f"{self.n_rejected} rejected messages -> {self.out_dir}", flush=True)

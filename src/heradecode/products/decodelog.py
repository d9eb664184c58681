"""What a decode of a recording delivers, and the writer of its products.

Products of ``heradecode decode --out DIR``:

* ``frames.u8``: every CRC-valid frame of the mission in reception order (1113 octets, no FECF);
* ``suspect_frames.u8``: CRC-valid frames with a wrong version or spacecraft ID (never mixed in);
* ``vc<N>.u8``, ``packets.csv``, ``summary.json``: as ``heradecode frames`` writes them;
* ``decode.json``: one record per codeblock (start sample, time, polarity, Eb/N0, iterations, CRC);
* ``carrier.csv``: the tracked carrier on 1 s points (``unix_time,doppler_hz,cn0_dbhz,locked``),
  ``doppler_hz`` being the received carrier frequency minus the nominal downlink frequency;
* ``carrier_phase.csv``: the carrier track rows (~10 ms): ``unix_time,carrier_phase_cycles,doppler_hz,cn0_dbhz,
  locked``, the unwrapped received carrier phase minus the nominal downlink's;
* ``radio_science.json``, ``doppler_{1,10,60}s.csv``: the phase-based Doppler observable and its noise figures
  (:mod:`heradecode.products.radio_science`);
* ``<recording>.sigmf-meta``: the recording's metadata plus one annotation per decoded codeblock,
  pointing at the original data file (``core:dataset``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import numpy as np

from heradecode.ccsds.codeblock import FrameIdentity, frame_identity
from heradecode.ccsds.mission import HERA
from heradecode.ephem.doppler import CarrierObservable, write_carrier_csv
from heradecode.missions import FrameLayout
from heradecode.products.telemetry import TelemetryProcessor

log = logging.getLogger("heradecode")

#: carrier track rows: recording sample, UNIX time (s), carrier Doppler w.r.t. the nominal downlink (Hz),
#: carrier phase (cycles), lock flag, C/N0 (dB-Hz), received carrier phase minus the nominal downlink's (cycles,
#: unwrapped, continuous within one receiver run: the phase the radio-science observable differences)
CARRIER_DTYPE = np.dtype([("sample", np.int64), ("unix_time", np.float64), ("doppler_hz", np.float64),
                          ("phase_cycles", np.float64), ("locked", np.bool_), ("cn0_dbhz", np.float32),
                          ("carrier_phase_cycles", np.float64)])


@dataclass(frozen=True)
class DecodedCodeblock:
    """One codeblock found and decoded; ``frame`` holds the 1113 octets when the CRC passed."""

    start_sample: int  #: recording sample of the first ASM symbol
    unix_time: float  #: UNIX time (s) of that sample
    polarity: int  #: +1 or -1 (bi-phase-L / PLL sign ambiguity)
    sync_score: float  #: ASM correlation (noise sigmas)
    sync_reason: str  #: how the marker was accepted
    esn0_db: float  #: Es/N0 estimated on the codeblock's soft symbols (dB)
    ebn0_db: float  #: Eb/N0 per information bit (dB)
    iterations: int  #: turbo iterations used
    crc_ok: bool
    frame: bytes | None = None
    scid: int | None = None
    vcid: int | None = None
    vc_count: int | None = None
    suspect: bool = False  #: CRC passed but version or spacecraft ID is wrong

    def with_frame(self, frame: bytes, mission_scid: int | None, frames: FrameLayout = HERA.frames
                   ) -> "DecodedCodeblock":
        """This record with its CRC-valid frame and the identity the mission's frame parser reads from it."""
        return self.with_identity(frame, frame_identity(frame, frames, mission_scid))

    def with_identity(self, frame: bytes, identity: FrameIdentity) -> "DecodedCodeblock":
        """This record with its CRC-valid frame and that frame's identity."""
        return replace(self, crc_ok=True, frame=bytes(frame), scid=identity.scid, vcid=identity.vcid,
                       vc_count=identity.vc_count, suspect=identity.suspect)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (the decode.json schema, without time_utc)."""
        return {
            "start_sample": self.start_sample,
            "unix_time": self.unix_time,
            "polarity": self.polarity,
            "sync_score": round(self.sync_score, 3),
            "sync_reason": self.sync_reason,
            "esn0_db": round(self.esn0_db, 3),
            "ebn0_db": round(self.ebn0_db, 3),
            "iterations": self.iterations,
            "crc_ok": self.crc_ok,
            "scid": self.scid,
            "vcid": self.vcid,
            "vc_count": self.vc_count,
            "suspect": self.suspect,
        }


def carrier_points(track: np.ndarray, step_s: float = 1.0) -> CarrierObservable:
    """Average carrier track rows to ``step_s`` points (Doppler over locked rows only)."""
    if track.size == 0:
        z = np.zeros(0)
        return CarrierObservable(z, z, z, np.zeros(0, bool))
    key = np.floor(track["unix_time"] / step_s).astype(np.int64)
    uniq, inv = np.unique(key, return_inverse=True)
    n = np.bincount(inv)
    lk = track["locked"].astype(float)
    n_lk = np.bincount(inv, lk)
    t = np.bincount(inv, track["unix_time"]) / n
    f_all = np.bincount(inv, track["doppler_hz"]) / n
    f_lk = np.bincount(inv, track["doppler_hz"] * lk) / np.maximum(n_lk, 1)
    cn0 = np.where(np.isfinite(track["cn0_dbhz"]), track["cn0_dbhz"], 0.0)
    c_ok = np.bincount(inv, np.isfinite(track["cn0_dbhz"]).astype(float))
    cn0_mean = np.where(c_ok > 0, np.bincount(inv, cn0) / np.maximum(c_ok, 1), np.nan)
    locked = n_lk >= 0.5 * n
    return CarrierObservable(t, np.where(n_lk > 0, f_lk, f_all), cn0_mean, locked)


class DecodeWriter:
    """Writes a decode's products into ``out_dir`` as codeblocks arrive (bounded memory)."""

    def __init__(self, out_dir: str | Path, *, recording=None, telemetry: TelemetryProcessor | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.recording = recording
        self.telemetry = telemetry if telemetry is not None else TelemetryProcessor(out_dir=self.out_dir)
        self._frames: IO[bytes] = open(self.out_dir / "frames.u8", "wb")
        self._suspect: IO[bytes] | None = None
        self._log: IO[str] = open(self.out_dir / "decode.jsonl.tmp", "w", encoding="ascii")
        self._tracks: list[np.ndarray] = []
        self.n_codeblocks = 0
        self.n_frames = 0

    def add(self, cb: DecodedCodeblock) -> None:
        """Record one decoded codeblock; feed its frame to the telemetry layer."""
        rec = cb.to_dict()
        if self.recording is not None:
            rec["time_utc"] = str(self.recording.sample_time(cb.start_sample)) + "Z"
        self._log.write(json.dumps(rec) + "\n")
        self.n_codeblocks += 1
        if cb.frame is None:
            return
        if cb.suspect:
            if self._suspect is None:
                self._suspect = open(self.out_dir / "suspect_frames.u8", "wb")
            self._suspect.write(cb.frame)
            return
        self._frames.write(cb.frame)
        self.n_frames += 1
        self.telemetry.feed(cb.frame)

    def add_track(self, rows: np.ndarray) -> None:
        """Keep carrier track rows (averaged to 1 s points at the end)."""
        if rows.size:
            self._tracks.append(rows)

    def close(self, header: dict[str, Any] | None = None) -> CarrierObservable:
        """Finish every product; returns the 1 s carrier points written to carrier.csv."""
        self._frames.close()
        if self._suspect is not None:
            self._suspect.close()
        self._log.close()
        self.telemetry.close()
        tmp = self.out_dir / "decode.jsonl.tmp"
        records = [json.loads(line) for line in tmp.read_text(encoding="ascii").splitlines() if line]
        tmp.unlink()
        doc = dict(header or {})
        doc["codeblocks"] = records
        (self.out_dir / "decode.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="ascii")
        track = np.concatenate(self._tracks) if self._tracks else np.zeros(0, CARRIER_DTYPE)
        carrier = carrier_points(track)
        write_carrier_csv(self.out_dir / "carrier.csv", carrier)
        if track.size:
            self._write_radio_science(track, doc)
        if self.recording is not None:
            self._write_annotations(records)
        return carrier

    def _write_radio_science(self, track: np.ndarray, header: dict[str, Any]) -> None:
        """``carrier_phase.csv``, ``radio_science.json`` and ``doppler_{1,10,60}s.csv`` (see products.radio_science)."""
        from heradecode.products import radio_science as rs

        rec = self.recording
        start_ns = (int((rec.start_time - np.datetime64(0, "ns")) // np.timedelta64(1, "ns"))
                    if rec is not None else None)
        phase = rs.PhaseTrack.from_rows(track, start_unix_ns=start_ns,
                                        samp_rate=rec.samp_rate if rec is not None else None)
        rs.write_phase_csv(self.out_dir / "carrier_phase.csv", phase)
        mode = str(header.get("doppler_mode") or "one-way")
        try:
            rs.write_radio_science(self.out_dir, phase, float(header.get("downlink_freq_hz", 8435.75e6)),
                                   loop_bandwidth_hz=float(header.get("pll_bandwidth_hz", 15.0)),
                                   count_factor=1.0 if mode == "one-way" else 2.0, mode=mode)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:  # never fatal to the decode
            log.warning(f"radio science products not written: {exc}")

    def _write_annotations(self, records: list[dict]) -> None:
        """A SigMF metadata file for the recording with one annotation per decoded codeblock."""
        rec = self.recording
        meta = json.loads(json.dumps(rec.metadata)) if isinstance(rec.metadata, dict) and rec.metadata else {}
        glob = meta.get("global", {}) if isinstance(meta.get("global"), dict) else {}
        glob.setdefault("core:datatype", rec.datatype)
        glob.setdefault("core:sample_rate", rec.samp_rate)
        glob.setdefault("core:version", "1.0.0")
        glob["core:num_channels"] = rec.num_channels
        glob["core:dataset"] = str(Path(rec.paths[0]).resolve())
        meta["global"] = glob
        meta.setdefault("captures", [{"core:sample_start": 0, "core:frequency": rec.center_freq_hz,
                                      "core:datetime": str(rec.start_time) + "Z"}])
        cb_len = None
        if len(records) > 1:
            cb_len = int(np.median(np.diff([r["start_sample"] for r in records])))
        ann = [a for a in meta.get("annotations", []) if not str(a.get("core:label", "")).startswith("heradecode")]
        for r in records:
            a = {"core:sample_start": int(r["start_sample"]),
                 "core:label": "heradecode codeblock" + (" ok" if r["crc_ok"] else " failed"),
                 "core:comment": (f"VC{r['vcid']} count {r['vc_count']}, " if r["crc_ok"] else "")
                 + f"Eb/N0 {r['ebn0_db']:.1f} dB, {r['iterations']} iterations"}
            if cb_len:
                a["core:sample_count"] = cb_len
            ann.append(a)
        meta["annotations"] = sorted(ann, key=lambda a: a.get("core:sample_start", 0))
        name = Path(rec.paths[0]).name.split(".sigmf")[0]
        (self.out_dir / f"{name}.decoded.sigmf-meta").write_text(json.dumps(meta, indent=1) + "\n",
                                                                 encoding="utf-8")

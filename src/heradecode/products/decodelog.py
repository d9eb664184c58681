"""What a decode of a recording delivers: the decode log's format, its writer and its reader.

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
* ``<recording>.decoded.sigmf-meta``: the recording's metadata, written by the SigMF writer
  (:func:`heradecode.io.sigmf_write.write_meta`), plus one annotation per decoded codeblock: SigMF
  metadata only (``core:metadata_only``), the original data file's absolute path in
  ``heradecode:source_dataset`` (SigMF's ``core:dataset`` may only name a file beside the metadata).

``decode.json`` (one JSON object; written by :class:`DecodeWriter`, read by :func:`read_decode_log`)::

    {"recording": "name", "mission": "hera", "mode": "high", "symbol_rate": 322560.0, "samp_rate": 6144000.0,
     "center_freq_hz": 8435750000.0, "downlink_freq_hz": 8435750000.0,
     "start_time_utc": "2024-10-07T17:06:31.000000000Z", "duration_s": 60.0, "pll_bandwidth_hz": 15.0,
     "doppler_mode": "one-way", "heradecode_version": "0.1.0", "nonfinite_samples": 0, "blanked_samples": 0, "soft_outliers": 0,
     "sync_attempts": 0, "sync_confirmed": 0,
     "codeblocks": [
       {"start_sample": 12345, "unix_time": 1728320791.25, "time_utc": "2024-10-07T17:06:31.250000000Z",
        "polarity": 1, "sync_score": 9.3, "sync_reason": "strong", "ebn0_db": 3.1, "esn0_db": -2.9,
        "iterations": 3, "crc_ok": true, "scid": 181, "vcid": 3, "vc_count": 17, "suspect": false}]}

The header is :class:`DecodeHeader` (every key optional; the GNU Radio sink writes ``source`` and
``scid``); each codeblock a :class:`DecodedCodeblock`.  ``scid``/``vcid``/``vc_count`` are null when
the CRC failed (-1 in :class:`DecodeLog`).  Unknown keys are ignored.  A codeblock without a usable
time (``time_utc`` or ``unix_time``) or ``crc_ok`` is skipped and counted in ``DecodeLog.skipped``.
The writer counts frames, failed and suspect codeblocks (``n_frames``, ``n_failed``, ``n_suspect``):
the decode's summary line and the batch report take them from there.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import IO, Any

import numpy as np

from heradecode.ccsds.codeblock import FrameIdentity, frame_identity
from heradecode.ccsds.mission import HERA
from heradecode.errors import UserError
from heradecode.io.recording import parse_utc, unix_seconds
from heradecode.io.sigmf_read import SAMPLE_COUNT_KEY
from heradecode.io.sigmf_write import write_meta
from heradecode.missions import FrameLayout
from heradecode.products.carrier import CarrierObservable, carrier_points, write_carrier_csv
from heradecode.products.telemetry import TelemetryProcessor

log = logging.getLogger("heradecode")

SOURCE_DATASET_KEY = "heradecode:source_dataset"
"""Global key of ``<recording>.decoded.sigmf-meta``: the absolute path of the recording's data file."""

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



def _num(value: Any, default: float = math.nan) -> float:
    if value is None or isinstance(value, bool):
        return default
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return v


def _int(value: Any, default: int = -1) -> int:
    v = _num(value)
    return int(v) if math.isfinite(v) and v == int(v) else default


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    return None


DECODE_COUNTERS = ("nonfinite_samples", "blanked_samples", "soft_outliers", "sync_attempts", "sync_confirmed",
                   "lookbacks", "lookback_failures")
"""The receiver's corrupt-input, weak-marker and look-back counters a decode.json header carries (integers)."""


def _text(value: Any) -> str:
    return str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


@dataclass(frozen=True)
class DecodeHeader:
    """The top of ``decode.json``: what was decoded, how, and the run's counters (every key optional).

    JSON keys are the field names, but for ``symbol_rate_baud`` (``symbol_rate``) and ``samp_rate_hz``
    (``samp_rate``), kept as the first decode logs wrote them; the counters are top-level keys too.
    """

    recording: str = ""  #: the recording's (first) file name
    mission: str = ""  #: the --mission used: a bundled name or a profile file
    mode: str = ""  #: the link mode decoded (e.g. high, low)
    symbol_rate_baud: float = math.nan
    samp_rate_hz: float = math.nan
    center_freq_hz: float = math.nan  #: the recording's centre frequency
    downlink_freq_hz: float = math.nan  #: the nominal downlink the Doppler is relative to
    start_time_utc: str = ""  #: the recording's first sample, ISO 8601 UTC
    duration_s: float = math.nan
    pll_bandwidth_hz: float = math.nan  #: carrier loop noise bandwidth (radio science)
    doppler_mode: str = ""  #: one-way, two-way or three-way
    source: str = ""  #: what wrote the log when not ``heradecode decode`` (e.g. the GNU Radio tm_sink)
    heradecode_version: str = ""  #: the heradecode that decoded (the archive records it)
    scid: int | None = None  #: the spacecraft ID frames were checked against, when the writer knew no mission
    counters: dict[str, int] = field(default_factory=dict)  #: :data:`DECODE_COUNTERS` and the like

    _JSON_NAMES = {"symbol_rate_baud": "symbol_rate", "samp_rate_hz": "samp_rate"}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object (empty and NaN values left out)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "counters":
                continue
            v = getattr(self, f.name)
            if v is None or v == "" or (isinstance(v, float) and math.isnan(v)):
                continue
            out[self._JSON_NAMES.get(f.name, f.name)] = v
        out.update({k: int(v) for k, v in self.counters.items()})
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DecodeHeader":
        """Read a decode.json object's header; values of the wrong type read as absent, unknown keys are ignored."""
        kw: dict[str, Any] = {}
        for f in fields(cls):
            key = cls._JSON_NAMES.get(f.name, f.name)
            if f.name == "counters" or key not in data:
                continue
            if isinstance(f.default, float):  # the NaN-defaulted numbers
                kw[f.name] = _num(data[key])
            elif f.name == "scid":
                kw[f.name] = _int(data[key]) if _int(data[key]) >= 0 else None
            else:
                kw[f.name] = _text(data[key])
        kw["counters"] = {k: int(v) for k, v in data.items()
                          if k in DECODE_COUNTERS and isinstance(v, int) and not isinstance(v, bool)}
        return cls(**kw)


@dataclass(frozen=True)
class DecodeLog:
    """The codeblocks of one decode, time-ordered, as parallel numpy arrays (-1 / NaN where absent)."""

    recording: str
    mode: str
    symbol_rate_baud: float
    samp_rate_hz: float
    start_time: np.datetime64 | None  # recording start, datetime64[ns] UTC
    start_sample: np.ndarray  # int64
    unix_time: np.ndarray  # float64, UNIX s (UTC)
    time_utc: np.ndarray  # datetime64[ns]
    polarity: np.ndarray  # int8, +1 / -1 (0 unknown)
    sync_score: np.ndarray  # float64
    ebn0_db: np.ndarray  # float64
    esn0_db: np.ndarray  # float64
    iterations: np.ndarray  # int32, -1 unknown
    crc_ok: np.ndarray  # bool
    scid: np.ndarray  # int32, -1 when the CRC failed
    vcid: np.ndarray  # int32, -1 when the CRC failed
    vc_count: np.ndarray  # int64, -1 when the CRC failed
    suspect: np.ndarray  # bool
    skipped: int = 0  # codeblock entries that could not be read
    center_freq_hz: float = float("nan")  # recording centre frequency (Hz), if the log gives it
    downlink_freq_hz: float = float("nan")  # nominal downlink the Doppler is relative to (Hz), if given
    mission: str = ""  # the --mission the decode used (a bundled name or a profile file), if given
    header: DecodeHeader = field(default_factory=DecodeHeader)  # the whole header, counters included

    @property
    def num_codeblocks(self) -> int:
        """Number of codeblocks in the log."""
        return int(self.crc_ok.size)

    @property
    def num_ok(self) -> int:
        """Codeblocks whose frame passed the CRC."""
        return int(np.count_nonzero(self.crc_ok))

    @property
    def num_failed(self) -> int:
        """Codeblocks whose frame failed the CRC."""
        return self.num_codeblocks - self.num_ok


def decode_log_from_dict(data: Any, *, source: str = "decode.json") -> DecodeLog:
    """Build a :class:`DecodeLog` from the parsed ``decode.json`` object."""
    if not isinstance(data, dict):
        raise UserError(f"{source}: expected a JSON object with a 'codeblocks' list")
    blocks = data.get("codeblocks", [])
    if not isinstance(blocks, list):
        raise UserError(f"{source}: 'codeblocks' must be a list")
    header = DecodeHeader.from_dict(data)
    start_time = None
    if header.start_time_utc:
        try:
            start_time = parse_utc(header.start_time_utc)
        except UserError:
            start_time = None
    rows: list[tuple] = []
    skipped = 0
    for cb in blocks:
        if not isinstance(cb, dict):
            skipped += 1
            continue
        crc_ok = _bool(cb.get("crc_ok"))
        t_ns = None
        if cb.get("time_utc"):
            try:
                t_ns = parse_utc(str(cb["time_utc"]))
            except UserError:
                t_ns = None
        unix = _num(cb.get("unix_time"))
        if t_ns is None and math.isfinite(unix):
            t_ns = parse_utc(unix)
        if crc_ok is None or t_ns is None:
            skipped += 1
            continue
        if not math.isfinite(unix):
            unix = unix_seconds(t_ns)
        ok = bool(crc_ok)
        rows.append((
            _int(cb.get("start_sample")), unix, t_ns, _int(cb.get("polarity"), 0),
            _num(cb.get("sync_score")), _num(cb.get("ebn0_db")), _num(cb.get("esn0_db")),
            _int(cb.get("iterations")), ok,
            _int(cb.get("scid")) if ok else -1, _int(cb.get("vcid")) if ok else -1,
            _int(cb.get("vc_count")) if ok else -1, bool(_bool(cb.get("suspect")) or False),
        ))
    rows.sort(key=lambda r: r[2])
    cols = list(zip(*rows)) if rows else [()] * 13

    def arr(i: int, dtype: Any) -> np.ndarray:
        return np.array(cols[i], dtype=dtype)

    return DecodeLog(
        recording=header.recording,
        mode=header.mode,
        symbol_rate_baud=header.symbol_rate_baud,
        samp_rate_hz=header.samp_rate_hz,
        start_time=start_time,
        start_sample=arr(0, np.int64),
        unix_time=arr(1, np.float64),
        time_utc=np.array(cols[2], dtype="datetime64[ns]") if rows else np.array([], dtype="datetime64[ns]"),
        polarity=arr(3, np.int8),
        sync_score=arr(4, np.float64),
        ebn0_db=arr(5, np.float64),
        esn0_db=arr(6, np.float64),
        iterations=arr(7, np.int32),
        crc_ok=arr(8, bool),
        scid=arr(9, np.int32),
        vcid=arr(10, np.int32),
        vc_count=arr(11, np.int64),
        suspect=arr(12, bool),
        skipped=skipped,
        center_freq_hz=header.center_freq_hz,
        downlink_freq_hz=header.downlink_freq_hz,
        mission=header.mission,
        header=header,
    )


def read_decode_header(path: str | Path) -> DecodeHeader:
    """The header of ``decode.json`` (a file, or a decode directory holding one)."""
    return read_decode_log(path).header


def read_decode_log(path: str | Path) -> DecodeLog:
    """Read ``decode.json`` (a file, or a decode directory holding one) into a :class:`DecodeLog`."""
    path = Path(path)
    if path.is_dir():
        path = path / "decode.json"
    if not path.is_file():
        raise UserError(f"decode log not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a UTF-8 text file") from None
    return decode_log_from_dict(data, source=str(path))


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
        self.n_codeblocks = 0  #: codeblocks logged
        self.n_frames = 0  #: frames of the mission written (CRC passed, identity checks)
        self.n_failed = 0  #: codeblocks whose CRC failed
        self.n_suspect = 0  #: CRC-valid frames with a wrong version or spacecraft ID (suspect_frames.u8)

    def add(self, cb: DecodedCodeblock) -> None:
        """Record one decoded codeblock; feed its frame to the telemetry layer."""
        rec = cb.to_dict()
        if self.recording is not None:
            rec["time_utc"] = str(self.recording.sample_time(cb.start_sample)) + "Z"
        self._log.write(json.dumps(rec) + "\n")
        self.n_codeblocks += 1
        if cb.frame is None:
            self.n_failed += int(not cb.crc_ok)
            return
        if cb.suspect:
            self.n_suspect += 1
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

    def close(self, header: DecodeHeader | dict[str, Any] | None = None) -> CarrierObservable:
        """Finish every product; returns the 1 s carrier points written to carrier.csv."""
        self._frames.close()
        if self._suspect is not None:
            self._suspect.close()
        self._log.close()
        self.telemetry.close()
        tmp = self.out_dir / "decode.jsonl.tmp"
        records = [json.loads(line) for line in tmp.read_text(encoding="ascii").splitlines() if line]
        tmp.unlink()
        if not isinstance(header, DecodeHeader):  # a decode.json-style dict: read as decode.json would be
            header = DecodeHeader.from_dict(header or {})
        doc = header.to_dict()
        doc["codeblocks"] = records
        (self.out_dir / "decode.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="ascii")
        track = np.concatenate(self._tracks) if self._tracks else np.zeros(0, CARRIER_DTYPE)
        carrier = carrier_points(track)
        write_carrier_csv(self.out_dir / "carrier.csv", carrier)
        if track.size:
            self._write_radio_science(track, header)
        if self.recording is not None:
            self._write_annotations(records)
        return carrier

    def _write_radio_science(self, track: np.ndarray, header: DecodeHeader) -> None:
        """``carrier_phase.csv``, ``radio_science.json`` and ``doppler_{1,10,60}s.csv`` (see products.radio_science)."""
        from heradecode.products import radio_science as rs

        rec = self.recording
        start_ns = (int((rec.start_time - np.datetime64(0, "ns")) // np.timedelta64(1, "ns"))
                    if rec is not None else None)
        phase = rs.PhaseTrack.from_rows(track, start_unix_ns=start_ns,
                                        samp_rate=rec.samp_rate if rec is not None else None)
        rs.write_phase_csv(self.out_dir / "carrier_phase.csv", phase)
        mode = header.doppler_mode or "one-way"
        downlink_hz = header.downlink_freq_hz if math.isfinite(header.downlink_freq_hz) else HERA.downlink_freq_hz
        loop_bw = header.pll_bandwidth_hz if math.isfinite(header.pll_bandwidth_hz) else 15.0
        try:
            rs.write_radio_science(self.out_dir, phase, downlink_hz, loop_bandwidth_hz=loop_bw,
                                   count_factor=rs.count_factor(mode), mode=mode)
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:  # never fatal to the decode
            log.warning(f"radio science products not written: {exc}")

    def _write_annotations(self, records: list[dict]) -> None:
        """``<recording>.decoded.sigmf-meta``: the recording's metadata, through the SigMF writer, with one
        annotation per decoded codeblock: a metadata-only SigMF file (``core:metadata_only``) whose
        ``heradecode:source_dataset`` is the original data file's absolute path."""
        rec = self.recording
        meta = rec.metadata if isinstance(rec.metadata, dict) else {}
        glob = meta.get("global", {}) if isinstance(meta.get("global"), dict) else {}
        # the recording's own global fields the writer does not set itself are carried over
        carried = {k: v for k, v in glob.items() if not k.startswith("core:") or k in ("core:hw", "core:description",
                                                                                       "core:author", "core:license")}
        carried.pop(SAMPLE_COUNT_KEY, None)
        cb_len = int(np.median(np.diff([r["start_sample"] for r in records]))) if len(records) > 1 else None
        ann = [a for a in meta.get("annotations", []) if isinstance(a, dict) and "core:sample_start" in a
               and not str(a.get("core:label", "")).startswith("heradecode")]
        for r in records:
            a = {"core:sample_start": int(r["start_sample"]),
                 "core:label": "heradecode codeblock" + (" ok" if r["crc_ok"] else " failed"),
                 "core:comment": (f"VC{r['vcid']} count {r['vc_count']}, " if r["crc_ok"] else "")
                 + f"Eb/N0 {r['ebn0_db']:.1f} dB, {r['iterations']} iterations"}
            if cb_len:
                a["core:sample_count"] = cb_len
            ann.append(a)
        name = Path(rec.paths[0]).name.split(".sigmf")[0]
        write_meta(self.out_dir / f"{name}.decoded.sigmf-meta", datatype=rec.datatype, samp_rate=rec.samp_rate,
                   num_channels=rec.num_channels, center_freq_hz=rec.center_freq_hz, start_time=rec.start_time,
                   num_samples=rec.num_samples, annotations=sorted(ann, key=lambda a: a["core:sample_start"]),
                   extra_global={**carried, "core:metadata_only": True,
                                 SOURCE_DATASET_KEY: str(Path(rec.paths[0]).resolve())})

"""Ingest: decode folders and frame files into the catalogue and the store.

Order of work, so that nothing is lost and a crash leaves a consistent archive:

1. **check** the input completely (a corrupt decode folder is refused with one line, before
   anything is written);
2. **identify** it by content: SHA-256 over the names and hashes of its files.  Content
   already catalogued is not ingested again (idempotence); a new decode of a known recording
   becomes its next ``version`` and the newest is ``is_latest``;
3. **catalogue** everything in one database transaction: recording, decode, frames (L0, headers
   read from ``frames.u8`` with numpy), packets (L1, from the decode's ``packets.csv``, checked
   row by row; frame files have their packets reassembled again by
   :class:`~heradecode.products.telemetry.TelemetryProcessor`), carrier points (L1b), products,
   and the audit event.  Rows go in by bulk inserts through the driver (PostgreSQL: ``COPY``,
   SQLite: ``executemany``), in chunks, so memory stays flat in the number of packets;
4. **store** the files (atomic temp + rename, :mod:`heradecode.archive.store`): copied to the
   store's ``tmp/`` by a thread while step 3 runs, renamed into place still inside the
   transaction, and only then **commit**: rows are committed after their files.  A damaged
   ``packets.csv`` found on the way rolls everything back before any file is stored.

Concurrent ingests: a transaction that collides with another one (the same recording's next
version, the same content, SQLite's write lock) is rolled back and retried.

Frame times: frame ``i`` of ``frames.u8`` is the ``i``-th CRC-valid, non-suspect codeblock of
``decode.json`` and takes its ``unix_time``; a packet takes the time of the frame holding its
first octet.  Frame files (``.u8``) carry no times: their frames and packets have none, and the
recording start is read from a ``_YYYY_MM_DD_HH_MM_SS`` file name when there is one.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from heradecode import __version__
from heradecode.archive import db as _db
from heradecode.archive.db import writer as _db_writer
from heradecode.archive.models import (LEVEL_FRAMES, LEVEL_PACKETS, LEVEL_RADIO_SCIENCE, AuditEvent, Decode,
                                       Mission, Product, Recording)
from heradecode.archive.store import ContentStore, sha256_file_stamped
from heradecode.missions import DEFAULT_MISSION, MissionProfile, load_mission
from heradecode.products.decodelog import DECODE_COUNTERS
from heradecode.ccsds.tmframe import FrameError, parse_frame
from heradecode.errors import UserError
from heradecode.products.telemetry import PACKET_COLUMNS, TelemetryProcessor

CHUNK_ROWS = 20_000
FAULT_ENV = "HERADECODE_ARCHIVE_FAULT"  # test hook: 'pause_in_transaction' stops mid-ingest (kill -9 tests)
_NAME_TIME = re.compile(r"(\d{4})_(\d\d)_(\d\d)_(\d\d)_(\d\d)_(\d\d)")


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did: the item, its version, and whether it was new."""

    decode_id: int
    recording_id: int
    version: int
    created: bool
    n_frames: int
    n_packets: int
    n_products: int
    data_types: tuple[str, ...] = ()


@dataclass
class _FrameIn:
    raw: bytes
    unix_s: float | None
    ebn0_db: float | None
    iterations: int | None
    crc_ok: bool


@dataclass
class _Prepared:
    """A checked input, ready to be catalogued."""

    source: str
    name: str
    mission: MissionProfile
    content_sha256: str
    recording: dict[str, Any]
    decode: dict[str, Any]
    files: list[tuple[Path, str, str, str | None, str]]  # path, name, kind, level, sha256
    frames: Callable[[], Iterator[_FrameIn]]
    frame_length: int
    carrier: list[dict[str, Any]] = field(default_factory=list)
    frames_path: Path | None = None  # decode folders: frames.u8 ...
    frame_log: dict[str, np.ndarray] | None = None  # ... with its codeblocks' unix_s, ebn0_db, iterations
    packets_csv: Path | None = None  # the decode's packet table (else packets are reassembled from the frames)
    stamps: dict[Path, tuple[int, int, int, int]] = field(default_factory=dict)  # file_stamp when hashed


def data_type(mission: str, kind: str, level: str | None) -> str:
    """The Data Hub style data type: MISSION:KIND:LEVEL."""
    return f"{mission.upper()}:{kind.upper()}" + (f":{level}" if level else "")


def product_kind(name: str) -> tuple[str, str | None]:
    """Kind and processing level of a decode folder's file, from its name."""
    low = name.lower()
    if low == "frames.u8" or re.fullmatch(r"vc\d+\.u8", low) or low == "suspect_frames.u8":
        return "frames", LEVEL_FRAMES
    if low == "packets.csv":
        return "packets", LEVEL_PACKETS
    if low in ("carrier.csv", "residuals.csv", "doppler.json") or low.startswith("residual"):
        return "radio_science", LEVEL_RADIO_SCIENCE
    if low.endswith(".png") or low.endswith(".svg"):
        return "plot", None
    return "metadata", None


# -- checking inputs ------------------------------------------------------------------------------

def _refuse(folder: Path, why: str) -> UserError:
    return UserError(f"corrupt decode folder {folder}: {why}; nothing was ingested")


class _Codeblock:
    """What the ingest keeps of a decode.json codeblock record (a dict of 15 keys costs ten times more)."""

    __slots__ = ("crc_ok", "suspect", "unix_time", "ebn0_db", "iterations")

    def __init__(self, d: dict) -> None:
        g = d.get
        self.crc_ok, self.suspect, self.unix_time, self.ebn0_db, self.iterations = \
            g("crc_ok"), g("suspect"), g("unix_time"), g("ebn0_db"), g("iterations")

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.__slots__


def _codeblock_hook(d: dict) -> Any:
    return _Codeblock(d) if "crc_ok" in d and "start_sample" in d else d


def _read_json(folder: Path, name: str, required: bool, object_hook=None) -> Any:
    path = folder / name
    if not path.is_file():
        if required:
            raise _refuse(folder, f"{name} is missing")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"), object_hook=object_hook)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _refuse(folder, f"{name} is not valid JSON ({type(exc).__name__})") from None


def _float_or_none(text: str) -> float | None:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _num(v: Any) -> float:
    """A JSON number as float; NaN for anything else."""
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else float("nan")


def _parse_utc(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    s = text.rstrip("Z")
    if "." in s:  # numpy datetime64 strings carry nanoseconds: keep microseconds
        head, frac = s.split(".", 1)
        s = f"{head}.{frac[:6]}"
    try:
        return datetime.fromisoformat(s).replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def _content_hash(parts: list[tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for name, digest in sorted(parts):
        h.update(f"{name}\0{digest}\n".encode())
    return h.hexdigest()


#: keys of a decode folder's ``*.decoded.sigmf-meta`` global naming the recording's resolved data file, newest first
SOURCE_DATASET_KEYS = ("heradecode:source_dataset", "core:dataset")


def recording_path(decoded_global: dict) -> str | None:
    """The recording's metadata file, from the data file a decode folder's ``*.decoded.sigmf-meta`` names."""
    dataset = next((v for v in map(decoded_global.get, SOURCE_DATASET_KEYS) if isinstance(v, str) and v), None)
    if dataset is None:
        return None
    if dataset.endswith(".sigmf-data"):
        return dataset[: -len(".sigmf-data")] + ".sigmf-meta"
    return dataset


def prepare_decode_folder(folder: str | Path, *, station: str | None = None) -> _Prepared:
    """Check a decode folder completely and describe it; UserError (one line) when it is corrupt.

    ``station`` names the receiving station when the recording's metadata does not.
    """
    folder = Path(folder)
    if not folder.exists():
        raise UserError(f"no such decode folder: {folder}")
    if not folder.is_dir():
        raise UserError(f"not a decode folder (not a directory): {folder}")
    doc = _read_json(folder, "decode.json", required=True, object_hook=_codeblock_hook)
    if not isinstance(doc, dict) or not isinstance(doc.get("codeblocks"), list):
        raise _refuse(folder, "decode.json has no codeblock list")
    summary = _read_json(folder, "summary.json", required=False)
    if summary is not None and not isinstance(summary, dict):
        raise _refuse(folder, "summary.json is not an object")
    mission = load_mission(str((summary or {}).get("mission") or doc.get("mission") or DEFAULT_MISSION).strip())
    frame_len = mission.frame_length_no_fecf
    frames_path = folder / "frames.u8"
    if not frames_path.is_file():
        raise _refuse(folder, "frames.u8 is missing")
    n_frames, rest = divmod(frames_path.stat().st_size, frame_len)
    if rest:
        raise _refuse(folder, f"frames.u8 is not a whole number of {frame_len}-octet frames")
    good = []
    for i, cb in enumerate(doc["codeblocks"]):
        if not isinstance(cb, (dict, _Codeblock)) or "crc_ok" not in cb:
            raise _refuse(folder, f"decode.json codeblock {i} is malformed")
        if cb.get("crc_ok") and not cb.get("suspect"):
            good.append(cb)
    if len(good) != n_frames:
        raise _refuse(folder, f"frames.u8 holds {n_frames} frames but decode.json lists {len(good)}")
    carrier: list[dict[str, Any]] = []
    cpath = folder / "carrier.csv"
    if not cpath.is_file():
        raise _refuse(folder, "carrier.csv is missing")
    try:
        with open(cpath, newline="", encoding="ascii") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "unix_time" not in reader.fieldnames:
                raise _refuse(folder, "carrier.csv has no unix_time column")
            for row in reader:
                t = _float_or_none(row.get("unix_time"))
                if t is None:
                    raise _refuse(folder, "carrier.csv has a row without a time")
                carrier.append({"unix_s": t, "doppler_hz": _float_or_none(row.get("doppler_hz")),
                                "cn0_dbhz": _float_or_none(row.get("cn0_dbhz")),
                                "locked": str(row.get("locked", "0")).strip() in ("1", "True", "true")})
    except (UnicodeDecodeError, csv.Error):
        raise _refuse(folder, "carrier.csv is not a CSV table") from None
    files = []
    hashes = []
    stamps = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and not p.name.startswith("."):
            kind, level = product_kind(p.name)
            try:
                digest, stamps[p] = sha256_file_stamped(p)
            except ValueError:
                raise UserError(f"{p} changed while it was being ingested; nothing was ingested") from None
            files.append((p, p.name, kind, level, digest))
            hashes.append((p.name, digest))
    pk_path = folder / "packets.csv"
    if pk_path.is_file():
        with open(pk_path, encoding="ascii", errors="replace") as fh:
            header = fh.readline().strip().split(",")
        if tuple(header) != PACKET_COLUMNS:
            raise _refuse(folder, "packets.csv does not have the packet table's columns")
    meta_files = sorted(folder.glob("*.sigmf-meta"))
    sigmf = None
    if meta_files:
        try:
            sigmf = json.loads(meta_files[0].read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise _refuse(folder, f"{meta_files[0].name} is not valid JSON") from None
    glob = (sigmf or {}).get("global") if isinstance((sigmf or {}).get("global"), dict) else {}
    start = _parse_utc(doc.get("start_time_utc"))
    rec_name = str(doc.get("recording") or folder.name)
    checksum = glob.get("core:sha512") or hashlib.sha256(json.dumps(
        [rec_name, doc.get("start_time_utc"), doc.get("samp_rate"), doc.get("center_freq_hz"),
         doc.get("duration_s")], sort_keys=True).encode()).hexdigest()
    station = glob.get("heradecode:station") or doc.get("station") or station
    doppler = _read_json(folder, "doppler.json", required=False)
    if isinstance(doppler, dict):
        doppler_source = str(doppler.get("doppler_file") or doppler.get("source") or "ephemeris")
    else:
        doppler_source = "none"
    params = {k: doc.get(k) for k in ("mode", "symbol_rate", "samp_rate", "center_freq_hz", "downlink_freq_hz")
              if k in doc}
    stats = dict(summary or {})
    for k in DECODE_COUNTERS:
        if k in doc:
            stats[k] = doc[k]
    stats["codeblocks"] = len(doc["codeblocks"])
    times = [cb.get("unix_time") for cb in good if isinstance(cb.get("unix_time"), (int, float))]

    def frames() -> Iterator[_FrameIn]:
        with open(frames_path, "rb") as fh:
            for cb in good:
                raw = fh.read(frame_len)
                t = cb.get("unix_time")
                yield _FrameIn(raw, float(t) if isinstance(t, (int, float)) else None,
                               _float_or_none(cb.get("ebn0_db")), cb.get("iterations"), True)

    return _Prepared(
        source="decode", name=folder.name, mission=mission, content_sha256=_content_hash(hashes),
        recording={"checksum": str(checksum), "name": rec_name, "station": station, "start_unix_s": start,
                   "duration_s": _float_or_none(doc.get("duration_s")),
                   "samp_rate_hz": _float_or_none(doc.get("samp_rate")),
                   "center_freq_hz": _float_or_none(doc.get("center_freq_hz")),
                   "sigmf_json": json.dumps(glob) if glob else None, "path": recording_path(glob)},
        decode={"heradecode_version": str(doc.get("heradecode_version") or __version__), "mode": doc.get("mode"),
                "params_json": json.dumps(params), "doppler_source": doppler_source,
                "stats_json": json.dumps(stats),
                "start_unix_s": min(times) if times else start, "stop_unix_s": max(times) if times else None},
        files=files, frames=frames, frame_length=frame_len, carrier=carrier, frames_path=frames_path,
        frame_log={"unix_s": np.array([_num(cb.get("unix_time")) for cb in good], dtype=float),
                   "ebn0_db": np.array([_num(cb.get("ebn0_db")) for cb in good], dtype=float),
                   "iterations": np.array([_num(cb.get("iterations")) for cb in good], dtype=float)},
        packets_csv=pk_path if pk_path.is_file() else None, stamps=stamps)


def prepare_frame_file(path: str | Path, mission: str, *, station: str | None = None) -> _Prepared:
    """Check a ``.u8`` frame file of ``mission`` (received at ``station``, when known) and describe it."""
    path = Path(path)
    prof = load_mission(mission)
    if not path.is_file():
        raise UserError(f"no such frame file: {path}")
    size = path.stat().st_size
    frame_len = prof.frame_length if size % prof.frame_length == 0 and size % prof.frame_length_no_fecf else \
        prof.frame_length_no_fecf
    n, rest = divmod(size, frame_len)
    if n == 0 or rest:
        raise UserError(f"not a {prof.name} frame file: {path} is not a whole number of {frame_len}-octet frames")
    try:
        digest, stamp = sha256_file_stamped(path)
    except ValueError:
        raise UserError(f"{path} changed while it was being ingested; nothing was ingested") from None
    m = _NAME_TIME.search(path.name)
    start = None
    if m:
        try:
            start = datetime(*map(int, m.groups()), tzinfo=timezone.utc).timestamp()
        except ValueError:
            start = None

    def frames() -> Iterator[_FrameIn]:
        with open(path, "rb") as fh:
            while True:
                raw = fh.read(frame_len)
                if len(raw) < frame_len:
                    return
                yield _FrameIn(raw, None, None, None, True)

    return _Prepared(
        source="frames", name=path.name, mission=prof,
        content_sha256=_content_hash([("frames:" + prof.name.upper(), digest)]),
        recording={"checksum": digest, "name": path.name, "station": station, "start_unix_s": start,
                   "duration_s": None, "samp_rate_hz": None, "center_freq_hz": None, "sigmf_json": None},
        decode={"heradecode_version": __version__, "mode": None, "params_json": json.dumps({"frame_length": frame_len}),
                "doppler_source": None, "stats_json": None, "start_unix_s": start, "stop_unix_s": None},
        files=[(path, path.name, "frames", LEVEL_FRAMES, digest)], frames=frames, frame_length=frame_len,
        stamps={path: stamp})


# -- cataloguing ----------------------------------------------------------------------------------

FRAME_COLS = ("decode_id", "frame_index", "unix_s", "scid", "vcid", "mc_count", "vc_count", "crc_ok", "ebn0_db",
              "iterations")
PACKET_COLS = ("decode_id", "frame_index", "unix_s", "vcid", "apid", "kind", "sequence_count", "length",
               "pus_service", "pus_subtype", "obt_s", "pec_ok", "data")
CARRIER_COLS = ("decode_id", "unix_s", "doppler_hz", "cn0_dbhz", "locked")


def _insert_rows(conn: Connection, table: str, cols: tuple[str, ...], rows: list[tuple]) -> None:
    """Bulk insert of tuples through the driver (PostgreSQL: COPY; SQLite: executemany), in the open transaction.

    ``table`` and ``cols`` are this module's constants, never user text.
    """
    if not rows:
        return
    raw = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row(r)
    else:
        cur = raw.cursor()
        try:
            cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
        finally:
            cur.close()


def _copy_binary(conn: Connection, table: str, cols: tuple[str, ...], stream: bytes) -> None:
    """PostgreSQL COPY of a whole binary COPY stream (:mod:`heradecode.archive.pgcopy`)."""
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN WITH (FORMAT binary)") as cp:
            cp.write(stream)


def _opt_list(a: np.ndarray, cast=float) -> list:
    """A float array as a list with NaN -> None."""
    return [None if v != v else cast(v) for v in a.tolist()]


def _frames_from_file(conn: Connection, decode_id: int, prep: _Prepared) -> tuple[int, np.ndarray]:
    """Frames of a decode's frames.u8 (headers read with numpy, in chunks); returns (count, unix_s per frame)."""
    log = prep.frame_log
    n_total = len(log["unix_s"])
    flen = prep.frame_length
    with open(prep.frames_path, "rb") as fh:
        first = 0
        while first < n_total:
            buf = fh.read(CHUNK_ROWS * flen)
            arr = np.frombuffer(buf, np.uint8).reshape(-1, flen)
            n = len(arr)
            if n == 0:
                break
            h0, h1 = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64)
            sl = slice(first, first + n)
            rows = list(zip([decode_id] * n, range(first, first + n), _opt_list(log["unix_s"][sl]),
                            (((h0 & 0x3F) << 4) | (h1 >> 4)).tolist(), ((h1 >> 1) & 7).tolist(),
                            arr[:, 2].tolist(), arr[:, 3].tolist(), [True] * n, _opt_list(log["ebn0_db"][sl]),
                            _opt_list(log["iterations"][sl], int)))
            _insert_rows(conn, "frames", FRAME_COLS, rows)
            first += n
    return n_total, log["unix_s"]


_PEC = {"True": True, "False": False, "true": True, "false": False}
_CSV_TYPES = {"frame_index": "int64", "vcid": "int64", "apid": "int64", "kind": "string", "sequence_flags": "int64",
              "sequence_count": "int64", "length": "int64", "pus_service": "int64", "pus_subtype": "int64",
              "message_counter": "int64", "destination_id": "int64", "obt_s": "float64", "pec_ok": "string",
              "data_hex": "string"}


def _py(a) -> list:
    """An Arrow array as a Python list (through numpy when it has no nulls: several times faster)."""
    return a.to_numpy(zero_copy_only=False).tolist() if a.null_count == 0 else a.to_pylist()


def _strings_py(a) -> list:
    """An Arrow string array of a few distinct values as a Python list (through its dictionary)."""
    d = a.dictionary_encode()
    values = d.dictionary.to_pylist()
    return [values[i] for i in d.indices.to_numpy(zero_copy_only=False).tolist()] if d.null_count == 0 \
        else a.to_pylist()


def _packets_from_csv(conn: Connection, decode_id: int, prep: _Prepared, frame_s: np.ndarray) -> int:
    """Packets of the decode's packets.csv (streamed with pyarrow's CSV reader, checked); returns the count."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pacsv

    path = prep.packets_csv
    n_frames = len(frame_s)
    n = 0
    convert = pacsv.ConvertOptions(column_types={k: getattr(pa, v)() for k, v in _CSV_TYPES.items()},
                                   null_values=[""], strings_can_be_null=True)
    try:
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=8 << 20),
                                convert_options=convert)
        for batch in reader:
            k = batch.num_rows
            if k == 0:
                continue
            col = {name: batch.column(name) for name in batch.schema.names}
            for name in ("frame_index", "vcid", "apid", "sequence_count", "length", "kind", "data_hex"):
                if col[name].null_count:
                    raise ValueError(f"empty {name}")
            fi = col["frame_index"].to_numpy()
            if fi.min() < 0 or fi.max() >= n_frames:
                raise ValueError("frame index outside frames.u8")
            hexes = col["data_hex"]
            if not pc.all(pc.match_substring_regex(hexes, "^([0-9a-fA-F]{2})*$")).as_py():
                raise ValueError("packet data is not hexadecimal")
            if not pc.all(pc.equal(pc.utf8_length(hexes), pc.multiply(col["length"], 2))).as_py():
                raise ValueError("packet length and data disagree")
            t = frame_s[fi]
            unix_s = pa.array(t, mask=~np.isfinite(t))
            obt = col["obt_s"]
            obt = pc.if_else(pc.is_finite(obt), obt, pa.scalar(None, pa.float64()))
            pec = pc.if_else(pc.equal(pc.utf8_lower(col["pec_ok"]), "true"), True,
                             pc.if_else(pc.equal(pc.utf8_lower(col["pec_ok"]), "false"), False,
                                        pa.scalar(None, pa.bool_())))
            if conn.dialect.name == "postgresql":  # binary COPY, encoded by a numba loop
                from heradecode.archive.pgcopy import encode_packets

                _copy_binary(conn, "packets", PACKET_COLS, encode_packets(
                    decode_id, col["frame_index"], t, col["vcid"], col["apid"], col["kind"], col["sequence_count"],
                    col["length"], col["pus_service"], col["pus_subtype"], obt, pec, hexes))
            else:
                rows = list(zip(repeat(decode_id, k), fi.tolist(), _py(unix_s), _py(col["vcid"]), _py(col["apid"]),
                                _strings_py(col["kind"]), _py(col["sequence_count"]), _py(col["length"]),
                                _py(col["pus_service"]), _py(col["pus_subtype"]), _py(obt), _py(pec),
                                map(bytes.fromhex, hexes.to_pylist())))
                _insert_rows(conn, "packets", PACKET_COLS, rows)
            n += k
    except (ValueError, TypeError, KeyError, pa.ArrowInvalid) as exc:
        raise _refuse(path.parent, f"packets.csv is damaged ({' '.join(str(exc).split())[:80]})") from None
    return n


def _reassembled(conn: Connection, decode_id: int, prep: _Prepared) -> tuple[int, int, float | None, float | None]:
    """Frames parsed and packets reassembled again (TelemetryProcessor); returns (frames, packets, t_min, t_max)."""
    tp = TelemetryProcessor(mission=prep.mission, frame_length=prep.frame_length)
    has_fecf = prep.frame_length == prep.mission.frame_length
    frame_rows: list[tuple] = []
    packet_rows: list[tuple] = []
    frame_times: dict[int, float | None] = {}
    n_frames = n_packets = 0
    t_min = t_max = None
    for index, fr in enumerate(prep.frames()):
        frame_times[index] = fr.unix_s
        try:
            f = parse_frame(fr.raw, has_fecf=has_fecf, index=index)
        except FrameError:
            f = None
        if f is not None:
            frame_rows.append((decode_id, index, fr.unix_s, f.scid, f.vcid, f.mc_count, f.vc_count,
                               bool(f.crc_ok if f.crc_ok is not None else fr.crc_ok), fr.ebn0_db, fr.iterations))
            n_frames += 1
            if fr.unix_s is not None:
                t_min = fr.unix_s if t_min is None else min(t_min, fr.unix_s)
                t_max = fr.unix_s if t_max is None else max(t_max, fr.unix_s)
        for p in tp.feed(fr.raw):
            sp = p.packet
            obt = p.pus.obt_s if p.pus else (p.time.obt_s if p.time else None)
            packet_rows.append((decode_id, sp.frame_index, frame_times.get(sp.frame_index), sp.vcid, sp.apid, p.kind,
                                sp.sequence_count, sp.length, p.pus.service if p.pus else None,
                                p.pus.subtype if p.pus else None, obt if obt is None or math.isfinite(obt) else None,
                                p.pec_ok, sp.raw))
            n_packets += 1
        if len(frame_times) > 4096:  # a packet starts at most a few frames back
            for k in list(frame_times)[:-1024]:
                del frame_times[k]
        if len(frame_rows) >= CHUNK_ROWS:
            _insert_rows(conn, "frames", FRAME_COLS, frame_rows)
            frame_rows = []
        if len(packet_rows) >= CHUNK_ROWS:
            _insert_rows(conn, "packets", PACKET_COLS, packet_rows)
            packet_rows = []
    tp.finish()
    _insert_rows(conn, "frames", FRAME_COLS, frame_rows)
    _insert_rows(conn, "packets", PACKET_COLS, packet_rows)
    return n_frames, n_packets, t_min, t_max


def _ensure_mission(conn: Connection, name: str) -> None:
    if conn.execute(select(Mission.name).where(Mission.name == name)).first() is None:
        conn.execute(insert(Mission).values(name=name, embargo_days=30.0))


def _catalogue(conn: Connection, prep: _Prepared, user: str | None) -> IngestResult:
    mission = prep.mission.name.upper()
    _ensure_mission(conn, mission)
    rec_id = conn.execute(select(Recording.id).where(Recording.checksum == prep.recording["checksum"])).scalar()
    if rec_id is None:
        rec_id = conn.execute(insert(Recording).values(**prep.recording).returning(Recording.id)).scalar_one()
    elif prep.recording.get("path"):  # the recording as the newest decode found it (it may have moved)
        conn.execute(update(Recording).where(Recording.id == rec_id).values(path=prep.recording["path"]))
    if conn.dialect.name == "postgresql":  # serialize versions of one recording
        conn.execute(select(Recording.id).where(Recording.id == rec_id).with_for_update())
    version = (conn.execute(select(func.max(Decode.version)).where(Decode.recording_id == rec_id)).scalar() or 0) + 1
    conn.execute(update(Decode).where(Decode.recording_id == rec_id).values(is_latest=False))
    decode_id = conn.execute(insert(Decode).values(
        recording_id=rec_id, content_sha256=prep.content_sha256, version=version, is_latest=True,
        source=prep.source, name=prep.name, mission=mission, ingested_unix_s=time.time(), ingested_by=user,
        n_frames=0, n_packets=0, **prep.decode).returning(Decode.id)).scalar_one()
    t_min = t_max = None
    if prep.frames_path is not None and prep.packets_csv is not None:
        n_frames, frame_s = _frames_from_file(conn, decode_id, prep)
        n_packets = _packets_from_csv(conn, decode_id, prep, frame_s)
        if np.isfinite(frame_s).any():
            t_min, t_max = float(np.nanmin(frame_s)), float(np.nanmax(frame_s))
    else:
        n_frames, n_packets, t_min, t_max = _reassembled(conn, decode_id, prep)
    if os.environ.get(FAULT_ENV) == "pause_in_transaction":  # pragma: no cover - killed by the test
        print("heradecode archive: paused in transaction", file=sys.stderr, flush=True)
        time.sleep(600)
    _insert_rows(conn, "carrier_points", CARRIER_COLS,
                 [(decode_id, c["unix_s"], c["doppler_hz"], c["cn0_dbhz"], c["locked"]) for c in prep.carrier])
    types = set()
    for path, name, kind, level, digest in prep.files:
        dt = data_type(mission, kind, level)
        types.add(dt)
        conn.execute(insert(Product).values(decode_id=decode_id, name=name, kind=kind, level=level, data_type=dt,
                                            sha256=digest, size_bytes=path.stat().st_size))
    if n_frames:
        types.add(data_type(mission, "frames", LEVEL_FRAMES))
    if n_packets:
        types.add(data_type(mission, "packets", LEVEL_PACKETS))
    if prep.carrier:
        types.add(data_type(mission, "radio_science", LEVEL_RADIO_SCIENCE))
    values: dict[str, Any] = {"n_frames": n_frames, "n_packets": n_packets}
    if t_min is not None:
        values.update(start_unix_s=t_min, stop_unix_s=t_max)
    conn.execute(update(Decode).where(Decode.id == decode_id).values(**values))
    conn.execute(insert(AuditEvent).values(unix_s=time.time(), user=user, action="ingest", decode_id=decode_id,
                                           detail=f"{prep.source} {prep.name} version {version}"))
    return IngestResult(decode_id, rec_id, version, True, n_frames, n_packets, len(prep.files), tuple(sorted(types)))


def _existing(conn: Connection, content_sha256: str) -> IngestResult | None:
    row = conn.execute(select(Decode.id, Decode.recording_id, Decode.version, Decode.n_frames, Decode.n_packets)
                       .where(Decode.content_sha256 == content_sha256)).first()
    if row is None:
        return None
    n_prod = conn.execute(select(func.count()).select_from(Product).where(Product.decode_id == row.id)).scalar_one()
    types = tuple(sorted(r[0] for r in conn.execute(select(Product.data_type).where(Product.decode_id == row.id)
                                                    .distinct())))
    return IngestResult(row.id, row.recording_id, row.version, False, row.n_frames, row.n_packets, n_prod, types)


def open_catalogue(archive_dir: str | Path, db_url: str | None = None):
    """The engine of an initialised archive; UserError when it is not one."""
    folder = Path(archive_dir)
    if not folder.is_dir():
        raise UserError(f"no such archive folder: {folder}; run 'heradecode archive init --archive {folder}'")
    engine = _db.get_engine(_db.database_url(folder, db_url))
    try:
        ready = _db.is_initialised(engine)
    except OperationalError as exc:
        raise UserError(f"cannot open the catalogue: {str(exc.orig).splitlines()[0]}") from None
    if not ready:
        raise UserError(f"the catalogue of {folder} is not initialised: run 'heradecode archive init'")
    if not _db.is_current(engine):
        raise UserError(f"the catalogue of {folder} has an older schema: run 'heradecode archive init --archive "
                        f"{folder}' to upgrade it")
    return engine


def ingest_prepared(archive_dir: str | Path, prep: _Prepared, *, db_url: str | None = None,
                    user: str | None = None, attempts: int = 20) -> IngestResult:
    """Store and catalogue a checked input (idempotent, retried on collisions)."""
    engine = open_catalogue(archive_dir, db_url)
    with _db_writer(engine).begin() as conn:
        found = _existing(conn, prep.content_sha256)
        if found is not None:
            if prep.recording.get("path"):  # where the recording is now (None before revision 0003, or moved)
                conn.execute(update(Recording).where(Recording.id == found.recording_id)
                             .values(path=prep.recording["path"]))
            conn.execute(insert(AuditEvent).values(unix_s=time.time(), user=user, action="ingest",
                                                   decode_id=found.decode_id, detail=f"{prep.name}: already archived"))
            return found
    store = ContentStore(Path(archive_dir) / "store")
    # the files are copied to the store's tmp/ by a thread while the rows are catalogued (the disk
    # and the CPU work at once), and moved into place after the rows, before the commit
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="heradecode-store") as pool:
        staging = pool.submit(_stage_files, store, prep)
        try:
            result = _catalogue_and_store(engine, store, prep, staging, user, attempts)
        finally:
            try:
                left = staging.result()
            except UserError:
                left = {}
            for tmp in left.values():
                if tmp is not None:
                    tmp.unlink(missing_ok=True)
    if result.created and engine.dialect.name == "postgresql":
        _refresh_statistics(engine, result.n_packets)
    return result


def _refresh_statistics(engine, n_packets: int) -> None:
    """PostgreSQL after a bulk load: ``VACUUM`` the packets when they grew by 10 % or more, with ``ANALYZE``
    when they were never analysed or grew by half.

    What autovacuum would do a minute later, done at once: vacuum sets the visibility map, so the
    housekeeping index answers alone (index-only scans), and the table's size the planner uses; it
    skips the pages already all-visible, so its cost follows the new rows.  ANALYZE (the value
    statistics: which APIDs are common) samples the whole table, about 0.3 s at a million packets,
    so it runs only when the table changed a lot.  A failure here loses nothing: it is reported on
    stderr and left to autovacuum.
    """
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            row = conn.exec_driver_sql(
                "SELECT c.reltuples, s.last_analyze IS NULL AND s.last_autoanalyze IS NULL FROM pg_class c "
                "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'packets'").first()
            before, never_analysed = (row[0], row[1]) if row is not None else (-1.0, True)
            if never_analysed or before <= 0 or n_packets >= 0.5 * before:
                conn.exec_driver_sql("VACUUM (ANALYZE) packets")
            elif n_packets >= 0.1 * before:
                conn.exec_driver_sql("VACUUM packets")
    except DBAPIError as exc:  # pragma: no cover - a maintenance step
        print(f"heradecode archive: statistics not refreshed ({str(exc.orig).splitlines()[0]})", file=sys.stderr)


def _stage_files(store: ContentStore, prep: _Prepared) -> dict[Path, Path | None]:
    """Each hashed file of ``prep`` copied to the store's tmp/ (None: already stored); UserError when one changed."""
    staged: dict[Path, Path | None] = {}
    try:
        for path, _name, _kind, _level, digest in prep.files:
            stamp = prep.stamps.get(path)
            if stamp is not None:
                staged[path] = store.stage_hashed(path, digest, stamp)
    except ValueError:
        for tmp in staged.values():
            if tmp is not None:
                tmp.unlink(missing_ok=True)
        raise UserError(f"{path} changed while it was being ingested; nothing was ingested") from None
    return staged


def _catalogue_and_store(engine, store: ContentStore, prep: _Prepared, staging, user: str | None,
                         attempts: int) -> IngestResult:
    last: Exception | None = None
    for attempt in range(attempts):
        try:
            with _db_writer(engine).begin() as conn:
                found = _existing(conn, prep.content_sha256)
                if found is not None:
                    return found
                result = _catalogue(conn, prep, user)
                # the files go into the store before the rows are committed
                staged = staging.result()
                for path, name, _kind, _level, digest in prep.files:
                    stamp = prep.stamps.get(path)
                    tmp = staged.pop(path, None)
                    try:
                        if tmp is not None:
                            store.commit_staged(tmp, path, digest, stamp)
                        elif stamp is not None:  # hashed while checking: copied, not hashed again
                            store.put_hashed(path, digest, stamp)
                        elif store.put_file(path) != digest:
                            raise ValueError
                    except ValueError:
                        raise UserError(f"{path} changed while it was being ingested; nothing was ingested") \
                            from None
                return result
        except (IntegrityError, OperationalError, DBAPIError) as exc:
            last = exc
            time.sleep(0.05 * (attempt + 1))
    raise UserError(f"could not catalogue {prep.name}: {str(getattr(last, 'orig', last)).splitlines()[0]}")


def ingest_decode_folder(archive_dir: str | Path, folder: str | Path, *, db_url: str | None = None,
                         user: str | None = None) -> IngestResult:
    """Ingest one decode folder (``heradecode decode --out``) into the archive."""
    return ingest_prepared(archive_dir, prepare_decode_folder(folder), db_url=db_url, user=user)


def ingest_frame_file(archive_dir: str | Path, path: str | Path, *, mission: str = "hera",
                      db_url: str | None = None, user: str | None = None) -> IngestResult:
    """Ingest one ``.u8`` file of concatenated frames of ``mission``."""
    return ingest_prepared(archive_dir, prepare_frame_file(path, mission), db_url=db_url, user=user)

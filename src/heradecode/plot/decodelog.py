"""``decode.json``: the per-codeblock log that ``heradecode decode`` writes, read into numpy arrays.

Schema (one JSON object)::

    {"recording": "name", "mode": "high", "symbol_rate": 322560.0, "samp_rate": 6144000.0,
     "start_time_utc": "2024-10-07T17:06:31.000000000Z",
     "codeblocks": [
       {"start_sample": 12345, "unix_time": 1728320791.25, "time_utc": "2024-10-07T17:06:31.250000000Z",
        "polarity": 1, "sync_score": 0.93, "ebn0_db": 3.1, "esn0_db": -2.9, "iterations": 3,
        "crc_ok": true, "scid": 181, "vcid": 3, "vc_count": 17, "suspect": false}]}

``scid``/``vcid``/``vc_count`` are null when the CRC failed; they are -1 in
:class:`DecodeLog`.  Optional top-level ``center_freq_hz`` and ``downlink_freq_hz``
(Hz) are kept when present.  Unknown keys are ignored.  A codeblock without a usable
time (``time_utc`` or ``unix_time``) or ``crc_ok`` is skipped and counted in
``DecodeLog.skipped``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from heradecode.errors import UserError
from heradecode.io.recording import parse_utc, unix_seconds


@dataclass(frozen=True)
class DecodeLog:
    """The codeblocks of one decode, time-ordered, as parallel numpy arrays (-1 / NaN where absent)."""

    recording: str
    mode: str
    symbol_rate: float  # baud
    samp_rate: float  # samples/s
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


def decode_log_from_dict(data: Any, *, source: str = "decode.json") -> DecodeLog:
    """Build a :class:`DecodeLog` from the parsed ``decode.json`` object."""
    if not isinstance(data, dict):
        raise UserError(f"{source}: expected a JSON object with a 'codeblocks' list")
    blocks = data.get("codeblocks", [])
    if not isinstance(blocks, list):
        raise UserError(f"{source}: 'codeblocks' must be a list")
    start_time = None
    if data.get("start_time_utc"):
        try:
            start_time = parse_utc(str(data["start_time_utc"]))
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
        recording=str(data.get("recording") or ""),
        mode=str(data.get("mode") or ""),
        symbol_rate=_num(data.get("symbol_rate")),
        samp_rate=_num(data.get("samp_rate")),
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
        center_freq_hz=_num(data.get("center_freq_hz")),
        downlink_freq_hz=_num(data.get("downlink_freq_hz")),
        mission=str(data.get("mission") or ""),
    )


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

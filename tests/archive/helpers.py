"""Shared helpers of the archive and web tests: decode folders, a PostgreSQL 15 server, archives."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from heradecode.ccsds.mission import HERA
from heradecode.products.decodelog import CARRIER_DTYPE, DecodedCodeblock, DecodeWriter
from heradecode.products.telemetry import TelemetryProcessor

REPO = Path(__file__).resolve().parents[2]
HIGH = REPO / "recordings" / "hera" / "hera_high_rate_frames_2024_10_07_17_06_31.u8"
LOW = REPO / "recordings" / "hera" / "hera_low_rate_frames_2024_10_07_16_24_20.u8"
FRAME_LEN = 1113
PG_BIN = Path(os.environ.get("HERADECODE_PG_BIN", "/usr/lib/postgresql/15/bin"))


def frames_of(path: Path, first: int, count: int) -> list[bytes]:
    """``count`` frames of a real frame file from frame ``first`` on."""
    data = path.read_bytes()
    return [data[i * FRAME_LEN:(i + 1) * FRAME_LEN] for i in range(first, first + count)]


def make_decode_folder(out: Path, *, first: int = 0, count: int = 40, start_unix_s: float = 1728320791.0,
                       seed: int = 0, recording: str = "pass_a.sigmf-data", failed_every: int = 0,
                       step_s: float = 0.11) -> Path:
    """A decode folder written by the real product writer, from real Hera frames (synthetic times/Eb/N0)."""
    rng = np.random.default_rng(seed)
    writer = DecodeWriter(out, telemetry=TelemetryProcessor(out_dir=out))
    for i, frame in enumerate(frames_of(HIGH, first, count)):
        cb = DecodedCodeblock(start_sample=1000 + i * 17000, unix_time=start_unix_s + i * step_s, polarity=1,
                              sync_score=8.0, sync_reason="strong", esn0_db=float(rng.normal(-2, 0.2)),
                              ebn0_db=float(rng.normal(4, 0.2)), iterations=int(rng.integers(1, 5)),
                              crc_ok=False)
        if failed_every and i % failed_every == failed_every - 1:
            writer.add(cb)  # a codeblock whose CRC failed: logged, no frame
        else:
            writer.add(cb.with_frame(frame, HERA.scid))
    n = max(2, int(count * step_s) + 1)
    track = np.zeros(n, CARRIER_DTYPE)
    track["unix_time"] = start_unix_s + np.arange(n)
    track["doppler_hz"] = -47000 + rng.normal(0, 5, n)
    track["locked"] = True
    track["cn0_dbhz"] = 47 + rng.normal(0, 0.3, n)
    writer.add_track(track)
    writer.close({"recording": recording, "mode": "high", "symbol_rate": 322560.0, "samp_rate": 1536000.0,
                  "center_freq_hz": 8435.75e6, "downlink_freq_hz": 8435.75e6,
                  "start_time_utc": "2024-10-07T17:06:31.000000000Z", "duration_s": 60.0})
    return out


def require_services() -> bool:
    """True in CI, where service-backed tests must fail rather than skip."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or bool(os.environ.get("HERADECODE_REQUIRE_GNURADIO"))


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A throw-away PostgreSQL server (Debian's binaries) in a temporary folder on a loopback port."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="heradecode-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        full = (["runuser", "-u", "postgres", "--"] if self.as_root else []) + list(cmd)
        return subprocess.run(full, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> "PostgresServer":
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL binaries not found in {PG_BIN} (Debian: apt-get install postgresql)")
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "heradecode", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", "-l", str(self.dir / "log"),
                  "-o", f"-p {self.port} -h 127.0.0.1 -k {self.dir} -c fsync=off -c max_connections=60", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of a database of this server."""
        return f"postgresql+psycopg://heradecode@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database; return its URL."""
        import psycopg

        name = "t" + uuid.uuid4().hex[:12]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=heradecode dbname=postgres",
                             autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def start_postgres_or_skip():
    """Start a server; skip when that is impossible, except in CI where it fails."""
    server = PostgresServer()
    try:
        return server.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        shutil.rmtree(server.dir, ignore_errors=True)
        msg = f"PostgreSQL 15 could not be started: {detail.strip().splitlines()[-1] if detail.strip() else exc}"
        if require_services():
            pytest.fail(msg)
        pytest.skip(msg)


def new_archive(tmp: Path, db_url: str | None) -> Path:
    """An initialised archive folder (catalogue in ``db_url``, or SQLite in the folder)."""
    from heradecode.archive.catalogue import init_archive

    folder = tmp / "archive"
    init_archive(folder, db_url=db_url)
    return folder


def wait_until(pred, timeout_s: float = 30.0, step_s: float = 0.05) -> bool:
    """Poll ``pred`` until it is true or the time is out."""
    t_end = time.monotonic() + timeout_s
    while time.monotonic() < t_end:
        if pred():
            return True
        time.sleep(step_s)
    return False

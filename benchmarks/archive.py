"""Archive speed: ingest (packets/s) and housekeeping queries over 1 million packets, SQLite and PostgreSQL.

Decode folders of simulated Hera telemetry (``heradecode.sim.tmgen.generate_frames``: PUS-C
packets of APIDs 256, 260 and 264 in TM frames, 20,000 frames and about 67,000 packets a folder,
written by the real product writer, 92 MB of files each) are made first (not timed; ``--work DIR``
keeps them for the next run), then ingested one after the other into a fresh archive (timed:
checking and hashing every file, storing it, cataloguing frames, packets and carrier points).
Then the housekeeping time series (``heradecode.archive.query.housekeeping``: a pandas DataFrame
indexed by UTC) of each APID is read over the whole archive, best of 3, without and with the
packets' octets.  The APIDs' shares of the packets: 256 TC reports 12 %, 264 payload housekeeping
28 %, 260 platform housekeeping reports (service 3) 48 %, 260 with its events 60 %.

Targets: ingest >= 50 000 packets/s; one APID's housekeeping over 1 million packets < 1 s.
Wall-clock figures depend on what else the machine runs: the CPU time of the ingest (this
process, and the PostgreSQL server's processes when the server is the temporary one) and the
load average are printed beside them.

    python benchmarks/archive.py                       # 1 M packets, SQLite and a temporary PostgreSQL 15
    python benchmarks/archive.py --packets 50000 --backend sqlite
    python benchmarks/archive.py --work /tmp/bench     # keep the decode folders for the next run
    python benchmarks/archive.py --db postgresql://user@host/db     # an existing (empty) database

PostgreSQL: without --db a throw-away server is started with Debian's binaries
(/usr/lib/postgresql/15/bin), as the tests do (``fsync=off``, as there).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from heradecode.archive import ingest_decode_folder  # noqa: E402
from heradecode.archive.access import SYSTEM  # noqa: E402
from heradecode.archive.catalogue import init_archive  # noqa: E402
from heradecode.archive.ingest import open_catalogue  # noqa: E402
from heradecode.archive.query import count_query, housekeeping  # noqa: E402
from heradecode.products.decodelog import CARRIER_DTYPE, DecodedCodeblock, DecodeWriter  # noqa: E402
from heradecode.products.telemetry import TelemetryProcessor  # noqa: E402
from heradecode.sim.tmgen import generate_frames  # noqa: E402

FRAMES_PER_FOLDER = 20_000
# the series read: TC reports (12 % of the packets), payload housekeeping (27 %), platform
# housekeeping reports (49 %) and platform housekeeping with its events (61 %)
SERIES = ((256, None), (264, None), (260, 3), (260, None))
FRAME_S = 0.11  # high rate: one 1113-octet frame every ~0.11 s


def make_folder(out: Path, n_frames: int, seed: int, start_unix_s: float) -> int:
    """A decode folder of ``n_frames`` simulated frames; returns its packet count."""
    frames = generate_frames(n_frames, seed=seed, start_coarse_time=36000 + seed * 100_000)
    tp = TelemetryProcessor(out_dir=out)
    w = DecodeWriter(out, telemetry=tp)
    for i, f in enumerate(frames):
        cb = DecodedCodeblock(start_sample=i * 170_000, unix_time=start_unix_s + i * FRAME_S, polarity=1,
                              sync_score=8.0, sync_reason="strong", esn0_db=-2.0, ebn0_db=4.0, iterations=2,
                              crc_ok=False)
        w.add(cb.with_frame(f.tobytes(), 0xB5))
    n = int(n_frames * FRAME_S) + 1
    track = np.zeros(n, CARRIER_DTYPE)
    track["unix_time"] = start_unix_s + np.arange(n)
    track["locked"] = True
    w.add_track(track)
    w.close({"recording": f"bench_{seed}.sigmf-data", "mode": "high", "start_time_utc": "2024-10-07T00:00:00Z",
             "samp_rate": 1536000.0, "center_freq_hz": 8435.75e6, "duration_s": n_frames * FRAME_S})
    return tp.summary().to_dict()["packets_total"]


def store_only(folders: list[Path]) -> tuple[float, float]:
    """Time (s) and size (MB) of putting the folders' files alone into a content store (the disk's share)."""
    from heradecode.archive.store import ContentStore

    with tempfile.TemporaryDirectory(prefix="heradecode-bench-store-") as tmp:
        store = ContentStore(tmp)
        files = [p for f in folders for p in f.iterdir() if p.is_file()]
        t0 = time.perf_counter()
        for p in files:
            store.put_file(p)
        return time.perf_counter() - t0, sum(p.stat().st_size for p in files) / 1e6


def server_cpu_s(data_dir: Path | None) -> float:
    """CPU seconds used so far by a local PostgreSQL server (its postmaster and every child, live or ended)."""
    if data_dir is None:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pm = int((data_dir / "postmaster.pid").read_text().split()[0])
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            f = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(f[1])
        if pid == pm:
            total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])  # its own and its ended children's
        elif ppid == pm:
            total += int(f[11]) + int(f[12])
    return total / tick


def run(backend: str, db_url: str | None, folders: list[Path], n_packets: int, data_dir: Path | None = None) -> None:
    import pandas  # noqa: F401  (imported once, outside the timing)
    import pyarrow as pa
    import pyarrow.csv  # noqa: F401

    from heradecode.archive.pgcopy import encode_packets

    i, b = pa.array([], pa.int64()), pa.array([], pa.bool_())  # numba's compiled loop loaded outside the timing
    encode_packets(0, i, np.zeros(0), i, i, pa.array([], pa.string()), i, i, i, i, pa.array([], pa.float64()), b,
                   pa.array([], pa.string()))

    with tempfile.TemporaryDirectory(prefix="heradecode-bench-archive-") as tmp:
        arc = Path(tmp) / "archive"
        init_archive(arc, db_url=db_url)
        t0, c0, s0 = time.perf_counter(), time.process_time(), server_cpu_s(data_dir)
        got = 0
        for f in folders:
            got += ingest_decode_folder(arc, f, db_url=db_url).n_packets
        dt, cpu, server = time.perf_counter() - t0, time.process_time() - c0, server_cpu_s(data_dir) - s0
        where = "" if backend == "sqlite" else \
            (f", the server {server:.2f} s" if data_dir else ", the server not counted")
        print(f"{backend:10s} ingest: {got:,} packets in {len(folders)} decodes, {dt:.2f} s: "
              f"{got / dt:,.0f} packets/s (target >= 50,000); CPU: this process {cpu:.2f} s{where}, "
              f"{got / (cpu + server):,.0f} packets per CPU-s; load average now {os.getloadavg()[0]:.1f}")
        engine = open_catalogue(arc, db_url)
        with engine.connect() as conn:
            total = count_query(conn, SYSTEM, "packets")
            for apid, service in SERIES:
                best = {True: float("inf"), False: float("inf")}
                for _ in range(3):
                    for with_data in (True, False):
                        t0 = time.perf_counter()
                        df = housekeeping(conn, SYSTEM, apid, service=service, with_data=with_data)
                        best[with_data] = min(best[with_data], time.perf_counter() - t0)
                what = f"APID {apid}" + (f" service {service}" if service is not None else "")
                print(f"{backend:10s} housekeeping {what}: {len(df):,} of {total:,} packets ({len(df) / total:.0%}): "
                      f"{best[False]:.3f} s for the series, {best[True]:.3f} s with the packets' octets "
                      f"(target < 1 s at 1 M packets)")


def make_folders(root: Path, n_packets: int) -> tuple[list[Path], int]:
    """Decode folders holding about ``n_packets`` packets under ``root`` (folders already there are reused)."""
    folders: list[Path] = []
    made = 0
    t0 = time.perf_counter()
    while made < n_packets:
        # about 3.5 packets per frame
        n = min(FRAMES_PER_FOLDER, max(100, int((n_packets - made) / 3.4) + 50))
        f = root / f"d{len(folders)}_{n}"
        done = f / "summary.json"
        if done.is_file():
            made += json.loads(done.read_text())["packets_total"]
        else:
            shutil.rmtree(f, ignore_errors=True)
            made += make_folder(f, n, seed=len(folders), start_unix_s=1.7e9 + len(folders) * 86400.0)
        folders.append(f)
    print(f"{len(folders)} decode folders with {made:,} packets ready in {time.perf_counter() - t0:.1f} s "
          f"(not timed below)")
    return folders, made


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=1_000_000, help="packets to ingest (about)")
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--db", help="PostgreSQL URL to use instead of a temporary server")
    ap.add_argument("--work", help="keep the generated decode folders here and reuse them (default: temporary)")
    args = ap.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="heradecode-bench-decodes-") as tmp:
        root = Path(args.work) if args.work else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        folders, made = make_folders(root, args.packets)
        dt, mb = store_only(folders)
        print(f"files alone: {mb:.0f} MB into a content store in {dt:.2f} s ({made / dt:,.0f} packets/s "
              f"if nothing else were done)")
        if args.backend in ("sqlite", "both"):
            run("sqlite", None, folders, made)
        if args.backend in ("postgresql", "both"):
            if args.db:
                run("postgresql", args.db, folders, made)
            else:
                from tests.archive.helpers import PostgresServer

                server = PostgresServer().start()
                try:
                    run("postgresql", server.new_database(), folders, made, data_dir=server.data)
                finally:
                    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

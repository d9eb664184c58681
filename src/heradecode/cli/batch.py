"""``heradecode batch``: decode many recordings, on local processes or a Dask cluster."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path

from heradecode.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="decode many recordings (files, folders, globs) on local processes or a Dask cluster",
        description="Decode many recordings: every recording is cut into overlapping segments, the segments of "
                    "all of them are scheduled together (a local process pool, a Dask LocalCluster or an "
                    "existing Dask scheduler), and a product folder per recording is written as "
                    "'heradecode decode' writes it, with batch.json listing how each one went.",
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="recordings (SigMF), folders (searched for *.sigmf-meta) or globs")
    p.add_argument("--mission", default="hera", help="mission profile (default: hera)")
    p.add_argument("--mode", choices=["low", "high", "auto"], default="auto",
                   help="symbol rate of every recording (default: detected per recording)")
    p.add_argument("--doppler", type=Path, metavar="FILE",
                   help="Doppler profile ('unix_time hz' lines) removed from every recording")
    p.add_argument("--out", type=Path, default=Path("batch_decoded"), metavar="DIR",
                   help="a product folder per recording and batch.json go here (default: ./batch_decoded)")
    p.add_argument("--archive", type=Path, metavar="DIR", help="also ingest every decoded folder into this archive")
    p.add_argument("--where", "--query", dest="where", metavar="EXPR",
                   help="with --archive: also decode the catalogued recordings whose latest decode matches this "
                        "filter (as 'heradecode archive query --where', e.g. \"mission=hera and station~dsa\"; "
                        "'all' for every one); those whose files are gone are reported and skipped")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="local worker processes (default: all cores; with --cluster local: Dask workers)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on an existing Dask cluster")
    p.add_argument("--cluster", choices=["local"], help="start a Dask LocalCluster on this machine")
    p.add_argument("--resume", action="store_true",
                   help="skip recordings already decoded in --out with the same input checksum and parameters")
    p.add_argument("--segment-s", type=float, default=60.0, metavar="S",
                   help="longest span of signal one task decodes (default: 60 s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _ingest_function(archive: Path | None):
    if archive is None:
        return None
    from heradecode.archive import ingest_decode_folder

    return lambda folder: ingest_decode_folder(archive, folder)


def _doppler_products(doppler: Path | None):
    """With --doppler: doppler.json and the Doppler residuals in every folder, as ``heradecode decode`` writes them."""
    if doppler is None:
        return None
    from heradecode.cli.decode import _write_residuals
    from heradecode.cli.doppler import save_request
    from heradecode.io.dopplerfile import read_doppler_profile

    profile = read_doppler_profile(doppler)

    def write(folder: Path, recording, carrier) -> None:
        save_request(folder / "doppler.json", None, doppler_file=str(doppler.resolve()))
        with contextlib.redirect_stdout(io.StringIO()):  # decode's one-line residual report: not per recording
            _write_residuals(folder, carrier, profile, recording.receiver_offset_hz)

    return write


def _with_archive_query(args: argparse.Namespace, paths: list[Path]):
    """``paths`` plus the catalogued recordings --where selects; one line per missing one. (paths, missing)"""
    from heradecode.batch import archive_recordings
    from heradecode.batch.inputs import recording_key

    if args.archive is None:
        raise UserError("--where selects catalogued recordings: give the archive with --archive DIR")
    where = None if args.where.strip().lower() in ("", "all") else args.where
    found, missing = archive_recordings(args.archive, where)
    for m in missing:
        print(f"heradecode batch: archive recording {m.name} (id {m.recording_id}) skipped: {m.reason}",
              file=sys.stderr)
    if not found and not missing and not paths:
        raise UserError(f"no catalogued recording of {args.archive} matches {args.where!r}")
    keys = {recording_key(p) for p in paths}
    for p in found:
        if recording_key(p) not in keys:
            keys.add(recording_key(p))
            paths.append(p)
    if missing:
        print(f"heradecode batch: {len(missing)} catalogued recording{'s' if len(missing) != 1 else ''} missing, "
              f"{len(found)} found", file=sys.stderr)
    return paths, missing


def make_runner(args: argparse.Namespace):
    """The executor the options ask for: a local pool, a Dask LocalCluster, or an existing scheduler."""
    from heradecode.batch import DaskRunner, LocalRunner

    if args.workers is not None and args.workers < 0:
        raise UserError(f"--workers must be 0 (all cores) or more, not {args.workers}")
    workers = (os.cpu_count() or 1) if not args.workers else args.workers
    if args.scheduler is not None and args.cluster is not None:
        raise UserError("give either --scheduler or --cluster local, not both")
    if args.scheduler is not None:
        if "://" not in args.scheduler and ":" not in args.scheduler:
            raise UserError(f"--scheduler needs an address like tcp://HOST:PORT, not {args.scheduler!r}")
        return DaskRunner(args.scheduler)
    if args.cluster == "local":
        return DaskRunner(None, local_workers=workers)
    return LocalRunner(workers)


class _Display:
    """tqdm bar over segments (total grows as recordings are planned), with recordings, frames and rate."""

    def __init__(self, n_recordings: int, enabled: bool) -> None:
        self.n_recordings = n_recordings
        self.done = 0
        self.frames = 0
        self.signal_s = 0.0
        self.t0 = time.monotonic()
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=0, unit="seg", desc="segments", file=sys.stderr, dynamic_ncols=True)

    def _postfix(self) -> None:
        if self.bar is None:
            return
        rate = self.signal_s / max(time.monotonic() - self.t0, 1e-9)
        self.bar.set_postfix_str(f"recordings {self.done}/{self.n_recordings}, frames {self.frames}, "
                                 f"{rate:.2f} s of signal/s")

    def on_plan(self, job) -> None:
        if self.bar is not None:
            self.bar.total += job.segments
            self.bar.refresh()
        for w in job.warnings:
            self.write(f"heradecode batch: warning: {job.name}: {w}")

    def on_segment(self, job, res) -> None:
        self.frames += sum(1 for cb in res.codeblocks if cb.crc_ok and not cb.suspect)
        seg = job.plan.segments[job.next_segment - 1]
        self.signal_s += (seg.stop - seg.start) / job.plan.samp_rate
        if self.bar is not None:
            self.bar.update(1)
        self._postfix()

    def on_recording(self, job) -> None:
        self.done += 1
        if job.status == "failed":
            self.write(f"heradecode batch: {job.name}: failed: {job.reason}")
        self._postfix()

    def write(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def summary_table(report: dict) -> str:
    """The end-of-batch table: one line per recording, then the totals."""
    rows = report["recordings"]
    width = max([len("recording"), *(len(r["name"]) for r in rows)])
    lines = [f"{'recording':<{width}}  {'status':<11}  {'mode':<4}  {'frames':>6}  {'signal s':>8}  "
             f"{'worker s':>8}  reason"]
    for r in rows:
        lines.append(f"{r['name']:<{width}}  {r['status']:<11}  {r['mode'] or '-':<4}  {r['frames']:>6}  "
                     f"{r['duration_s']:>8.1f}  {r['seconds']:>8.1f}  {r['reason']}")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    frames = sum(r["frames"] for r in rows if r["status"] != "skipped")
    rate = report["signal_s"] / max(report["wall_s"], 1e-9)
    lines.append(f"{len(rows)} recordings: " + ", ".join(f"{n} {s}" for s, n in counts.items())
                 + f"; {frames} frames decoded in {report['wall_s']:.1f} s ({rate:.2f} s of signal per s, "
                 f"{report['runner']}, {report['workers']} worker{'s' if report['workers'] != 1 else ''})")
    missing = report.get("missing_from_archive") or []
    if missing:
        lines.append(f"{len(missing)} catalogued recording{'s' if len(missing) != 1 else ''} missing from disk, "
                     f"not decoded: {', '.join(m['name'] for m in missing)}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from heradecode.batch import Batch, BatchEvents, BatchOptions, find_recordings
    from heradecode.missions import load_mission

    load_mission(args.mission)  # an unknown mission is a one-line error before anything starts
    if args.segment_s <= 0:
        raise UserError(f"--segment-s must be positive, not {args.segment_s:g}")
    if args.doppler is not None and not args.doppler.is_file():
        raise UserError(f"no such Doppler file: {args.doppler}")
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"--out must be a directory: {args.out} is a file")
    ingest = _ingest_function(args.archive)
    if not args.inputs and args.where is None:
        raise UserError("give recordings, folders or globs, or --archive DIR --where EXPR")
    paths = find_recordings(args.inputs)
    if args.inputs and not paths:
        raise UserError(f"no recordings found in {' '.join(args.inputs)}")
    missing = []
    if args.where is not None:
        paths, missing = _with_archive_query(args, paths)
    options = BatchOptions(mode=args.mode, doppler_path=str(args.doppler) if args.doppler else None,
                           mission=args.mission.lower(), segment_s=args.segment_s)
    display = _Display(len(paths), enabled=not args.quiet and sys.stderr.isatty())
    batch = Batch(paths, args.out, options, resume=args.resume, ingest=ingest,
                  events=BatchEvents(on_plan=display.on_plan, on_segment=display.on_segment,
                                     on_recording=display.on_recording),
                  extra_products=_doppler_products(args.doppler), missing=missing)
    runner = make_runner(args)
    if getattr(runner, "dashboard", None):
        print(f"heradecode batch: Dask dashboard at {runner.dashboard}", file=sys.stderr)
    try:
        report = batch.run(runner)
    except KeyboardInterrupt:
        display.close()
        print(summary_table(batch.report()))
        print(f"heradecode batch: interrupted; finished recordings kept, batch.json in {args.out}/ "
              f"(--resume decodes the rest)", file=sys.stderr)
        return 130
    display.close()
    print(summary_table(report))
    print(f"products and batch.json written to {args.out}/")
    statuses = {r["status"] for r in report["recordings"]}
    return 0 if statuses <= {"ok", "skipped"} and not missing else 1

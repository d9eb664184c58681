"""Batch decoding: many recordings, their segments scheduled together on one executor.

A batch is a list of recordings.  Each recording is first *planned* by a worker
(:func:`plan_recording`: opened, its mode detected, cut into the overlapping segments of
:func:`heradecode.receiver.plan_segments`), then each segment is *decoded* by a worker
(:func:`decode_segment_task`).  A task names its recording by path and its segment by
sample offsets: no samples go through the executor or the Dask scheduler, only the task
description (a few hundred bytes) and the decoded codeblocks coming back.  Segments of
every recording are queued together, so that workers stay busy across recordings; the
results of each recording are merged in order (codeblocks are kept by the segment their
marker starts in, so none is lost or repeated at the seams) and written as the product
folder ``heradecode decode`` writes.

Executors: any :class:`concurrent.futures.Executor`.  :class:`LocalRunner` is a local
process pool that is recreated (and its unfinished tasks resubmitted) when a worker
process dies; :class:`DaskRunner` uses ``distributed.Client.get_executor()`` (a worker that
dies has its tasks rescheduled by the Dask scheduler on the others).  A task that kills its
worker :data:`MAX_ATTEMPTS` times fails its recording, not the batch.

Resume: ``batch.json`` in the output folder lists every recording with its status, its
input checksum and the decode parameters.  A recording is skipped by a resumed batch when
the previous entry says ``ok`` or ``no frames``, its product folder holds ``decode.json``,
and both the checksum and the parameters are unchanged.  Rows of recordings decoded into the
same folder by an earlier batch (same parameters) that this one does not name are kept, under
``earlier_recordings``.  The input checksum is cheap: for
every file of the recording (data and metadata), its name, size and modification time,
and the SHA-256 of the whole metadata files and of the first and last MiB of the data
files (:func:`input_checksum`).
"""

from __future__ import annotations

import concurrent.futures as cf
import glob
import hashlib
import json
import logging
import multiprocessing
import os
import signal
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from heradecode import __version__
from heradecode.errors import NothingDecoded, UserError

BATCH_FILE = "batch.json"  #: the batch's machine-readable report, in the output folder
MAX_ATTEMPTS = 3  #: a task whose worker process dies this many times fails its recording
CHECKSUM_EDGE_BYTES = 1 << 20  #: bytes hashed at the start and at the end of every data file
DONE_STATUSES = ("ok", "no frames")  #: statuses a resumed batch does not decode again
#: recordings found in a folder: SigMF metadata files (a ..._0y partner of a ..._0x is not listed twice)
FOLDER_PATTERNS = ("*.sigmf-meta",)


# ---------------------------------------------------------------------- what the workers do


@dataclass(frozen=True)
class BatchOptions:
    """Decode parameters shared by every recording of a batch (part of the resume fingerprint)."""

    mode: str = "auto"  #: 'low', 'high' or 'auto' (detected per recording)
    doppler_path: str | None = None  #: Doppler profile file ('unix_time hz' lines) removed from every recording
    mission: str = "hera"  #: mission profile name
    segment_s: float = 60.0  #: longest segment (s of signal) one task decodes
    pll_bandwidth_hz: float = 15.0  #: carrier loop bandwidth (Hz)
    max_iterations: int = 10  #: turbo iterations at most

    def fingerprint(self) -> dict[str, Any]:
        """The parameters a resumed batch must share with the previous one (plus the Doppler file's checksum)."""
        doc = asdict(self)
        if self.doppler_path is not None:
            doc["doppler_sha256"] = _sha256_file(Path(self.doppler_path))
        doc["heradecode"] = __version__
        return doc


def mission_profile(name: str):
    """The :class:`~heradecode.ccsds.mission.MissionProfile` called ``name`` (UserError when unknown)."""
    from heradecode.ccsds import mission as missions

    profile = getattr(missions, name.upper(), None)
    if profile is None or not isinstance(profile, missions.MissionProfile):
        raise UserError(f"unknown mission {name!r} (known: hera)")
    return profile


def receiver_config(options: BatchOptions, mode: str):
    """The :class:`~heradecode.receiver.ReceiverConfig` a batch decodes with (as ``heradecode decode`` would)."""
    from heradecode.receiver import ReceiverConfig

    mission = mission_profile(options.mission)
    return ReceiverConfig(mode=mode, downlink_freq_hz=mission.downlink_freq_hz,
                          pll_bandwidth_hz=options.pll_bandwidth_hz, max_iterations=options.max_iterations,
                          decoder_threads=1)


@dataclass(frozen=True)
class RecordingPlan:
    """A recording as a worker planned it: mode and segments (sample offsets)."""

    path: str
    mode: str
    num_samples: int
    samp_rate: float
    duration_s: float
    segments: tuple  #: :class:`heradecode.receiver.Segment` s, in order
    warnings: tuple[str, ...] = ()  #: warnings opening or planning gave (one line each)
    seconds: float = 0.0  #: worker time spent planning (s)


@dataclass
class SegmentResult:
    """What a worker sends back for one segment: the codeblocks kept, carrier track rows, figures."""

    codeblocks: list
    track: np.ndarray
    stats: Any  #: :class:`heradecode.receiver.ReceiverStats` of the worker's receiver (overlaps included)
    seconds: float = 0.0  #: worker time spent (s)


@lru_cache(maxsize=8)
def _open_cached(path: str, stamp: tuple):
    from heradecode.io import open_recording

    return open_recording(Path(path), allow_truncated=True)


def _file_stamp(path: str) -> tuple:
    try:
        st = os.stat(path)
        return st.st_size, st.st_mtime_ns
    except OSError:
        return -1, -1


def open_batch_recording(path: str | Path):
    """Open a recording as the batch does (truncated data files allowed); reopened only when the file changes."""
    return _open_cached(str(path), _file_stamp(str(path)))


@lru_cache(maxsize=4)
def _doppler_cached(path: str, stamp: tuple):
    from heradecode.io.dopplerfile import read_doppler_profile

    return read_doppler_profile(Path(path))


def _doppler(options: BatchOptions):
    if options.doppler_path is None:
        return None
    return _doppler_cached(options.doppler_path, _file_stamp(options.doppler_path))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def plan_recording(path: str, options: BatchOptions) -> RecordingPlan:
    """Worker task: open a recording, detect its mode, cut it into segments (UserError/NothingDecoded if it cannot)."""
    from heradecode.receiver import SYMBOL_RATES, detect_mode, plan_segments

    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = open_batch_recording(path)
        if rec.num_samples == 0:
            raise NothingDecoded("the recording holds no samples")
        doppler = _doppler(options)
        mode = options.mode
        if mode == "auto":
            try:
                mode = detect_mode(rec, receiver_config(options, "high"), doppler=doppler)
            except UserError as exc:  # read, but no signal to tell the mode from
                raise NothingDecoded(str(exc)) from None
        elif mode not in SYMBOL_RATES:
            raise UserError(f"mode must be one of {', '.join(SYMBOL_RATES)} or auto, got {mode!r}")
        config = receiver_config(options, mode)
        # two workers or more: the plan does not depend on how many there are (same results on any executor)
        segments = plan_segments(rec, config, workers=2, segment_s=options.segment_s)
    notes = tuple(dict.fromkeys(_one_line(w.message) for w in caught))
    return RecordingPlan(path=str(path), mode=mode, num_samples=rec.num_samples, samp_rate=rec.samp_rate,
                         duration_s=rec.duration_s, segments=tuple(segments), warnings=notes,
                         seconds=time.perf_counter() - t0)


def decode_segment_task(path: str, options: BatchOptions, mode: str, segment) -> SegmentResult:
    """Worker task: decode one segment of a recording, read by path and sample offsets."""
    from heradecode.receiver import decode_segment

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reported once by the planning task
        rec = open_batch_recording(path)
        cbs, track, stats = decode_segment(rec, receiver_config(options, mode), segment, doppler=_doppler(options),
                                           mission=mission_profile(options.mission), fix="search")
    return SegmentResult(cbs, track, stats, time.perf_counter() - t0)


# ---------------------------------------------------------------------- executors


def _init_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    logging.getLogger("heradecode").setLevel(logging.WARNING)  # no per-recording info lines under the progress bar


class LocalRunner:
    """A local process pool; :meth:`restart` replaces it when one of its processes died."""

    kind = "local"
    dashboard: str | None = None

    def __init__(self, workers: int) -> None:
        self.workers = max(1, int(workers))
        self.restarts = 0
        self._ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                                else "spawn")
        self.pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=self._ctx, initializer=_init_worker)

    def submit(self, fn: Callable, *args) -> cf.Future:
        """Queue ``fn(*args)`` on a worker process."""
        return self.pool.submit(fn, *args)

    def restart(self) -> None:
        """Replace a broken pool by a new one."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new_pool()
        self.restarts += 1

    def close(self, cancel: bool = False) -> None:
        """Shut the pool down; ``cancel`` also stops running tasks (their worker processes are ended)."""
        if cancel:
            procs = list(getattr(self.pool, "_processes", {}).values())  # no public handle on them
            self.pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(5)
        else:
            self.pool.shutdown(wait=True)


class DaskRunner:
    """A Dask cluster through ``Client.get_executor()``: ``--scheduler ADDRESS`` or a LocalCluster."""

    kind = "dask"

    def __init__(self, scheduler: str | None = None, *, local_workers: int = 2, timeout_s: float = 30.0) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise UserError("Dask support not installed (pip install distributed)") from None
        self.cluster = None
        if scheduler is None:
            dashboard = ":0" if _has_bokeh() else None
            self.cluster = LocalCluster(n_workers=max(1, local_workers), threads_per_worker=1, processes=True,
                                        host="127.0.0.1", dashboard_address=dashboard, silence_logs=40)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(scheduler, timeout=timeout_s)
            except (OSError, TimeoutError) as exc:
                raise UserError(f"cannot reach the Dask scheduler at {scheduler} ({_one_line(exc)})") from None
        self.executor = self.client.get_executor(pure=False)
        self.dashboard = None  #: the dashboard's address (None when the scheduler serves none)
        if "dashboard" in self.client.scheduler_info().get("services", {}):
            self.dashboard = self.client.dashboard_link
        self.restarts = 0

    @property
    def workers(self) -> int:
        """Workers in the cluster now."""
        return len(self.client.scheduler_info().get("workers", {}))

    def submit(self, fn: Callable, *args) -> cf.Future:
        """Queue ``fn(*args)`` on the cluster."""
        return self.executor.submit(fn, *args)

    def restart(self) -> None:  # the scheduler reschedules the tasks of a dead worker itself
        raise RuntimeError("a Dask executor does not break")

    def close(self, cancel: bool = False) -> None:
        """Leave the cluster (and stop it when it is our LocalCluster); ``cancel`` drops queued tasks."""
        try:
            self.executor.shutdown(wait=not cancel)
        finally:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()


def _has_bokeh() -> bool:
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------- inputs


_GLOB_CHARS = set("*?[")


def find_recordings(inputs: Iterable[str | Path]) -> list[Path]:
    """The recordings named by ``inputs``: files, folders (their SigMF recordings, recursively) and globs.

    A ``..._0y`` file whose ``..._0x`` partner is listed too is dropped (the pair is one recording);
    a name that matches nothing is kept, so that the batch reports it.
    """
    found: list[Path] = []
    for item in inputs:
        text = str(item)
        if _GLOB_CHARS & set(text) and not Path(text).exists():
            matches = sorted(glob.glob(text, recursive=True))
            for m in matches:
                found += _expand(Path(m))
            if not matches:
                found.append(Path(text))
        else:
            found += _expand(Path(text))
    out: list[Path] = []
    seen: set[Path] = set()
    for p in found:
        key = _recording_key(p)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _expand(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for pat in FOLDER_PATTERNS for p in path.rglob(pat))
    return [path]


def _recording_key(path: Path) -> Path:
    """The same key for every file of one recording (meta, data, ``_0x`` and ``_0y``)."""
    name = path.name
    for ext in (".sigmf-meta", ".sigmf-data", ".sigmf-collection"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    for suffix in ("_0x", "_0y"):
        if name.endswith(suffix):
            partner = path.parent / (name[: -len(suffix)] + ("_0x" if suffix == "_0y" else "_0y") + ".sigmf-meta")
            if partner.exists():
                name = name[: -len(suffix)]
    return (path.parent / name).resolve()


def recording_name(path: Path) -> str:
    """The product folder name of a recording: its base name without SigMF extension or ``_0x``/``_0y``."""
    name = path.name.split(".sigmf")[0]
    for suffix in ("_0x", "_0y"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name or "recording"


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def input_files(path: Path) -> list[Path]:
    """Every file a recording is made of (its data and metadata files; only ``path`` when it cannot be opened)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rec = open_batch_recording(path)
        files = [*rec.meta_paths, *rec.paths]
    except Exception:  # reported by the planning task
        files = [path]
    return sorted(dict.fromkeys(Path(p).resolve() for p in files))


def input_checksum(path: Path) -> str:
    """A cheap fingerprint of a recording's files: name, size, mtime; SHA-256 of metadata, first/last MiB of data."""
    h = hashlib.sha256()
    for p in input_files(path):
        h.update(str(p).encode())
        try:
            st = p.stat()
        except OSError as exc:
            h.update(f"missing {exc.errno}".encode())
            continue
        h.update(f"{st.st_size} {st.st_mtime_ns}".encode())
        whole = st.st_size <= 2 * CHECKSUM_EDGE_BYTES or p.name.endswith((".sigmf-meta", ".sigmf-collection"))
        try:
            with open(p, "rb") as f:
                if whole:
                    h.update(f.read())
                else:
                    h.update(f.read(CHECKSUM_EDGE_BYTES))
                    f.seek(st.st_size - CHECKSUM_EDGE_BYTES)
                    h.update(f.read(CHECKSUM_EDGE_BYTES))
        except OSError as exc:
            h.update(f"unreadable {exc.errno}".encode())
    return h.hexdigest()


# ---------------------------------------------------------------------- the batch


@dataclass
class RecordingJob:
    """One recording of a batch and how it went."""

    path: Path
    name: str
    out_dir: Path
    checksum: str = ""
    status: str = "queued"  #: queued, running, ok, no frames, failed, skipped, interrupted
    reason: str = ""
    mode: str = ""
    frames: int = 0
    failed_crc: int = 0
    suspect: int = 0
    duration_s: float = 0.0  #: signal seconds
    seconds: float = 0.0  #: worker seconds spent on it
    wall_s: float = 0.0  #: from its planning to its products written
    segments: int = 0
    warnings: list[str] = field(default_factory=list)
    # live state (not reported)
    plan: RecordingPlan | None = field(default=None, repr=False)
    results: dict = field(default_factory=dict, repr=False)
    next_segment: int = 0
    writer: Any = field(default=None, repr=False)
    telemetry: Any = field(default=None, repr=False)
    recording: Any = field(default=None, repr=False)
    progress: Any = field(default=None, repr=False)
    started: float = 0.0
    skipped_status: str = ""  #: a skipped recording's status when it was decoded

    @property
    def decoded_status(self) -> str:
        """'ok' or 'no frames' when the folder holds a whole decode (now or from an earlier batch), else ''."""
        if self.status in DONE_STATUSES:
            return self.status
        return self.skipped_status if self.status == "skipped" else ""

    def to_dict(self) -> dict[str, Any]:
        """One flat row of ``batch.json``."""
        return {"recording": str(self.path), "name": self.name, "out": str(self.out_dir), "status": self.status,
                "decoded_status": self.decoded_status, "reason": self.reason, "mode": self.mode,
                "frames": self.frames, "failed_crc": self.failed_crc,
                "suspect": self.suspect, "segments": self.segments, "duration_s": round(self.duration_s, 6),
                "seconds": round(self.seconds, 3), "wall_s": round(self.wall_s, 3), "checksum": self.checksum,
                "warnings": self.warnings}


@dataclass
class BatchEvents:
    """Callbacks of a running batch (progress display); every one is optional."""

    on_plan: Callable[[RecordingJob], None] | None = None  #: a recording was planned (its segments are known)
    on_segment: Callable[[RecordingJob, SegmentResult], None] | None = None  #: a segment was merged
    on_recording: Callable[[RecordingJob], None] | None = None  #: a recording finished (any status)


class Batch:
    """Decodes a list of recordings on a runner (:class:`LocalRunner` or :class:`DaskRunner`) into ``out_dir``.

    ``ingest(folder)`` is called for every recording decoded (an archive); ``extra_products(folder,
    recording, carrier)`` after its folder is written (the command line adds the Doppler residuals there).
    """

    def __init__(self, paths: list[Path], out_dir: Path, options: BatchOptions = BatchOptions(), *,
                 resume: bool = False, ingest: Callable[[Path], None] | None = None,
                 events: BatchEvents = BatchEvents(),
                 extra_products: Callable[[Path, Any, Any], None] | None = None) -> None:
        self.out_dir = Path(out_dir)
        #: called with (folder, recording, 1 s carrier points) after a folder's products are written
        self.extra_products = extra_products
        self.options = options
        self.resume = resume
        self.ingest = ingest
        self.events = events
        self.fingerprint = options.fingerprint()
        self.jobs = self._jobs(paths)
        self.started_utc = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.wall_s = 0.0
        self.interrupted = False
        self.runner_kind = ""
        self.workers = 0
        self.restarts = 0
        self.task_bytes = 0  #: pickled size of every task sent (function and arguments)
        self.result_bytes = 0  #: pickled size of every result received (codeblocks, track rows, figures)
        self.tasks = 0
        self.carried: list[dict] = []  #: rows of an earlier batch's recordings that this one does not name

    def _jobs(self, paths: list[Path]) -> list[RecordingJob]:
        jobs: list[RecordingJob] = []
        used: dict[str, int] = {}
        for p in paths:
            name = recording_name(p)
            used[name] = used.get(name, 0) + 1
            if used[name] > 1:  # the same name in two folders: a short digest of the path tells them apart
                name = f"{name}-{hashlib.sha1(str(p.resolve()).encode()).hexdigest()[:6]}"
            jobs.append(RecordingJob(path=p, name=name, out_dir=self.out_dir / name))
        return jobs

    # ------------------------------------------------------------------ resume
    def _previous(self) -> dict[str, dict]:
        try:
            doc = json.loads((self.out_dir / BATCH_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if doc.get("parameters") != self.fingerprint:
            return {}
        rows = {r.get("name"): r for key in ("earlier_recordings", "recordings") for r in doc.get(key, [])
                if isinstance(r, dict)}
        names = {j.name for j in self.jobs}
        # recordings of the earlier batch that this one does not name stay listed (their folders are still here)
        self.carried = [r for n, r in rows.items() if n not in names and (self.out_dir / str(n)).is_dir()]
        return rows

    def _skip(self, job: RecordingJob, previous: dict[str, dict]) -> bool:
        old = previous.get(job.name)
        status = (old or {}).get("decoded_status") or (old or {}).get("status")
        if not old or status not in DONE_STATUSES or old.get("checksum") != job.checksum:
            return False
        if not (job.out_dir / "decode.json").exists():
            return False
        for key in ("mode", "frames", "failed_crc", "suspect", "segments", "duration_s", "seconds", "wall_s"):
            setattr(job, key, old.get(key, getattr(job, key)))
        job.status, job.reason, job.skipped_status = "skipped", f"already decoded ({status})", status
        return True

    # ------------------------------------------------------------------ the report
    def report(self) -> dict[str, Any]:
        """``batch.json``'s content: the batch's figures and one row per recording."""
        signal_s = sum(j.duration_s for j in self.jobs if j.status in DONE_STATUSES)
        return {"schema": "heradecode.batch/1", "started_utc": self.started_utc, "runner": self.runner_kind,
                "workers": self.workers, "pool_restarts": self.restarts, "interrupted": self.interrupted,
                "wall_s": round(self.wall_s, 3), "signal_s": round(signal_s, 6),
                "tasks": self.tasks, "task_bytes": self.task_bytes, "result_bytes": self.result_bytes,
                "parameters": self.fingerprint, "recordings": [j.to_dict() for j in self.jobs],
                "earlier_recordings": self.carried}

    def write_report(self) -> Path:
        """Write ``batch.json`` atomically (done after every recording, so that an interrupted batch keeps it)."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / BATCH_FILE
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.report(), indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    # ------------------------------------------------------------------ running
    def run(self, runner, *, close: bool = True) -> dict[str, Any]:
        """Decode every recording (Ctrl-C: stop, keep what finished, and re-raise KeyboardInterrupt).

        The runner is shut down at the end unless ``close`` is False (it is always stopped on Ctrl-C).
        """
        import pickle

        t0 = time.monotonic()
        self.runner_kind = runner.kind
        self.workers = runner.workers
        previous = self._previous()
        if not self.resume:
            previous = {}
        pending: dict[cf.Future, tuple] = {}

        def submit(task: tuple) -> None:
            kind, job, index, attempt = task
            if kind == "plan":
                args = (plan_recording, str(job.path), self.options)
            else:
                args = (decode_segment_task, str(job.path), self.options, job.mode, job.plan.segments[index])
            self.task_bytes += len(pickle.dumps(args))
            self.tasks += 1
            pending[runner.submit(*args)] = task

        for job in self.jobs:
            job.checksum = input_checksum(job.path)
            if self.resume and self._skip(job, previous):
                if self.events.on_recording:
                    self.events.on_recording(job)
                continue
            job.started = time.monotonic()
            submit(("plan", job, 0, 1))
        self.write_report()
        try:
            while pending:
                done, _ = cf.wait(list(pending), timeout=0.5, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    task = pending.pop(fut, None)
                    if task is None:
                        continue  # resubmitted after its pool broke
                    kind, job, index, attempt = task
                    if job.status not in ("queued", "running"):
                        continue  # its recording failed meanwhile
                    try:
                        result = fut.result()
                    except cf.process.BrokenProcessPool:
                        self._pool_broke(runner, task, pending, submit)
                        continue
                    except Exception as exc:  # noqa: BLE001 - any failure fails this recording only
                        self._fail(job, exc, pending)
                        continue
                    self.result_bytes += len(pickle.dumps(result))
                    if kind == "plan":
                        self._planned(job, result, submit)
                    else:
                        job.results[index] = result
                        self._merge(job)
        except KeyboardInterrupt:
            self.interrupted = True
            runner.close(cancel=True)
            for job in self.jobs:
                if job.status in ("queued", "running"):
                    self._finish(job, "interrupted", "interrupted before it finished")
            raise
        else:
            if close:
                runner.close()
        finally:
            self.restarts = runner.restarts
            self.wall_s = time.monotonic() - t0
            self.write_report()
        return self.report()

    def _pool_broke(self, runner, task, pending: dict, submit) -> None:
        """A worker process died: new pool, every unfinished task of the old one queued again."""
        runner.restart()
        again = [task]
        for f in list(pending):
            if not (f.done() and not f.cancelled() and f.exception() is None):
                again.append(pending.pop(f))
        for kind, job, index, attempt in again:
            if job.status not in ("queued", "running"):
                continue
            if attempt >= MAX_ATTEMPTS:
                self._fail(job, RuntimeError(f"a worker process died while decoding it, {attempt} times"), pending)
            else:
                submit((kind, job, index, attempt + 1))

    def _fail(self, job: RecordingJob, exc: BaseException, pending: dict) -> None:
        for f, (_, other, _, _) in list(pending.items()):
            if other is job:
                f.cancel()
                pending.pop(f)
        self._finish(job, "failed", failure_reason(exc))

    def _planned(self, job: RecordingJob, plan: RecordingPlan, submit) -> None:
        job.plan = plan
        job.mode = plan.mode
        job.duration_s = plan.duration_s
        job.segments = len(plan.segments)
        job.seconds += plan.seconds
        job.warnings = list(plan.warnings)
        job.status = "running"
        self._open_products(job)
        for i in range(len(plan.segments)):
            submit(("segment", job, i, 1))
        if self.events.on_plan:
            self.events.on_plan(job)

    def _open_products(self, job: RecordingJob) -> None:
        from heradecode.products.decodelog import DecodeWriter
        from heradecode.products.telemetry import TelemetryProcessor
        from heradecode.receiver import ReceiverStats

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the planning task reported them
            job.recording = open_batch_recording(job.path)
        job.telemetry = TelemetryProcessor(out_dir=job.out_dir)
        job.writer = DecodeWriter(job.out_dir, recording=job.recording, telemetry=job.telemetry)
        job.progress = ReceiverStats(samples_total=job.recording.num_samples)

    def _merge(self, job: RecordingJob) -> None:
        """Write the segments that arrived, in order; finish the recording after its last one."""
        segments = job.plan.segments
        while job.next_segment in job.results:
            i = job.next_segment
            res = job.results.pop(i)
            job.next_segment += 1
            job.seconds += res.seconds
            _accumulate(job.progress, res, segments[i], whole=len(segments) == 1)
            job.writer.add_track(res.track)
            for cb in res.codeblocks:
                job.writer.add(cb)
                job.frames += int(cb.crc_ok and not cb.suspect)
                job.suspect += int(cb.suspect)
                job.failed_crc += int(not cb.crc_ok)
            if self.events.on_segment:
                self.events.on_segment(job, res)
        if job.next_segment == len(segments):
            self._finish(job, "ok" if job.frames else "no frames",
                         "" if job.frames else "no frame decoded (no carrier, or no data on it)")

    def _finish(self, job: RecordingJob, status: str, reason: str) -> None:
        job.status, job.reason = status, reason
        if job.writer is not None:
            try:
                self._close_products(job)
            except Exception as exc:  # noqa: BLE001 - a product that cannot be written fails this recording
                job.status, job.reason = "failed", f"writing the products: {failure_reason(exc)}"
            job.writer = None
        job.results.clear()
        job.wall_s = time.monotonic() - job.started if job.started else 0.0
        if job.status in DONE_STATUSES and self.ingest is not None:
            try:
                self.ingest(job.out_dir)
            except Exception as exc:  # noqa: BLE001
                job.warnings.append(f"archive ingest failed: {failure_reason(exc)}")
        self.write_report()
        if self.events.on_recording:
            self.events.on_recording(job)

    def _close_products(self, job: RecordingJob) -> None:
        """Finish the product folder exactly as ``heradecode decode`` does (decode.json header, carrier, Doppler)."""
        rec = job.recording
        config = receiver_config(self.options, job.mode)
        header = {"recording": rec.paths[0].name, "mode": job.mode, "symbol_rate": config.rate_baud,
                  "samp_rate": rec.samp_rate, "center_freq_hz": rec.center_freq_hz,
                  "downlink_freq_hz": config.downlink_freq_hz, "start_time_utc": str(rec.start_time) + "Z",
                  "duration_s": rec.duration_s, **corruption_counts(job.progress)}
        carrier = job.writer.close(header)
        if self.extra_products is not None:
            self.extra_products(job.out_dir, rec, carrier)


def corruption_counts(stats) -> dict[str, int]:
    """The corrupt-input and weak-marker counters of a decode (the ``decode.json`` header fields)."""
    names = ("nonfinite_samples", "blanked_samples", "soft_outliers", "sync_attempts", "sync_confirmed")
    return {n: int(getattr(stats, n, 0)) for n in names}


def _accumulate(progress, res: SegmentResult, seg, whole: bool) -> None:
    """Add a segment's figures to its recording's, as :func:`heradecode.receiver.decode_recording` does."""
    st = res.stats
    if whole:  # one segment: the receiver's own figures, as a decode with one worker reports them
        for name, value in vars(st).items():
            if name != "samples_total":
                setattr(progress, name, value)
        return
    progress.samples += seg.stop - seg.start
    progress.frames_ok += sum(1 for c in res.codeblocks if c.crc_ok)
    progress.frames_failed += sum(1 for c in res.codeblocks if not c.crc_ok)
    progress.suspect += sum(1 for c in res.codeblocks if c.suspect)
    progress.cn0_dbhz, progress.locked = st.cn0_dbhz, st.locked
    for name in ("nonfinite_samples", "blanked_samples", "soft_outliers", "sync_attempts", "sync_confirmed"):
        setattr(progress, name, getattr(progress, name) + getattr(st, name))


def failure_reason(exc: BaseException) -> str:
    """One line saying why a recording failed."""
    if isinstance(exc, OSError):
        what = (exc.strerror or type(exc).__name__).lower()
        paths = [os.fsdecode(p) for p in (exc.filename, exc.filename2) if p is not None]
        return f"{what}: {' -> '.join(paths)}" if paths else what
    if isinstance(exc, (UserError, NothingDecoded)):
        return _one_line(exc)
    name = type(exc).__name__
    if name == "KilledWorker":
        return "Dask workers died while decoding it, too many times"
    text = _one_line(exc)
    return f"{name}: {text}" if text else name


def load_report(out_dir: str | Path) -> dict[str, Any]:
    """Read a batch's ``batch.json`` (``pandas.DataFrame(report['recordings'])`` gives one row per recording)."""
    return json.loads((Path(out_dir) / BATCH_FILE).read_text(encoding="utf-8"))


__all__ = ["BATCH_FILE", "Batch", "BatchEvents", "BatchOptions", "DaskRunner", "LocalRunner", "RecordingJob",
           "RecordingPlan", "SegmentResult", "decode_segment_task", "find_recordings", "input_checksum",
           "load_report", "plan_recording"]

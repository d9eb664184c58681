"""A batch: recordings planned and their segments decoded on one runner, merged in order, reported.

Segments of every recording are queued together, so that workers stay busy across
recordings; the results of each recording are merged in order (codeblocks are kept by the
segment their marker starts in, so none is lost or repeated at the seams) and written as
the product folder ``heradecode decode`` writes.  A task that kills its worker
:data:`MAX_ATTEMPTS` times fails its recording, not the batch; so does any other failure
(corrupt or unreadable input, no signal), with its reason.

Resume: ``batch.json`` in the output folder lists every recording with its status, its
input checksum (:func:`heradecode.batch.inputs.input_checksum`) and the decode parameters.
A recording is skipped by a resumed batch when the previous entry says ``ok`` or ``no
frames``, its product folder holds ``decode.json``, and both the checksum and the
parameters are unchanged.  Rows of recordings decoded into the same folder by an earlier
batch (same parameters) that this one does not name are kept, under ``earlier_recordings``.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heradecode.batch.inputs import input_checksum, recording_name
from heradecode.batch.tasks import BatchOptions, RecordingPlan, SegmentResult, _one_line, \
    decode_segment_task, open_batch_recording, plan_recording, receiver_config
from heradecode.errors import NothingDecoded, UserError
from heradecode.missions import load_mission
from heradecode.products.decodelog import DECODE_COUNTERS

BATCH_FILE = "batch.json"  #: the batch's machine-readable report, in the output folder
MAX_ATTEMPTS = 3  #: a task whose worker process dies this many times fails its recording
DONE_STATUSES = ("ok", "no frames")  #: statuses a resumed batch does not decode again


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
    recording, carrier)`` after its folder is written (the command line adds the Doppler residuals there);
    ``missing`` lists the recordings an archive query selected whose files are gone (reported, not decoded).
    """

    def __init__(self, paths: list[Path], out_dir: Path, options: BatchOptions = BatchOptions(), *,
                 resume: bool = False, ingest: Callable[[Path], None] | None = None,
                 events: BatchEvents = BatchEvents(),
                 extra_products: Callable[[Path, Any, Any], None] | None = None,
                 missing: list | tuple = ()) -> None:
        self.out_dir = Path(out_dir)
        #: recordings an archive query selected whose files are gone (:class:`~heradecode.batch.inputs.MissingRecording`)
        self.missing = list(missing)
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
                "earlier_recordings": self.carried, "missing_from_archive": [m.to_dict() for m in self.missing]}

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
        job.telemetry = TelemetryProcessor(mission=load_mission(self.options.mission), out_dir=job.out_dir)
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
            job.frames, job.suspect, job.failed_crc = job.writer.n_frames, job.writer.n_suspect, job.writer.n_failed
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
        from heradecode.receiver import decode_header

        rec = job.recording
        config = receiver_config(self.options, job.mode)
        header = decode_header(rec, config, job.progress, mission=self.options.mission)  # a Doppler file: one-way
        carrier = job.writer.close(header)
        if self.extra_products is not None:
            self.extra_products(job.out_dir, rec, carrier)


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
    for name in DECODE_COUNTERS:
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

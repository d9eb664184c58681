"""What the workers of a batch run: plan a recording, decode one segment of it.

A task names its recording by path and its segment by sample offsets
(:class:`heradecode.receiver.Segment`): no samples go through the executor or the Dask
scheduler, only the task description (a few hundred bytes) and the decoded codeblocks
coming back.  Workers open each recording once and keep it (and the Doppler profile) while
its files are unchanged.  Planning detects the mode (:func:`heradecode.receiver.detect_mode`)
and cuts the recording with :func:`heradecode.receiver.plan_segments` as for two workers or
more, so that the segments, and therefore the products, do not depend on the executor.
"""

from __future__ import annotations

import hashlib
import os
import time
import warnings
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from heradecode import __version__
from heradecode.errors import NothingDecoded, UserError
from heradecode.missions import load_mission


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
            doc["doppler_sha256"] = _file_sha256(Path(self.doppler_path))
        doc["heradecode"] = __version__
        return doc


def receiver_config(options: BatchOptions, mode: str):
    """The :class:`~heradecode.receiver.ReceiverConfig` a batch decodes with (as ``heradecode decode`` would)."""
    from heradecode.receiver import ReceiverConfig

    return ReceiverConfig.from_mission(load_mission(options.mission), mode, pll_bandwidth_hz=options.pll_bandwidth_hz,
                                       max_iterations=options.max_iterations, decoder_threads=1)


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
                                           mission=load_mission(options.mission), fix="search")
    return SegmentResult(cbs, track, stats, time.perf_counter() - t0)


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

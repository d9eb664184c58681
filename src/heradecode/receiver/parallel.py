"""Decoding a whole recording: the segment plan (overlapping segments, so that no codeblock is lost at a
seam) and the parallel decode on any ``concurrent.futures`` executor, merged in order."""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from heradecode.ccsds.mission import HERA, MissionProfile
from heradecode.io.dopplerfile import DopplerProfile
from heradecode.io.recording import Recording
from heradecode.products.decodelog import DECODE_COUNTERS, DecodedCodeblock
from heradecode.receiver.config import ReceiverConfig, check_symbol_rate
from heradecode.receiver.carrier import CarrierFix, find_carrier
from heradecode.receiver.core import Receiver, ReceiverStats


@dataclass(frozen=True)
class Segment:
    """A span of the recording decoded by one worker: run [run_start, run_stop), keep [start, stop)."""

    start: int
    stop: int
    run_start: int
    run_stop: int


def plan_segments(recording: Recording, config: ReceiverConfig, workers: int,
                  segment_s: float = 60.0) -> list[Segment]:
    """Split a recording into overlapping spans so that workers can decode them independently."""
    fs = recording.samp_rate
    n = recording.num_samples
    period_s = ((config.k + 4) * config.inv_rate + 32 * config.inv_rate) / config.rate_baud
    lead = int((config.acq_time_s + 0.2 + 2 * period_s) * fs)
    tail = int((period_s + 0.05) * fs)
    if workers <= 1 or n < 4 * lead:
        return [Segment(0, n, 0, n)]
    count = max(workers, math.ceil(n / (segment_s * fs)))
    count = min(count, max(1, n // (4 * lead)))
    edges = np.linspace(0, n, count + 1).astype(np.int64)
    return [Segment(int(a), int(b), int(max(0, a - lead)), int(min(n, b + tail))) for a, b in zip(edges, edges[1:])]


def decode_segment(recording: Recording, config: ReceiverConfig, seg: Segment, *,
                   doppler: DopplerProfile | None = None, mission: MissionProfile = HERA,
                   fix: "CarrierFix | None | str" = "search",
                   ) -> tuple[list[DecodedCodeblock], np.ndarray, "ReceiverStats"]:
    """Decode one segment alone: the codeblocks whose marker starts in it, its carrier track rows, the figures.

    ``fix`` is the carrier found at the start of the recording (used where none is found at the
    segment's start); ``"search"`` finds it here (cached per process by :func:`find_carrier`).
    """
    found = None
    if seg.run_start > 0:
        # the carrier where this segment starts (the first fix, extrapolated, if none is found there)
        found = find_carrier(recording, config, doppler=doppler, start_sample=seg.run_start,
                             stop_sample=seg.run_stop, warn=False)
    if found is None:
        found = find_carrier(recording, config, doppler=doppler, warn=False) if isinstance(fix, str) else fix
    fix = found
    rx = Receiver(recording, config, doppler=doppler, mission=mission, carrier_fix=fix)
    out = [cb for cb in rx.run(seg.run_start, seg.run_stop) if seg.start <= cb.start_sample < seg.stop]
    track = rx.pop_track()
    track = track[(track["sample"] >= seg.start) & (track["sample"] < seg.stop)]
    return out, track, rx.stats


def _decode_segment(args) -> tuple[list[DecodedCodeblock], np.ndarray, "ReceiverStats"]:
    recording, config, doppler, mission, seg, fix = args
    return decode_segment(recording, config, seg, doppler=doppler, mission=mission, fix=fix)


def decode_recording(recording: Recording, config: ReceiverConfig = ReceiverConfig(), *,
                     doppler: DopplerProfile | None = None, mission: MissionProfile = HERA, workers: int = 1,
                     on_progress: Callable[[ReceiverStats], None] | None = None,
                     ) -> Iterator[tuple[list[DecodedCodeblock], np.ndarray]]:
    """Decode a whole recording; yields (codeblocks, carrier track rows) in reception order.

    With ``workers`` > 1 the recording is cut into overlapping segments decoded in parallel
    processes; codeblocks are kept by the segment their marker starts in, so none is lost
    or repeated at the seams.  The carrier is searched for (:func:`find_carrier`) at the start of
    the recording and of every segment.
    """
    check_symbol_rate(recording, config)
    segments = plan_segments(recording, config, workers)
    fix = find_carrier(recording, config, doppler=doppler)
    if len(segments) == 1:
        rx = Receiver(recording, config, doppler=doppler, mission=mission, carrier_fix=fix)
        rx.stats.samples_total = recording.num_samples
        pending: list[DecodedCodeblock] = []
        tick = (lambda r: on_progress(r.stats)) if on_progress is not None else None
        for cb in rx.run(on_chunk=tick):
            pending.append(cb)
            if len(pending) >= 8:
                yield pending, rx.pop_track()
                pending = []
        if on_progress is not None:
            on_progress(rx.stats)  # the final figures, after the end-of-stream flush
        yield pending, rx.pop_track()
        return
    progress = ReceiverStats(samples_total=recording.num_samples)
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(_decode_segment, (recording, config, doppler, mission, seg, fix)) for seg in segments]
        for seg, fut in zip(segments, futures):
            cbs, track, st = fut.result()
            progress.samples += seg.stop - seg.start
            # count the codeblocks kept: the worker's own stats include its overlap with the neighbours
            progress.frames_ok += sum(1 for c in cbs if c.crc_ok)
            progress.frames_failed += sum(1 for c in cbs if not c.crc_ok)
            progress.suspect += sum(1 for c in cbs if c.suspect)
            progress.cn0_dbhz, progress.locked = st.cn0_dbhz, st.locked
            for name in DECODE_COUNTERS:  # overlaps counted twice
                setattr(progress, name, getattr(progress, name) + getattr(st, name))
            if on_progress is not None:
                on_progress(progress)
            yield cbs, track

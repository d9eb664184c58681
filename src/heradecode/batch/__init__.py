"""Batch decoding: many recordings, their segments scheduled together on one executor.

A batch is a list of recordings (files, folders, globs, or the catalogued recordings an
archive query selects: :func:`archive_recordings`).  Each recording is first *planned* by a worker
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

from heradecode.batch.inputs import MissingRecording, archive_recordings, find_recordings, input_checksum, \
    input_files, recording_name
from heradecode.batch.runners import DaskRunner, LocalRunner
from heradecode.batch.scheduler import BATCH_FILE, DONE_STATUSES, MAX_ATTEMPTS, Batch, BatchEvents, RecordingJob, \
    failure_reason, load_report
from heradecode.batch.tasks import BatchOptions, RecordingPlan, SegmentResult, decode_segment_task, \
    open_batch_recording, plan_recording, receiver_config

__all__ = ["BATCH_FILE", "DONE_STATUSES", "MAX_ATTEMPTS", "Batch", "BatchEvents", "BatchOptions", "DaskRunner",
           "LocalRunner", "MissingRecording", "RecordingJob", "RecordingPlan", "SegmentResult", "archive_recordings",
           "decode_segment_task", "failure_reason", "find_recordings", "input_checksum", "input_files", "load_report",
           "open_batch_recording", "plan_recording", "receiver_config", "recording_name"]

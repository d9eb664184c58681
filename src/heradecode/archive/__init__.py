"""The telemetry archive: a catalogue (SQL, via SQLAlchemy) of every decode, and a file store.

* :mod:`~heradecode.archive.models`: the tables; :mod:`~heradecode.archive.db`: opening them;
* :mod:`~heradecode.archive.store`: the content-addressed file store;
* :mod:`~heradecode.archive.ingest`: decode folders and frame files in;
* :mod:`~heradecode.archive.where`: the filter language (AND/OR/NOT) of every surface;
* :mod:`~heradecode.archive.access`: roles and the embargo, applied to every query;
* :mod:`~heradecode.archive.query`: tables out (frames, packets, items, housekeeping);
* :mod:`~heradecode.archive.export`: CSV, JSON, XML, Parquet and ZIP;
* :mod:`~heradecode.archive.users`: users and password hashes.
"""

from heradecode.archive.ingest import IngestResult, ingest_decode_folder, ingest_frame_file

__all__ = ["IngestResult", "ingest_decode_folder", "ingest_frame_file"]

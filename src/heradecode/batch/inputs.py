"""The recordings a batch is given (files, folders, globs, an archive query), their names and their cheap checksum.

An archive query (:func:`archive_recordings`) selects the catalogued recordings whose latest
decode matches a filter of :mod:`heradecode.archive.where` (as the archive's owner sees them)
and gives their metadata files as the newest ingest recorded them (``recordings.path``); a
recording whose files are no longer there, or that was catalogued without a path, is listed
apart as missing.

The checksum (:func:`input_checksum`) covers every file of a recording (data and metadata):
its name, size and modification time, and the SHA-256 of the whole metadata files and of
the first and last MiB of the data files, so that it costs a few MiB of reading whatever
the recording's size (a change in the middle of a data file with the mtime restored goes
unseen).
"""

from __future__ import annotations

import glob
import hashlib
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from heradecode.batch.tasks import open_batch_recording

CHECKSUM_EDGE_BYTES = 1 << 20  #: bytes hashed at the start and at the end of every data file
#: recordings found in a folder: SigMF metadata files (a ..._0y partner of a ..._0x is not listed twice)
FOLDER_PATTERNS = ("*.sigmf-meta",)

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
        key = recording_key(p)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _expand(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for pat in FOLDER_PATTERNS for p in path.rglob(pat))
    return [path]


def recording_key(path: Path) -> Path:
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


@dataclass(frozen=True)
class MissingRecording:
    """A catalogued recording an archive query selected whose files are not where the archive says."""

    recording_id: int
    name: str
    path: str | None
    reason: str

    def to_dict(self) -> dict:
        """One row of ``batch.json``'s ``missing_from_archive``."""
        return {"recording_id": self.recording_id, "name": self.name, "path": self.path, "reason": self.reason}


def _missing_reason(path: str | None) -> str:
    if not path:
        return "the archive holds no path for it (catalogued before paths were kept, or from a frame file)"
    p = Path(path)
    if not p.is_file():
        return f"no such file: {p}"
    if p.name.endswith(".sigmf-meta"):
        data = p.with_name(p.name[: -len(".sigmf-meta")] + ".sigmf-data")
        if not data.is_file():
            return f"no such file: {data}"
    return ""


def archive_recordings(archive_dir: str | Path, where: str | None) -> tuple[list[Path], list[MissingRecording]]:
    """The recordings of ``archive_dir`` whose latest decode matches ``where``: (files found, missing ones)."""
    from heradecode.archive.access import SYSTEM
    from heradecode.archive.ingest import open_catalogue
    from heradecode.archive.query import recording_paths

    with open_catalogue(archive_dir).connect() as conn:
        rows = recording_paths(conn, SYSTEM, where)
    found: list[Path] = []
    missing: list[MissingRecording] = []
    for row in rows:
        reason = _missing_reason(row["path"])
        if reason:
            missing.append(MissingRecording(row["recording_id"], row["name"], row["path"], reason))
        else:
            found.append(Path(row["path"]))
    return found, missing

"""The content-addressed file store of an archive.

A file with SHA-256 ``h`` (hex) lives at ``store/h[:2]/h[2:]``; the same content is kept once
however many decodes hold it.  A file is written to ``store/tmp/`` first, flushed to disk and
then renamed into place, so a file under its hash is always whole: a crash leaves at most a
stray temporary file (removed by :meth:`ContentStore.clean_tmp`) or an unreferenced object.

A file hashed already (the ingest hashes every file while checking its input) is put with
:meth:`ContentStore.put_hashed`: copied by the kernel (``copy_file_range``/``sendfile``) without
being read and hashed again, and refused when its :func:`file_stamp` (size, modification and change
times, inode) differs from the one taken when it was hashed, i.e. when it changed in between.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

_HEX64 = re.compile(r"[0-9a-f]{64}")
CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """SHA-256 (hex) of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def file_stamp(path: str | Path) -> tuple[int, int, int, int]:
    """What tells that a file changed: (size, mtime_ns, ctime_ns, inode)."""
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def sha256_file_stamped(path: str | Path) -> tuple[str, tuple[int, int, int, int]]:
    """SHA-256 (hex) of a file and its :func:`file_stamp`; ValueError when it changed while being hashed."""
    before = file_stamp(path)
    digest = sha256_file(path)
    if file_stamp(path) != before:
        raise ValueError(f"{path} changed while it was being hashed")
    return digest, before


class ContentStore:
    """Files by SHA-256 under ``root``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the object ``sha256`` lives; ValueError for anything but 64 hex digits."""
        if not _HEX64.fullmatch(sha256):
            raise ValueError("not a SHA-256 digest")
        return self.root / sha256[:2] / sha256[2:]

    def has(self, sha256: str) -> bool:
        """True when the object is in the store."""
        return self.path(sha256).is_file()

    def put_file(self, src: str | Path) -> str:
        """Copy a file into the store (atomically); return its SHA-256."""
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as fh:
                for block in iter(lambda: fh.read(CHUNK), b""):
                    h.update(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            digest = h.hexdigest()
            dest = self.path(digest)
            if dest.is_file():
                os.unlink(tmp)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, dest)
            return digest
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def stage_hashed(self, src: str | Path, sha256: str, stamp: tuple[int, int, int, int]) -> Path | None:
        """Copy a file hashed to ``sha256`` (when its :func:`file_stamp` was ``stamp``) to ``tmp/``, on disk.

        Returns the staged copy for :meth:`commit_staged`, or None when the object is in the store
        already; ValueError when the file changed since it was hashed.
        """
        import shutil

        if file_stamp(src) != stamp:
            raise ValueError(f"{src} changed since it was hashed")
        if self.path(sha256).is_file():
            return None
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix="put-")
        try:
            os.close(fd)
            shutil.copyfile(src, tmp)  # in the kernel (sendfile / copy_file_range)
            with open(tmp, "rb+") as out:
                os.fsync(out.fileno())
        except BaseException:
            os.unlink(tmp)
            raise
        return Path(tmp)

    def commit_staged(self, staged: Path, src: str | Path, sha256: str, stamp: tuple[int, int, int, int]) -> None:
        """Move a staged copy into place, unless ``src`` changed meanwhile (ValueError; the copy is removed)."""
        try:
            if file_stamp(src) != stamp:
                raise ValueError(f"{src} changed while it was being stored")
            dest = self.path(sha256)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, dest)
        finally:
            if staged.exists():
                staged.unlink()

    def put_hashed(self, src: str | Path, sha256: str, stamp: tuple[int, int, int, int]) -> None:
        """Put a file already hashed to ``sha256`` when its :func:`file_stamp` was ``stamp``.

        ValueError when the file changed since (its stamp differs); nothing is stored then.
        """
        staged = self.stage_hashed(src, sha256, stamp)
        if staged is not None:
            self.commit_staged(staged, src, sha256, stamp)

    def open(self, sha256: str) -> BinaryIO:
        """Open an object for reading."""
        return open(self.path(sha256), "rb")

    def verify(self, sha256: str) -> bool:
        """True when the object exists and its content still hashes to its name."""
        p = self.path(sha256)
        return p.is_file() and sha256_file(p) == sha256

    def clean_tmp(self) -> int:
        """Remove temporary files left by interrupted writes; return how many."""
        tmp_dir = self.root / "tmp"
        n = 0
        if tmp_dir.is_dir():
            for p in tmp_dir.iterdir():
                p.unlink(missing_ok=True)
                n += 1
        return n

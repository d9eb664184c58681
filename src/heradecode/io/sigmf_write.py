"""SigMF recordings, writing: the metadata of one recording and of an X/Y collection.

Shared by the simulator and ``heradecode sigmf-wrap``.  Besides the core fields, the total sample
count is recorded as ``heradecode:sample_count`` so that a truncated copy of the data file is
detected exactly on reading (:mod:`heradecode.io.sigmf_read`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sigmf
from sigmf import SigMFFile
from sigmf.error import SigMFError

from heradecode.errors import UserError
from heradecode.io.recording import format_utc, parse_utc, sample_format
from heradecode.io.sigmf_read import COLLECTION_EXT, SAMPLE_COUNT_KEY, meta_path_of, strip_sigmf_ext


EXTENSION_HERADECODE = {"name": "heradecode", "version": "0.1.0", "optional": True}
EXTENSION_ANTENNA = {"name": "antenna", "version": "1.0.0", "optional": True}


# --------------------------------------------------------------------------- writing
def write_meta(
    meta_path: Path,
    *,
    datatype: str,
    samp_rate: float,
    num_channels: int,
    center_freq_hz: float,
    start_time: Any,
    num_samples: int,
    hw: str | None = None,
    antenna: str | None = None,
    description: str | None = None,
    author: str | None = None,
    dataset: str | None = None,
    annotations: list[dict[str, Any]] | None = None,
    extra_global: dict[str, Any] | None = None,
    overwrite: bool = True,
) -> Path:
    """Write a validated SigMF metadata file; ``dataset`` names a raw (non-conforming) data file beside it."""
    fmt = sample_format(datatype)
    meta_path = meta_path_of(Path(meta_path))
    if not overwrite and meta_path.exists():
        raise UserError(f"{meta_path} exists; refusing to overwrite it")
    rate: float | int = int(samp_rate) if float(samp_rate).is_integer() else float(samp_rate)
    glob: dict[str, Any] = {
        "core:datatype": fmt.name,
        "core:sample_rate": rate,
        "core:num_channels": int(num_channels),
        "core:recorder": "heradecode",
        SAMPLE_COUNT_KEY: int(num_samples),
    }
    exts = [dict(EXTENSION_HERADECODE)]
    if hw:
        glob["core:hw"] = hw
    if antenna:
        glob["antenna:model"] = antenna
        exts.append(dict(EXTENSION_ANTENNA))
    if description:
        glob["core:description"] = description
    if author:
        glob["core:author"] = author
    if dataset:
        glob["core:dataset"] = dataset
    glob["core:extensions"] = exts
    if extra_global:
        glob.update(extra_global)
    handle = SigMFFile(global_info=glob)
    freq: float | int = int(center_freq_hz) if float(center_freq_hz).is_integer() else float(center_freq_hz)
    handle.add_capture(0, metadata={"core:frequency": freq, "core:datetime": format_utc(parse_utc(start_time))})
    for ann in annotations or []:
        fields = {k: v for k, v in ann.items() if k not in ("core:sample_start", "core:sample_count")}
        handle.add_annotation(int(ann["core:sample_start"]), ann.get("core:sample_count"), metadata=fields)
    try:
        handle.validate()
    except SigMFError as exc:  # our own bug if it happens
        raise UserError(f"{meta_path}: metadata failed SigMF validation: {exc}") from None
    tmp = meta_path.with_name(meta_path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        handle.dump(fh, pretty=True)
        fh.write("\n")
    tmp.replace(meta_path)
    return meta_path


def write_collection(path: Path, meta_paths: list[Path], *, description: str | None = None) -> Path:
    """Write a ``.sigmf-collection`` naming the given recordings (X first) as its streams, with their hashes."""
    path = Path(path)
    coll_path = strip_sigmf_ext(path).with_name(strip_sigmf_ext(path).name + COLLECTION_EXT)
    names = []
    for m in meta_paths:
        m = meta_path_of(Path(m))
        if m.parent.resolve() != coll_path.parent.resolve():
            raise UserError(f"the collection {coll_path} and its stream {m} must be in the same directory")
        names.append(m.name)
    body: dict[str, Any] = {"collection": {"core:streams": []}}
    if description:
        body["collection"]["core:description"] = description
    coll = sigmf.SigMFCollection(metafiles=names, metadata=body, base_path=coll_path.parent)
    coll.tofile(coll_path, overwrite=True)
    return coll_path

"""``open_recording``: one entry point for every supported recording layout.

Pairing rule, the same for SigMF and raw files: a name ending ``_<digits>x``
or ``_<digits>y`` (before ``.sigmf-meta``/``.sigmf-data`` or a short
extension such as ``.raw``) is one polarization of a pair, and the file with
the other letter beside it is its partner.  Whenever the recording opened has
one channel, one warning line says so: X and Y cannot then be combined.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from heradecode.errors import UserError
from heradecode.io import sigmf_pairs
from heradecode.io import sigmf_read
from heradecode.io.raw import open_raw, raw_partner_of, raw_polarization, raw_stem
from heradecode.io.recording import Recording, SinglePolarizationWarning

PathLike = str | Path


def _as_paths(paths: PathLike | Sequence[PathLike]) -> list[Path]:
    if isinstance(paths, (str, Path)):
        return [Path(paths)]
    out = [Path(p) for p in paths]
    if not out:
        raise UserError("no recording given")
    return out


def _wrapping_meta(path: Path) -> Path | None:
    """A SigMF metadata file beside a raw file that names it as its dataset (what sigmf-wrap writes)."""
    candidates = [path.with_name(path.name + sigmf_read.META_EXT)]
    stem, ext = raw_stem(path)
    if ext:
        candidates.append(path.with_name(stem + sigmf_read.META_EXT))
    for meta in candidates:
        if meta.is_file():
            try:
                ds = json.loads(meta.read_text(encoding="utf-8-sig")).get("global", {}).get("core:dataset")
            except (ValueError, RecursionError, AttributeError, OSError):  # not ours; read as raw
                continue
            if ds == path.name:
                return meta
    return None


def _classify(path: Path) -> tuple[str, Path]:
    """('collection' | 'sigmf' | 'raw', path to use)."""
    if path.is_dir():
        raise UserError(f"{path} is a directory; give a recording file in it")
    name = path.name.lower()
    if name.endswith(sigmf_read.COLLECTION_EXT):
        return "collection", path
    if name.endswith(sigmf_read.ARCHIVE_EXT) or name.endswith((".sigmf.gz", ".sigmf.xz", ".sigmf.zip")):
        raise UserError(f"{path}: SigMF archives are not read directly; extract them first (tar xf {path.name})")
    if name.endswith((sigmf_read.META_EXT, sigmf_read.DATA_EXT)):
        meta = sigmf_read.meta_path_of(path)
        if not meta.is_file():
            if name.endswith(sigmf_read.DATA_EXT):
                raise UserError(f"{path}: its SigMF metadata {meta.name} is missing")
            raise UserError(f"SigMF metadata file not found: {meta}")
        return "sigmf", meta
    if path.is_file():
        meta = _wrapping_meta(path)
        return ("sigmf", meta) if meta is not None else ("raw", path)
    meta = path.with_name(path.name + sigmf_read.META_EXT)
    if meta.is_file():
        return "sigmf", meta
    coll = path.with_name(path.name + sigmf_read.COLLECTION_EXT)
    if coll.is_file():
        return "collection", coll
    raise UserError(f"recording not found: {path}")


def _num_channels(meta: Path) -> int:
    try:
        n = json.loads(meta.read_text(encoding="utf-8-sig")).get("global", {}).get("core:num_channels", 1)
    except (ValueError, RecursionError, AttributeError, OSError):
        return 1  # read_stream reports the real problem
    return n if isinstance(n, int) else 1


def open_recording(
    paths: PathLike | Sequence[PathLike],
    *,
    samp_rate: float | None = None,
    center_freq_hz: float | None = None,
    start_time: Any = None,
    datatype: str | None = None,
    allow_truncated: bool = False,
) -> Recording:
    """Open a recording: a 2-channel SigMF file, an X/Y SigMF pair or collection, or raw I/Q files.

    ``paths`` is one path or two.  SigMF may be named by its ``.sigmf-meta``,
    ``.sigmf-data`` or base name; a lone ``…_0x`` recording, SigMF or raw, is
    paired with the ``…_0y`` beside it (and the other way round).  A recording
    of one polarization only (no partner, or a single-channel file) is opened
    with one SinglePolarizationWarning.  Raw files need ``samp_rate`` (samples/s),
    ``center_freq_hz`` and ``start_time`` (ISO-8601 UTC, datetime64 or UNIX s);
    ``datatype`` defaults to ci16_le.  For SigMF these options fill in or
    override the metadata.  A data file shorter than its metadata raises
    UserError unless ``allow_truncated`` (then a TruncatedRecordingWarning is
    issued and the whole samples present are read).
    """
    plist = _as_paths(paths)
    if len(plist) > 2:
        raise UserError(f"give one recording or an X/Y pair, not {len(plist)} files")
    kinds = [_classify(p) for p in plist]
    kind_set = {k for k, _ in kinds}
    opts = dict(samp_rate=samp_rate, center_freq_hz=center_freq_hz, start_time=start_time,
                allow_truncated=allow_truncated)

    if kind_set == {"raw"}:
        raws = [p for _, p in kinds]
        note = None
        if len(raws) == 1 and (partner := raw_partner_of(raws[0])) is not None:
            if partner.is_file():
                raws.append(partner)  # open_raw puts them in X, Y order
            else:
                note = f"its partner {partner.name} is not beside it"
        rec = open_raw(raws, datatype=datatype or "ci16_le", **opts)
        return _said_if_one_polarization(rec, raws[0], raw_polarization(raws[0]), note)
    if "raw" in kind_set:
        raise UserError("cannot mix raw files and SigMF recordings: " + ", ".join(p.name for p in plist))
    if datatype is not None:
        warnings.warn("datatype is taken from the SigMF metadata; the given datatype is ignored", stacklevel=2)

    if "collection" in kind_set:
        if len(plist) != 1:
            raise UserError("give a SigMF collection on its own")
        metas = sigmf_pairs.read_collection(kinds[0][1])
    else:
        metas = [p for _, p in kinds]

    if len(metas) == 2:
        if metas[0].resolve() == metas[1].resolve():
            raise UserError(f"the X and Y recordings are the same recording: {metas[0]}")
        x, y = sigmf_pairs.order_pair(metas[0], metas[1])
        return sigmf_pairs.open_pair(x, y, **opts)

    meta = metas[0]
    pol = sigmf_pairs.polarization_of(meta)
    if _num_channels(meta) == 1 and pol is not None:
        partner = sigmf_pairs.partner_of(meta)
        if partner.is_file():
            x, y = sigmf_pairs.order_pair(meta, partner)
            return sigmf_pairs.open_pair(x, y, **opts)
        rec = sigmf_read.open_single(meta, channel_name=pol[1], **opts)
        return _said_if_one_polarization(rec, meta, pol[1], f"its partner {partner.name} is not beside it")
    return _said_if_one_polarization(sigmf_read.open_single(meta, **opts), meta, None, None)


def _said_if_one_polarization(rec: Recording, path: Path, pol: str | None, why: str | None) -> Recording:
    """Warn (one line) when ``rec`` has a single channel: one polarization only, so X and Y cannot be combined."""
    if rec.num_channels == 1:
        name = sigmf_read.strip_sigmf_ext(path).name if sigmf_read.is_sigmf_path(path) else path.name
        what = f"one polarization only ({pol})" if pol else "one polarization only"
        reason = why or "a single-channel recording"
        warnings.warn(
            f"{name}: {what}: {reason}; X and Y cannot be combined (up to 3 dB of signal lost)",
            SinglePolarizationWarning,
            stacklevel=3,
        )
    return rec

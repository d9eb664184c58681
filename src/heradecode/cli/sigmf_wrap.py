"""``heradecode sigmf-wrap``: write SigMF metadata beside raw interleaved-I/Q captures.

The raw files are left untouched: each gets a ``<name>.sigmf-meta`` naming it
as its (non-conforming) dataset, and an X/Y pair also gets a
``.sigmf-collection`` so that ``heradecode`` reads the pair as one recording.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path

from heradecode.errors import UserError
from heradecode.io import sigmf_read
from heradecode.io import sigmf_write
from heradecode.io.raw import raw_polarization, raw_stem
from heradecode.io.recording import format_utc, parse_utc, sample_format

DEFAULT_HW = "USRP N321"


def _meta_for(raw: Path) -> tuple[Path, str | None]:
    """(metadata path, dataset name or None when the raw file already has a SigMF data name)."""
    if raw.name.lower().endswith(sigmf_read.DATA_EXT):
        return sigmf_read.meta_path_of(raw), None
    return raw.with_name(raw_stem(raw)[0] + sigmf_read.META_EXT), raw.name


def _collection_name(x: Path, y: Path) -> Path:
    sx = raw_stem(x)[0]
    m = re.match(r"^(.*?)_?\d*[xX]$", sx)
    base = m.group(1) if m and m.group(1) else sx + "_xy"
    return x.with_name(base + sigmf_read.COLLECTION_EXT)


def _sha512(path: Path) -> str:
    h = hashlib.sha512()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def wrap(
    raw_paths: list[Path],
    *,
    samp_rate: float,
    center_freq_hz: float,
    start_time: str,
    datatype: str = "ci16_le",
    antenna: str | None = None,
    hw: str = DEFAULT_HW,
    description: str | None = None,
    sha512: bool = False,
    overwrite: bool = False,
) -> list[Path]:
    """Write SigMF metadata for one raw file or an X/Y pair; return the files written."""
    raw_paths = [Path(p) for p in raw_paths]
    if len(raw_paths) not in (1, 2):
        raise UserError("give one raw file or an X/Y pair")
    if not samp_rate or samp_rate <= 0:
        raise UserError(f"--samp-rate must be positive, got {samp_rate}")
    fmt = sample_format(datatype)
    t0 = parse_utc(start_time)
    if len(raw_paths) == 2:
        pols = [raw_polarization(p) for p in raw_paths]
        if pols == ["Y", "X"]:
            raw_paths = raw_paths[::-1]
        elif pols[0] is not None and pols[0] == pols[1]:
            raise UserError(f"both raw files are {pols[0]} polarization")
    counts = []
    for p in raw_paths:
        if not p.is_file():
            raise UserError(f"raw data file not found: {p}")
        size = p.stat().st_size
        n, partial = divmod(size, fmt.sample_bytes)
        if partial:
            raise UserError(
                f"{p.name}: {size} bytes is not a whole number of {fmt.sample_bytes}-byte {fmt.name} samples; "
                "wrong --datatype or a truncated file"
            )
        counts.append(n)
    if len(counts) == 2 and counts[0] != counts[1]:
        raise UserError(
            f"X and Y raw files have different lengths: {counts[0]} vs {counts[1]} samples"
        )
    names = ("X", "Y") if len(raw_paths) == 2 else (raw_polarization(raw_paths[0]) or "",)
    written: list[Path] = []
    metas: list[Path] = []
    for p, n, pol in zip(raw_paths, counts, names):
        meta, dataset = _meta_for(p)
        if meta.exists() and not overwrite:
            raise UserError(f"{meta} exists; use --force to overwrite it")
        extra = {"core:sha512": _sha512(p)} if sha512 else None
        desc = description or (
            f"Raw {fmt.name} capture{f' ({pol} polarization)' if pol else ''} wrapped by heradecode sigmf-wrap"
        )
        sigmf_write.write_meta(
            meta,
            datatype=fmt.name,
            samp_rate=samp_rate,
            num_channels=1,
            center_freq_hz=center_freq_hz,
            start_time=t0,
            num_samples=n,
            hw=hw,
            antenna=antenna,
            description=desc,
            dataset=dataset,
            extra_global=extra,
        )
        metas.append(meta)
        written.append(meta)
    if len(metas) == 2:
        coll = _collection_name(raw_paths[0], raw_paths[1])
        if coll.exists() and not overwrite:
            raise UserError(f"{coll} exists; use --force to overwrite it")
        written.append(sigmf_write.write_collection(coll, metas, description=description))
    return written


def register(subparsers) -> None:
    """Add the ``sigmf-wrap`` sub-command."""
    p = subparsers.add_parser(
        "sigmf-wrap",
        help="write SigMF metadata for raw X/Y I/Q captures",
        description=(
            "Write SigMF metadata (sample rate, centre frequency, capture time, hardware, antenna) beside "
            "raw interleaved-I/Q files, leaving them untouched. A pair gets a .sigmf-collection too."
        ),
    )
    p.add_argument("raw_x", type=Path, metavar="RAW_X", help="raw file of the X polarization (or the only one)")
    p.add_argument("raw_y", type=Path, metavar="RAW_Y", nargs="?", help="raw file of the Y polarization")
    p.add_argument("--samp-rate", type=float, required=True, help="sample rate (samples/s)")
    p.add_argument("--center-freq", type=float, required=True, help="centre (tuning) frequency (Hz)")
    p.add_argument("--start-time", required=True, help="time of the first sample: ISO-8601 UTC or UNIX seconds")
    p.add_argument("--datatype", default="ci16_le", help="SigMF datatype of the raw samples (default ci16_le)")
    p.add_argument("--antenna", default=None, help="antenna description, e.g. 'ATA 6.1 m dish 1a'")
    p.add_argument("--hw", default=DEFAULT_HW, help=f"receiver hardware (default {DEFAULT_HW!r})")
    p.add_argument("--description", default=None, help="free-text description")
    p.add_argument("--sha512", action="store_true", help="also record the SHA-512 of each data file (reads it all)")
    p.add_argument("--force", action="store_true", help="overwrite existing metadata files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``sigmf-wrap``."""
    paths = [args.raw_x] + ([args.raw_y] if args.raw_y else [])
    written = wrap(
        paths,
        samp_rate=args.samp_rate,
        center_freq_hz=args.center_freq,
        start_time=args.start_time,
        datatype=args.datatype,
        antenna=args.antenna,
        hw=args.hw,
        description=args.description,
        sha512=args.sha512,
        overwrite=args.force,
    )
    t0 = format_utc(parse_utc(args.start_time))
    for w in written:
        print(f"wrote {w}")
    print(f"start {t0}, {args.samp_rate:g} samples/s, centre {args.center_freq:.0f} Hz")
    return 0

"""``heradecode turbo-decode``: soft symbols on disk (e.g. from GNU Radio) -> CRC-valid TM frames.

The file holds one soft value per code symbol, float32 (as a GNU Radio file sink writes
them) or int8, in GNU Radio's convention (positive = bit 1; converted here to the
project's LLR convention).  Noise and gaps between codeblocks are fine.  The command
finds the turbo ASM in either polarity, scales the soft values to LLRs (moment estimate
of the signal and noise levels per codeblock), derandomizes, turbo-decodes, checks the
CRC-16 FECF, writes the valid frames without FECF and summarizes them.

A marker too weak to be accepted on its correlation alone (an isolated codeblock after a
gap, near the decoding threshold) is decided by decoding its codeblock
(:mod:`heradecode.fec.confirm`): kept when the decoder's double CRC check passes and the
frame header carries the mission's frame version (TM 0, AOS 1) and spacecraft ID (``--scid``,
by default the mission's).  ``--mission`` (default hera) also gives the code (k, rate) and the
frame and packet layout of the telemetry summary.
The JSON output reports these candidates under ``sync`` (decode attempts, confirmed,
back-filled, screened out).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from heradecode.ccsds.codeblock import CodeblockDecoder
from heradecode.cli._mission import add_mission_argument, mission_from_args
from heradecode.errors import UserError
from heradecode.fec.asm import FrameSync
from heradecode.fec.interleaver import K_VALUES
from heradecode.fec.turbo import ALGORITHMS, DEFAULT_ALGORITHM, INV_RATES
from heradecode.fec.turbocode import TurboCode

log = logging.getLogger("heradecode")

_FORMATS = {"f32": np.float32, "i8": np.int8}
_CHUNK_SYMBOLS = 1 << 20
_BATCH = 16


def rate_arg(text: str) -> int:
    """Parse --rate '1/4' (or '4') into the inverse rate."""
    t = text.strip()
    if t.startswith("1/"):
        t = t[2:]
    try:
        r = int(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a turbo code rate: {text!r} (use 1/2, 1/3, 1/4 or 1/6)") from None
    if r not in INV_RATES:
        raise argparse.ArgumentTypeError(f"turbo code rates are 1/2, 1/3, 1/4, 1/6, not {text!r}")
    return r


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "turbo-decode",
        help="find, decode and check CCSDS turbo codeblocks in a soft-symbol file",
        description="Read soft symbols (GNU Radio convention: positive = bit 1), find the turbo ASM in either "
        "polarity, derandomize, turbo-decode, check the CRC-16 FECF, write the valid frames (without FECF) "
        "and summarize them.",
    )
    p.add_argument("soft_file", type=Path, metavar="SOFT_FILE", help="soft symbols, one per code symbol")
    add_mission_argument(p)
    p.add_argument("--k", type=int, choices=K_VALUES,
                   help="information block length (default: the mission's, 8920 for Hera)")
    p.add_argument("--rate", type=rate_arg,
                   help="code rate 1/2, 1/3, 1/4 or 1/6 (default: the mission's, 1/4 for Hera)")
    p.add_argument("--format", choices=sorted(_FORMATS), default="f32", help="sample format (default f32)")
    p.add_argument("--out", type=Path, metavar="FRAMES.u8", help="write the CRC-valid frames (no FECF) here")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.add_argument("--algorithm", choices=ALGORITHMS, default=DEFAULT_ALGORITHM,
                   help=f"SISO algorithm (default {DEFAULT_ALGORITHM}: max-log with a linear correction, within "
                        f"0.02 dB of log-map; log-map: the exact reference, slower; max-log: ignores the LLR scale)")
    p.add_argument("--iterations", type=int, default=10, help="maximum turbo iterations (default 10)")
    p.add_argument("--scid", type=int,
                   help="spacecraft ID the decoded frame of a weak marker must carry (default: the mission's, "
                        "181 for Hera)")
    p.set_defaults(func=run)


def llr_from_soft(y: np.ndarray) -> np.ndarray:
    """Scale BPSK soft symbols (any amplitude) to LLRs 2*A*y/sigma^2 from their 2nd and 4th moments."""
    y64 = y.astype(np.float64)
    m2 = float(np.mean(y64 * y64))
    m4 = float(np.mean(y64**4))
    if m2 <= 0.0:
        return np.zeros_like(y, dtype=np.float32)
    a2 = np.sqrt(max((3.0 * m2 * m2 - m4) / 2.0, 0.0))  # real BPSK + Gaussian noise: M4 = 3 M2^2 - 2 A^4
    a2 = min(max(a2, 0.02 * m2), 0.98 * m2)  # keep the SNR estimate in [-17, +17] dB
    sigma2 = m2 - a2
    return (y64 * (2.0 * np.sqrt(a2) / sigma2)).astype(np.float32)


def trailing_bytes(path: Path, fmt: str) -> int:
    """Octets at the end of the file that make no whole sample of ``fmt`` (read up to them, and reported)."""
    return path.stat().st_size % np.dtype(_FORMATS[fmt]).itemsize


def _read_chunks(path: Path, fmt: str):
    """The file's whole samples in chunks, as LLRs (read, not memory-mapped: memory stays flat in file length)."""
    dtype = np.dtype(_FORMATS[fmt])
    left = path.stat().st_size // dtype.itemsize
    with open(path, "rb") as fh:
        while left > 0:
            chunk = np.fromfile(fh, dtype=dtype, count=min(_CHUNK_SYMBOLS, left))
            if chunk.size == 0:
                return
            left -= chunk.size
            # GNU Radio: positive = bit 1 -> project LLR convention: positive = bit 0
            yield -(chunk.astype(np.float32))


def run(args: argparse.Namespace) -> int:
    path: Path = args.soft_file
    if not path.exists():
        raise UserError(f"no such file: {path}")
    if not path.is_file():
        raise UserError(f"not a file: {path}")
    if not 1 <= args.iterations <= 100:
        raise UserError(f"--iterations must be in 1..100, got {args.iterations}")
    mission = mission_from_args(args)
    if args.k is None or args.rate is None:
        if mission.coding.scheme != "turbo":
            raise UserError(f"{mission.name} is not turbo coded ({mission.coding.scheme}): give --k and --rate")
        args.k = args.k if args.k is not None else mission.coding.turbo_k
        args.rate = args.rate if args.rate is not None else mission.coding.turbo_inv_rate
    scid = args.scid if args.scid is not None else mission.scid
    scid_limit = 255 if mission.frames.type == "AOS" else 1023
    if scid is not None and not 0 <= scid <= scid_limit:
        raise UserError(f"--scid must be in 0..{scid_limit}, got {scid}")
    if args.out is not None and args.out.is_dir():
        raise UserError(f"--out must be a file, {args.out} is a directory")
    frame_len = args.k // 8 - 2
    stray = trailing_bytes(path, args.format)
    if stray:
        log.warning(f"{path}: the last {stray} byte(s) make no whole {args.format} sample; the samples before "
                    f"them were read")
    code = TurboCode(args.k, args.rate)
    codeblocks = CodeblockDecoder(code, mission.with_frames(scid=scid), algorithm=args.algorithm,
                                  max_iterations=args.iterations, to_llr=llr_from_soft, esn0=False)
    sync = FrameSync(code=code, confirm=codeblocks.confirm())
    telemetry = _telemetry(frame_len, mission)
    counts = {"codeblocks_found": 0, "decoded": 0, "failed": 0, "iterations_total": 0, "inverted": 0}
    t0 = time.perf_counter()
    out_fh = open(args.out, "wb") if args.out is not None else None
    try:
        batch = []

        def flush_batch() -> None:
            if not batch:
                return
            # confirmed markers were decoded already (cb.decoded)
            decoded = codeblocks.decode_batch([cb.soft for cb in batch], [cb.decoded for cb in batch], workers=None)
            for d in decoded:
                counts["iterations_total"] += d.iterations
                if d.crc_ok:
                    counts["decoded"] += 1
                    if out_fh is not None:
                        out_fh.write(d.frame)
                    if telemetry is not None:
                        telemetry.feed(d.frame)
                else:
                    counts["failed"] += 1
            batch.clear()

        def take(codeblocks) -> None:
            for cb in codeblocks:
                counts["codeblocks_found"] += 1
                counts["inverted"] += cb.polarity < 0
                batch.append(cb)
                if len(batch) >= _BATCH:
                    flush_batch()

        for chunk in _read_chunks(path, args.format):
            take(sync.feed(chunk))
        take(sync.flush())
        flush_batch()
        if telemetry is not None:
            telemetry.finish()  # unfinished packets at the end are counted, not left in progress
    finally:
        if out_fh is not None:
            out_fh.close()
    elapsed = time.perf_counter() - t0
    found = counts["codeblocks_found"]
    result = {
        "file": str(path),
        "mission": mission.name,
        "k": args.k,
        "rate": f"1/{args.rate}",
        "algorithm": args.algorithm,
        "codeblocks_found": found,
        "codeblocks_inverted": counts["inverted"],
        "decoded": counts["decoded"],
        "failed": counts["failed"],
        "truncated": sync.n_truncated,
        "trailing_bytes": stray,
        "nonfinite": sync.n_nonfinite,
        "outliers": sync.n_outliers,
        "sync": sync.sync_stats(),
        "mean_iterations": round(counts["iterations_total"] / found, 3) if found else 0.0,
        "frames_written": counts["decoded"] if args.out is not None else 0,
        "elapsed_s": round(elapsed, 3),
        "telemetry": telemetry.summary().to_dict() if telemetry is not None else None,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{path}: {found} codeblocks found ({counts['inverted']} inverted), {counts['decoded']} decoded, "
            f"{counts['failed']} failed CRC, mean {result['mean_iterations']:.2f} iterations "
            f"(k={args.k}, rate 1/{args.rate}, {args.algorithm}, {elapsed:.1f} s)"
        )
        if sync.n_truncated:
            print(f"  {sync.n_truncated} codeblock(s) cut off by the end of the file")
        if sync.n_candidates:
            print(f"  {sync.n_candidates} weak marker candidate(s): {sync.n_attempts} decoded, {sync.n_confirmed} "
                  f"confirmed ({sync.n_backfilled} back-filled), {sync.n_screened} screened out as noise")
        if sync.n_nonfinite or sync.n_outliers:
            print(f"  {sync.n_nonfinite} NaN/infinite and {sync.n_outliers} outlying soft values erased (read as 0)")
        if args.out is not None:
            print(f"  {counts['decoded']} frames of {frame_len} octets written to {args.out}")
        if telemetry is not None:
            print(telemetry.summary().format_text(mission))
        else:
            print(f"  ({frame_len}-octet frames are not {mission.name}'s frames: no telemetry summary)",
                  file=sys.stderr)
    return 0


def _telemetry(frame_len: int, mission):
    """A TelemetryProcessor for the mission's frames, or None when frames of this length cannot be its."""
    from heradecode.products.telemetry import TelemetryProcessor

    try:
        return TelemetryProcessor(mission=mission, frame_length=frame_len)
    except UserError:
        return None

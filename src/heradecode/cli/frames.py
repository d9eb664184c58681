"""``heradecode frames``: summarize and split files of decoded TM or AOS transfer frames of any mission."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from heradecode.ccsds.tmframe import FrameFile
from heradecode.cli._mission import add_mission_argument, mission_from_args
from heradecode.errors import UserError
from heradecode.products.telemetry import TelemetryProcessor


def scid_arg(text: str) -> int | str | None:
    """Parse --scid: a decimal or 0x-hex spacecraft ID, 'any' (None) or 'mission' (the profile's)."""
    if text.lower() == "any":
        return None
    if text.lower() == "mission":
        return "mission"
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a spacecraft ID: {text!r} (use e.g. 181, 0xB5 or 'any')") from None
    if not 0 <= value < 1024:
        raise argparse.ArgumentTypeError(f"spacecraft IDs are 10-bit: 0..1023, not {value}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "frames",
        help="summarize frame files (.u8): VCs, counter gaps, packets, PUS services",
        description="Read files of concatenated TM or AOS transfer frames (as gr-satellites writes them), "
                    "split them by virtual channel, reassemble space packets and label PUS headers or "
                    "secondary-header times, as the mission profile (--mission) lays them out.",
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="frame files, read as one stream in order")
    add_mission_argument(p)
    p.add_argument("--frame-length", type=int,
                   help="octets per frame: the mission's frame length without FECF (default, 1113 for Hera) "
                        "or with FECF (then checked)")
    p.add_argument("--scid", type=scid_arg, default="mission",
                   help="accept only this spacecraft ID (default: the mission's, 181 for Hera; 'any' accepts all)")
    p.add_argument("--vc", type=int, nargs="+", metavar="N", help="reassemble and write only these VCs")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="write vc<N>.u8, packets.csv and summary.json here")
    p.add_argument("--json", action="store_true", help="print the summary as JSON instead of text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for path in args.files:
        if not path.exists():
            raise UserError(f"no such file: {path}")
        if not path.is_file():
            raise UserError(f"not a file: {path}")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise UserError(f"--out must be a directory: {args.out} is a file")
    mission = mission_from_args(args)
    tp = TelemetryProcessor(mission=mission, frame_length=args.frame_length, scid=args.scid, vcids=args.vc,
                            out_dir=args.out)
    frame_length = tp.frame_length
    first_index = 0
    warnings: list[str] = []
    with tp:
        for path in args.files:
            ff = FrameFile(path, frame_length, has_fecf=tp.has_fecf, first_index=first_index, parse=tp.parse)
            for frame in ff:
                tp.feed(frame)
            first_index += len(ff)
            if ff.trailing_bytes:
                tp.stats.trailing_bytes += ff.trailing_bytes
                warnings.append(f"{path}: {ff.trailing_bytes} trailing octets make no whole "
                                f"{frame_length}-octet frame; frames before them were read")
            if len(ff) == 0:
                warnings.append(f"{path}: shorter than one {frame_length}-octet frame")
    for w in warnings:
        print(f"heradecode frames: warning: {w}", file=sys.stderr)
    summary = tp.summary()
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(summary.format_text(mission))
        if args.out is not None:
            print(f"products written to {args.out}/ (vc<N>.u8, packets.csv, summary.json)")
    return 0

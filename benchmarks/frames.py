#!/usr/bin/env python3
"""Frame-layer throughput: frames/s and packets/s through parse -> VC demux -> packets -> PUS labels.

Usage: python benchmarks/frames.py [FRAME_FILE] [--repeat N]
Default: the 2402-frame high-rate launch-day file.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from heradecode.ccsds.tmframe import FrameFile
from heradecode.products.telemetry import TelemetryProcessor

DEFAULT = Path(__file__).resolve().parents[1] / "recordings/hera/hera_high_rate_frames_2024_10_07_17_06_31.u8"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        tp = TelemetryProcessor()
        for frame in FrameFile(args.file):
            tp.feed(frame)
        dt = time.perf_counter() - t0
        best = min(best, dt)
    s = tp.summary()
    packets = sum(s.packets_by_apid.values())
    print(f"file            {args.file.name}")
    print(f"frames          {s.frames_total}")
    print(f"packets         {packets}")
    print(f"best of {args.repeat}       {best * 1e3:.1f} ms")
    print(f"frames/s        {s.frames_total / best:,.0f}")
    print(f"packets/s       {packets / best:,.0f}")
    print(f"Mbit/s of frames {s.frames_total * 1113 * 8 / best / 1e6:.1f}")


if __name__ == "__main__":
    main()

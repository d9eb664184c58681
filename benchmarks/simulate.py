"""Benchmark of the simulator: generation speed and peak memory against recording length.

Prints the seconds of 6.144 Msps dual-polarization signal generated per wall-clock second and the
peak resident memory of a run making 60 s and one making 600 s of signal (each in its own process,
so the figures do not mix).  Memory must not grow with the length.

    .venv/bin/python benchmarks/simulate.py                 # 60 s and 600 s, generation only
    .venv/bin/python benchmarks/simulate.py --quick         # 6 s and 60 s
    .venv/bin/python benchmarks/simulate.py --write /tmp/x  # also write the SigMF files (600 s = 29.5 GB!)

"Generation only" runs the whole chain (coding, modulation, channel, noise, quantization to ci16)
and drops the samples instead of writing them; ``--write`` adds the file writes and the metadata.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HIGH = REPO / "recordings" / "hera" / "hera_high_rate_frames_2024_10_07_17_06_31.u8"
DOPPLER = REPO / "recordings" / "hera" / "hera_doppler.txt"


def _params(duration_s: float, mode: str):
    from heradecode.io.dopplerfile import read_doppler_profile
    from heradecode.sim import SimParams

    prof = read_doppler_profile(DOPPLER)
    return SimParams.preset(
        mode, samp_rate=6.144e6, duration_s=duration_s, frames_path=str(HIGH), ebn0_db=5.0,
        start_time="2024-10-07T17:00:00Z", doppler=list(zip(prof.unix_time.tolist(), prof.freq_hz.tolist())),
        pol_rotation_deg_s=1.0, clock_offset_ppm=10.0, datatype="ci16_le", seed=1,
    )


def one_run(duration_s: float, mode: str, write_dir: Path | None) -> dict:
    """Generate ``duration_s`` of signal in this process; return timing and peak memory."""
    import numpy as np

    from heradecode.sim import iter_samples, simulate

    # compile the numba kernels outside the timed region
    for _ in iter_samples(_params(0.01, mode)):
        pass
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    params = _params(duration_s, mode)
    t0 = time.perf_counter()
    n = 0
    if write_dir is None:
        check = 0
        for _, chunk in iter_samples(params):
            n += chunk.shape[0]
            check ^= int(np.bitwise_xor.reduce(chunk[:1].ravel().view(np.uint16)))
    else:
        write_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=write_dir) as tmp:
            truth = simulate(params, Path(tmp) / "bench")
            n = truth.num_samples
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "duration_s": duration_s,
        "samples": n,
        "wall_s": wall,
        "signal_s_per_wall_s": n / 6.144e6 / wall,
        "peak_rss_mb": peak / 1024,
        "rss_before_run_mb": rss0 / 1024,
        "written": write_dir is not None,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="6 s and 60 s instead of 60 s and 600 s")
    ap.add_argument("--durations", type=float, nargs="+", help="signal lengths (s) to run")
    ap.add_argument("--mode", default="high", choices=("low", "high"))
    ap.add_argument("--write", type=Path, help="also write the SigMF files under this folder (deleted after)")
    ap.add_argument("--one", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(one_run(args.one, args.mode, args.write)))
        return 0
    durations = args.durations or ([6.0, 60.0] if args.quick else [60.0, 600.0])
    results = []
    for d in durations:
        cmd = [sys.executable, __file__, "--one", str(d), "--mode", args.mode]
        if args.write:
            cmd += ["--write", str(args.write)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        results.append(r)
        print(
            f"{args.mode}-rate, {d:6.0f} s of 6.144 Msps dual-pol ci16 {'(written)' if r['written'] else '(generated)'}: "
            f"{r['wall_s']:7.1f} s wall, {r['signal_s_per_wall_s']:.2f} s of signal per s, "
            f"peak RSS {r['peak_rss_mb']:.0f} MB (after warm-up {r['rss_before_run_mb']:.0f} MB)",
            flush=True,
        )
    if len(results) >= 2:
        grow = results[-1]["peak_rss_mb"] - results[0]["peak_rss_mb"]
        print(f"peak memory growth from {durations[0]:g} s to {durations[-1]:g} s: {grow:+.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

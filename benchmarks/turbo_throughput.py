"""Decoded information throughput of the CCSDS turbo decoder on this machine (k = 8920, rate 1/4).

Measures Mb/s of decoded information bits (8920 per codeblock) for 1 and 2 worker threads
(decode_batch), at a fixed 10 iterations (no early stop) and with CRC early stopping at
Eb/N0 = 0.3 (near the threshold), 0.5 and 1.0 dB, for each algorithm (default: all, the
decoder's default first).  The codeblocks are generated (encoded, BPSK, AWGN) before
timing; each figure is the best of --repeat runs (the machine may be shared: repeat).
A high-rate Hera pass needs about 9 codeblocks/s = 0.08 Mb/s ("x real time" column).

    python benchmarks/turbo_throughput.py [--frames 64] [--algorithms linear-log-map,max-log] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from heradecode.fec import turbo
from heradecode.fec.crc import append_fecf

HIGH_RATE_PASS_MBPS = 9 * 8920 / 1e6


def make_llrs(n: int, ebn0_db: float, k: int, inv_rate: int, rng) -> np.ndarray:
    n_sym = (k + 4) * inv_rate
    sigma = np.sqrt(1.0 / (2.0 * 10 ** (ebn0_db / 10) * k / n_sym))
    llrs = np.empty((n, n_sym), dtype=np.float32)
    for i in range(n):
        frame = append_fecf(rng.integers(0, 256, k // 8 - 2, dtype=np.uint8).tobytes())
        bits = np.unpackbits(np.frombuffer(frame, dtype=np.uint8))
        x = 1.0 - 2.0 * turbo.encode(bits, inv_rate).astype(np.float32)
        llrs[i] = (x + np.float32(sigma) * rng.standard_normal(n_sym, dtype=np.float32)) * np.float32(2 / sigma**2)
    return llrs


def measure(dec: turbo.TurboDecoder, llrs: np.ndarray, workers: int, repeat: int) -> tuple[float, float, float]:
    """Best-of-repeat seconds per codeblock, mean iterations, fraction CRC ok."""
    dec.decode_batch(llrs[: max(workers, 2)], workers=workers)  # warm up threads and workspaces
    best = float("inf")
    results = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        results = dec.decode_batch(llrs, workers=workers)
        best = min(best, time.perf_counter() - t0)
    iters = float(np.mean([r.iterations for r in results]))
    ok = float(np.mean([r.crc_ok for r in results]))
    return best / len(llrs), iters, ok


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=64, help="codeblocks per measurement (default 64)")
    p.add_argument("--repeat", type=int, default=5, help="best of this many runs (default 5)")
    p.add_argument("--algorithms", default=",".join(turbo.ALGORITHMS))
    p.add_argument("--workers", default="1,2", help="comma-separated thread counts (default 1,2)")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    k, r = 8920, 4
    rng = np.random.default_rng(args.seed)
    sets = {
        "10 it fixed, 0.5 dB": (make_llrs(args.frames, 0.5, k, r, rng), False),
        "early stop, 0.3 dB": (make_llrs(args.frames, 0.3, k, r, rng), True),
        "early stop, 0.5 dB": (make_llrs(args.frames, 0.5, k, r, rng), True),
        "early stop, 1.0 dB": (make_llrs(args.frames, 1.0, k, r, rng), True),
    }
    workers = [int(w) for w in args.workers.split(",")]
    print(f"load average before: {tuple(round(x, 2) for x in os.getloadavg())}, {os.cpu_count()} CPUs, "
          f"{args.frames} codeblocks per run, best of {args.repeat}")
    print(f"{'algorithm':>14} {'condition':>20} {'threads':>7} {'ms/cb':>7} {'Mb/s':>7} {'Mb/s/thr':>8} "
          f"{'iter':>5} {'ok':>5} {'x real time':>11}")
    for alg in args.algorithms.split(","):
        for name, (llrs, stop) in sets.items():
            dec = turbo.TurboDecoder(k, r, algorithm=alg, stop_on_crc=stop, max_iterations=10)
            for w in workers:
                sec, iters, ok = measure(dec, llrs, w, args.repeat)
                mbps = k / sec / 1e6
                print(f"{alg:>14} {name:>20} {w:>7d} {sec * 1e3:7.3f} {mbps:7.2f} {mbps / w:8.2f} {iters:5.2f} "
                      f"{ok:5.2f} {mbps / HIGH_RATE_PASS_MBPS:11.0f}", flush=True)
    print(f"load average after: {tuple(round(x, 2) for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

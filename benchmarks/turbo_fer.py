"""Frame and bit error rate of the CCSDS turbo decoder on BPSK/AWGN (k = 8920, rate 1/4 by default).

Eb/N0 is per information bit, codeblock symbols only (no ASM): Es/N0 = Eb/N0 + 10 log10(k / n).
Each frame is a random 1113-octet frame with its CRC-16 FECF; decoding stops early when the
CRC checks (as in operation).  A frame error is any difference from the sent bits
(undetected errors included).  Every algorithm sees the same frames and noise at each point
(the generator is seeded from --seed and the point), so the curves compare paired trials.

Besides the calibrated LLRs L = 2 y / sigma^2, the mis-scaled cases decode c * L for each
c in --llr-scales (default 0.7 and 1.4: Es/N0 estimated 1.5 dB low or high), as a receiver
with a poor Es/N0 estimate would deliver them; max-log ignores the scale, so it is left out.

Prints a table and the Eb/N0 at FER 1e-2 per curve, writes a CSV (calibrated curves, the
file benchmarks/chain_fer.py reads), a second CSV for the mis-scaled curves and a PNG plot
with the rate-1/4 binary-input capacity limit (-0.79 dB) and the reference points quoted
from the CCSDS green book (130.1-G) for a careful log-MAP decoder at 10 iterations.

Quick look (minutes):            python benchmarks/turbo_fer.py --quick
Full run (>= 100 frame errors or 10,000 frames per point, hours on 2 cores):
                                 python benchmarks/turbo_fer.py --min-errors 100 --max-frames 10000
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

from heradecode.fec import turbo
from heradecode.fec.crc import append_fecf

CAPACITY_LIMIT_DB = -0.79  # rate-1/4 binary-input AWGN
REFERENCE_POINTS = [(0.07, 1e-2), (0.10, 3e-3)]  # log-MAP, 10 iterations, k = 8920, rate 1/4


def _parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ebn0", type=str, default="-0.1,0.0,0.05,0.1,0.15,0.2,0.25,0.3,0.4",
                   help="comma-separated Eb/N0 points in dB (default -0.1..0.4)")
    p.add_argument("--algorithms", type=str, default=",".join(turbo.ALGORITHMS), help="comma-separated algorithms")
    p.add_argument("--llr-scales", type=str, default="0.7,1.4",
                   help="comma-separated LLR scale errors for the mis-scaled curves ('' for none; default 0.7,1.4)")
    p.add_argument("--report-at", type=float, default=0.3, help="Eb/N0 (dB) of the FER summary line (default 0.3)")
    p.add_argument("--k", type=int, default=8920)
    p.add_argument("--rate", type=int, default=4, help="inverse rate (default 4)")
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--scale", type=float, default=None, help="extrinsic scale (default: algorithm's)")
    p.add_argument("--min-errors", type=int, default=100, help="stop a point after this many frame errors")
    p.add_argument("--max-frames", type=int, default=10000, help="stop a point after this many frames")
    p.add_argument("--batch", type=int, default=64, help="frames per decode_batch call")
    p.add_argument("--workers", type=int, default=None, help="decoder threads (default: all cores)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="small run: 20 errors or 400 frames per point")
    p.add_argument("--out", type=Path, default=Path("out/benchmarks"),
                   help="directory for CSV and PNG (default out/benchmarks)")
    return p.parse_args(argv)


def run_point(dec: turbo.TurboDecoder, ebn0_db: float, rng, min_errors: int, max_frames: int, batch: int,
              workers: int | None, llr_scale: float = 1.0) -> dict:
    """Decode frames at one Eb/N0 until min_errors frame errors or max_frames; LLRs multiplied by llr_scale."""
    k = dec.k
    n = dec.n_symbols
    esn0 = 10 ** (ebn0_db / 10) * k / n
    sigma = np.sqrt(1.0 / (2.0 * esn0))
    frames = frame_errors = bit_errors = iters = 0
    t0 = time.perf_counter()
    while frame_errors < min_errors and frames < max_frames:
        m = min(batch, max_frames - frames)
        sent = np.empty((m, k), dtype=np.uint8)
        llrs = np.empty((m, n), dtype=np.float32)
        for i in range(m):
            frame = append_fecf(rng.integers(0, 256, k // 8 - 2, dtype=np.uint8).tobytes())
            sent[i] = np.unpackbits(np.frombuffer(frame, dtype=np.uint8))
            x = 1.0 - 2.0 * turbo.encode(sent[i], dec.inv_rate).astype(np.float32)
            y = x + np.float32(sigma) * rng.standard_normal(n, dtype=np.float32)
            llrs[i] = y * np.float32(2.0 / sigma**2 * llr_scale)
        for i, res in enumerate(dec.decode_batch(llrs, workers=workers)):
            errs = int(np.count_nonzero(res.bits != sent[i]))
            bit_errors += errs
            frame_errors += errs > 0
            iters += res.iterations
        frames += m
    elapsed = time.perf_counter() - t0
    return {
        "algorithm": dec.algorithm,
        "scale": dec.extrinsic_scale,
        "llr_scale": llr_scale,
        "ebn0_db": ebn0_db,
        "frames": frames,
        "frame_errors": frame_errors,
        "fer": frame_errors / frames,
        "ber": bit_errors / (frames * k),
        "mean_iterations": iters / frames,
        "seconds": elapsed,
    }


def fer_crossing(rows: list[dict], target: float) -> float | None:
    """Eb/N0 where the FER falls through target (log-linear interpolation), or None."""
    pts = sorted((r["ebn0_db"], r["fer"]) for r in rows)
    for (x0, f0), (x1, f1) in zip(pts, pts[1:]):
        if f0 >= target > f1:
            if f1 <= 0:
                return x1
            return x0 + (np.log10(f0) - np.log10(target)) / (np.log10(f0) - np.log10(f1)) * (x1 - x0)
    return None


def _label(alg: str, llr_scale: float) -> str:
    return alg if llr_scale == 1.0 else f"{alg} LLR x{llr_scale:g}"


def plot(rows: list[dict], path: Path, k: int, rate: int, iterations: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    algs = list(dict.fromkeys(r["algorithm"] for r in rows))
    styles = {1.0: "-"}
    for alg, llr_scale in dict.fromkeys((r["algorithm"], r["llr_scale"]) for r in rows):
        sel = sorted((r for r in rows if r["algorithm"] == alg and r["llr_scale"] == llr_scale),
                     key=lambda r: r["ebn0_db"])
        x = [r["ebn0_db"] for r in sel]
        color = f"C{algs.index(alg)}"
        ls = styles.setdefault(llr_scale, ["--", ":", "-."][(len(styles) - 1) % 3])
        ax.semilogy(x, [r["fer"] if r["frame_errors"] else np.nan for r in sel], "o" + ls, color=color, ms=4,
                    label=f"FER {_label(alg, llr_scale)}")
        if llr_scale == 1.0:
            ax.semilogy(x, [r["ber"] if r["ber"] > 0 else np.nan for r in sel], "s", color=color, alpha=0.5, ms=3,
                        label=f"BER {alg}")
    ax.axvline(CAPACITY_LIMIT_DB, color="k", ls=":", label=f"capacity limit r=1/4 ({CAPACITY_LIMIT_DB} dB)")
    rx, ry = zip(*REFERENCE_POINTS)
    ax.semilogy(rx, ry, "k*", ms=12, label="CCSDS 130.1-G log-MAP reference")
    ax.set_xlabel("Eb/N0 per information bit (dB)")
    ax.set_ylabel("error rate")
    ax.set_title(f"CCSDS turbo k={k}, rate 1/{rate}, {iterations} iterations, BPSK/AWGN")
    ax.grid(True, which="both", alpha=0.3)
    ax.set_ylim(1e-7, 1)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def main(argv=None) -> int:
    args = _parse_args(argv)
    if args.quick:
        args.min_errors, args.max_frames = 20, 400
    points = sorted(float(v) for v in args.ebn0.split(","))
    algorithms = [a.strip() for a in args.algorithms.split(",")]
    llr_scales = [float(v) for v in args.llr_scales.split(",") if v.strip()]
    cases = [(alg, 1.0) for alg in algorithms]
    cases += [(alg, c) for c in llr_scales for alg in algorithms if alg != "max-log" and c != 1.0]
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs", flush=True)
    rows = []
    hdr = (f"{'algorithm':>14} {'LLRx':>4} {'scale':>5} {'Eb/N0':>6} {'frames':>7} {'errors':>6} {'FER':>9} "
           f"{'BER':>9} {'iter':>5} {'s':>6}")
    print(hdr, flush=True)
    for alg, llr_scale in cases:
        dec = turbo.TurboDecoder(args.k, args.rate, algorithm=alg, extrinsic_scale=args.scale,
                                 max_iterations=args.iterations)
        for ebn0 in points:
            rng = np.random.default_rng([args.seed, round(ebn0 * 1000) + 10**6])  # same frames for every curve
            r = run_point(dec, ebn0, rng, args.min_errors, args.max_frames, args.batch, args.workers, llr_scale)
            rows.append(r)
            print(f"{alg:>14} {llr_scale:4.2f} {r['scale']:5.2f} {ebn0:6.2f} {r['frames']:7d} {r['frame_errors']:6d} "
                  f"{r['fer']:9.2e} {r['ber']:9.2e} {r['mean_iterations']:5.2f} {r['seconds']:6.1f}", flush=True)
            if r["frame_errors"] == 0:
                break  # higher points would need far more frames
    stem = f"turbo_fer_k{args.k}_r{args.rate}"
    _write_csv(args.out / f"{stem}.csv", [r for r in rows if r["llr_scale"] == 1.0])
    written = [args.out / f"{stem}.csv"]
    if any(r["llr_scale"] != 1.0 for r in rows):
        _write_csv(args.out / f"{stem}_llr_scale.csv", [r for r in rows if r["llr_scale"] != 1.0])
        written.append(args.out / f"{stem}_llr_scale.csv")
    plot(rows, args.out / f"{stem}.png", args.k, args.rate, args.iterations)
    written.append(args.out / f"{stem}.png")
    print()
    crossing = {case: fer_crossing([r for r in rows if (r["algorithm"], r["llr_scale"]) == case], 1e-2)
                for case in cases}
    ref = crossing.get(("log-map", 1.0))
    for case, x in crossing.items():
        loss = "" if x is None or ref is None or case == ("log-map", 1.0) else f"  ({x - ref:+.3f} dB against log-MAP)"
        print(f"{_label(*case):>24}: FER 1e-2 at {'n/a' if x is None else f'{x:.3f} dB'}{loss}")
    for case in cases:
        sel = sorted((r for r in rows if (r["algorithm"], r["llr_scale"]) == case), key=lambda r: r["ebn0_db"])
        at = [r for r in sel if abs(r["ebn0_db"] - args.report_at) < 1e-9]
        clean = [r for r in sel if r["ebn0_db"] <= args.report_at and r["frame_errors"] == 0]
        if at:
            text = f"{at[0]['fer']:.2e} ({at[0]['frame_errors']} of {at[0]['frames']} frames)"
        elif clean:
            text = f"< {1 / clean[0]['frames']:.0e} (no error in {clean[0]['frames']} frames at {clean[0]['ebn0_db']:.2f} dB)"
        else:
            text = "not measured"
        print(f"{_label(*case):>24}: FER at {args.report_at:.2f} dB {text}")
    print(f"reference (CCSDS 130.1-G, log-MAP): FER 1e-2 at 0.07 dB, 3e-3 at 0.10 dB; capacity {CAPACITY_LIMIT_DB} dB")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())

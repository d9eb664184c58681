"""Batch decoding throughput: a batch of recordings on 1 and 2 local workers and on a 2-worker Dask cluster.

Eight simulated high-rate recordings (real Hera frames, 1.536 Msps ci8, dual polarization, Eb/N0
6 dB, a different seed, carrier offset and clock offset each) are decoded by
:class:`heradecode.batch.Batch` (mode detection, segments, products written as ``heradecode
decode`` writes them) on:

* the local process pool with 1 worker and with 2 workers;
* a Dask ``LocalCluster`` of 2 worker processes (1 thread each, loopback TCP).

Figures printed per run:

* throughput = signal seconds decoded / wall seconds of the batch (cluster start-up and the workers'
  warm-up, a batch of two of the recordings that loads the imports and numba caches in every worker
  process, excluded; both printed apart);
* Dask overhead = Dask wall time / local pool wall time (same number of workers) - 1 (target <= 10 %),
  and the same ratio of CPU time (user + system, summed over the batch's process and every process
  under it: workers, nannies, the LocalCluster's scheduler), which other jobs on a shared machine
  disturb much less than wall time; with ``--repeat N`` every configuration runs N times, interleaved,
  and the overhead is taken between the fastest runs (wall) and the smallest CPU times, the runs
  least disturbed by other jobs;
* bytes through the scheduler per recording: the pickled tasks (function and arguments: the
  recording's path, the options, a segment's sample offsets) and the pickled results (the decoded
  codeblocks with their frames, the carrier track rows, the figures), next to the bytes of samples
  the workers read from disk themselves.  Samples never go through the executor.

    .venv/bin/python benchmarks/batch.py                 # 8 recordings of 2 s (under a minute on 2 cores)
    .venv/bin/python benchmarks/batch.py --repeat 2      # each configuration twice, fastest kept (~1 min)
    .venv/bin/python benchmarks/batch.py --seconds 4 --recordings 8

Measured (2026-12-03, 2 cores shared with other jobs, default sizes: 16.6 s of signal, 144 frames):
with ``--repeat 2`` at load average 2.2-2.5 during the run, Dask overhead +7.6 % and +8.0 % in wall
time (local pool of 2: 3.8 s, LocalCluster of 2: 4.0 and 4.1 s), +2.8 % and +0.0 % in CPU time;
single runs at load 3.4-5.1: wall 0.0 %, -18.9 %, -16.0 % (others' jobs dominate), CPU +6.6 %,
+5.5 %, +5.9 %.  A timeline of the batch's events shows both executors keeping their two workers
busy 97 % of the batch's wall time; what Dask adds is its own processes' CPU (scheduler, nannies,
heartbeats), not idle workers.  Per recording 0.6 kB of tasks and 32.5 kB of results (18 frames)
went through the scheduler, against 12.7 MB of samples the workers read themselves.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from heradecode.batch import Batch, BatchOptions, DaskRunner, LocalRunner  # noqa: E402
from heradecode.sim import SimParams, simulate  # noqa: E402

HIGH = REPO / "recordings" / "hera" / "hera_high_rate_frames_2024_10_07_17_06_31.u8"


def make_recordings(folder: Path, count: int, seconds: float) -> list[Path]:
    """``count`` simulated high-rate recordings of about ``seconds`` each."""
    paths = []
    n_frames = max(2, int(seconds / 0.1111))
    for i in range(count):
        params = SimParams.preset("high", samp_rate=1.536e6, frames_path=str(HIGH), first_frame=10 * i,
                                  num_frames=n_frames, ebn0_db=6.0, datatype="ci8",
                                  carrier_offset_hz=-4000.0 + 1000.0 * i, clock_offset_ppm=-10.0 + 3.0 * i,
                                  seed=1600 + i)
        simulate(params, folder / f"bench_{i}")
        paths.append(folder / f"bench_{i}.sigmf-meta")
    return paths


def tree_cpu_s() -> float:
    """CPU seconds (user + system) used so far by this process and every live process under it."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def run_once(label: str, paths: list[Path], out: Path, make_runner) -> dict:
    """Start the runner, warm its workers up (imports, numba caches) on two recordings, then time the batch."""
    t0 = time.monotonic()
    runner = make_runner()
    startup = time.monotonic() - t0
    t0 = time.monotonic()
    Batch(paths[:2], out.with_name(out.name + "-warm-up"), BatchOptions()).run(runner, close=False)
    warmup = time.monotonic() - t0
    cpu0 = tree_cpu_s()
    report = Batch(paths, out, BatchOptions(mode="auto")).run(runner, close=False)
    report["cpu_s"] = tree_cpu_s() - cpu0
    runner.close()
    bad = [r["name"] for r in report["recordings"] if r["status"] != "ok"]
    if bad:
        raise SystemExit(f"{label}: recordings not decoded: {bad}")
    report.update(startup_s=startup, warmup_s=warmup, label=label)
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--recordings", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=2.0, help="signal seconds per recording")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each configuration, interleaved; the overhead is taken between the fastest "
                         "runs (the least disturbed by other jobs)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="heradecode-batch-bench-") as tmp:
        tmp = Path(tmp)
        paths = make_recordings(tmp / "in", args.recordings, args.seconds)
        sample_bytes = sum(f.stat().st_size for f in (tmp / "in").glob("*.sigmf-data")) / len(paths)
        Batch(paths[:1], tmp / "warm", BatchOptions()).run(LocalRunner(1))  # numba caches written (first run only)
        configs = [("local pool, 1 worker", lambda: LocalRunner(1)), ("local pool, 2 workers", lambda: LocalRunner(2)),
                   ("Dask LocalCluster, 2 workers", lambda: DaskRunner(None, local_workers=2))]
        every = [run_once(label, paths, tmp / f"run{k}-{i}", make)
                 for k in range(max(1, args.repeat)) for i, (label, make) in enumerate(configs)]
    runs = [min((r for r in every if r["label"] == label), key=lambda r: r["wall_s"]) for label, _ in configs]
    cpu_min = {label: min(r["cpu_s"] for r in every if r["label"] == label) for label, _ in configs}
    signal_s = runs[0]["signal_s"]
    print(f"batch of {len(paths)} recordings, {signal_s:.1f} s of signal in all "
          f"(high rate, 1.536 Msps ci8, 2 channels: {sample_bytes / 1e6:.1f} MB of samples each)")
    print(f"{'run':<30} {'wall s':>7} {'CPU s':>7} {'start s':>7} {'warm s':>7} {'signal s/s':>10} {'frames':>6} "
          f"{'task B/rec':>10} {'result B/rec':>12}")
    for r in every if args.repeat > 1 else runs:
        frames = sum(x["frames"] for x in r["recordings"])
        print(f"{r['label']:<30} {r['wall_s']:7.1f} {r['cpu_s']:7.1f} {r['startup_s']:7.1f} {r['warmup_s']:7.1f} "
              f"{r['signal_s'] / r['wall_s']:10.2f} "
              f"{frames:6d} {r['task_bytes'] / len(paths):10.0f} {r['result_bytes'] / len(paths):12.0f}")
    if args.repeat > 1:
        print(f"fastest of {args.repeat} runs each: " + ", ".join(f"{r['label']} {r['wall_s']:.1f} s" for r in runs))
    overhead = runs[2]["wall_s"] / runs[1]["wall_s"] - 1.0
    labels = [label for label, _ in configs]
    cpu_overhead = cpu_min[labels[2]] / cpu_min[labels[1]] - 1.0
    print(f"Dask overhead against the local pool (2 workers each): wall time {100 * overhead:+.1f} %, CPU time "
          f"{100 * cpu_overhead:+.1f} % (target <= 10 %; CPU time, of every process of the run, depends less on "
          f"the other jobs on the machine)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (others' work slows "
          f"every figure)")
    print(f"speed-up of 2 local workers over 1: {runs[0]['wall_s'] / runs[1]['wall_s']:.2f}x")
    print(f"through the scheduler per recording: {runs[2]['task_bytes'] / len(paths) / 1e3:.1f} kB of tasks and "
          f"{runs[2]['result_bytes'] / len(paths) / 1e3:.1f} kB of results (decoded frames), against "
          f"{sample_bytes / 1e6:.1f} MB of samples read by the workers from the files")
    return 0


if __name__ == "__main__":
    sys.exit(main())

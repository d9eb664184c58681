"""Speed and memory of the whole receiver chain on 6.144 Msps dual-polarization ci16 recordings.

Prints, for each mode (low 60.2375 kbaud, high 322.56 kbaud):

* the real-time factor (seconds of 6.144 Msps dual-pol ci16 signal decoded per wall-clock
  second) of ``decode_recording(..., workers=N)`` for N = 1 and 2.  With N > 1 the recording is
  cut by ``plan_segments`` into max(N, ceil(length / 60 s)) overlapping segments decoded in
  worker processes, so a 60 s recording gives two 30 s segments on 2 workers;
* a per-stage CPU breakdown (cProfile of one in-process run, single thread): read, decimate,
  nco, acquisition, combine, pll, biphase, look-back (the demodulator's backward pass after
  each acquisition), framesync, turbo, other; also on the drop-out recording;
* the peak resident memory of ``heradecode decode`` run in a child process (os.wait4 rusage:
  the largest of the process and its workers) on a 60 s and a 300 s recording, which must be
  flat in the recording length;
* the same real-time factor on a recording with repeated drop-outs (issue 12): the signal falls
  25 dB for 2 s every 10 s, with 0.1 s ramps in and out, so that the carrier loop loses lock,
  re-acquires and the demodulator looks back after every drop-out ("drop-outs" rows; frames
  lost in the drop-outs are expected).  Re-acquisition and look-back must not cost more than
  30 % of the clean-signal speed.

Recordings come from the simulator (real launch-day Doppler profile, Eb/N0 3 dB, 10 ppm clock
offset, a slowly rotating polarization) in a temporary folder and are deleted afterwards
(6.144 Msps dual-pol ci16 is 49 MB/s: 300 s = 14.7 GB; free space is checked first).
Recordings are decoded right after they are written, so they are read from the page cache; the
"cold file" rows first drop the file from the page cache (posix_fadvise), so it is read from disk.

    .venv/bin/python benchmarks/chain_speed.py                 # full: 60 s speed runs, 60 s and 300 s memory
    .venv/bin/python benchmarks/chain_speed.py --seconds 10 --memory-seconds 10 30   # quick look
    .venv/bin/python benchmarks/chain_speed.py --tmp /big/disk # where the recordings go

Targets: >= 12x real time with 2 workers at 322.56 kbaud on clean signal (issue 12; 10x in issue 5);
with repeated drop-outs at least 70 % of the clean-signal speed; memory flat in length.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HIGH_FRAMES = REPO / "recordings" / "hera" / "hera_high_rate_frames_2024_10_07_17_06_31.u8"
DOPPLER = REPO / "recordings" / "hera" / "hera_doppler.txt"
FS = 6.144e6
BYTES_PER_S = FS * 2 * 4  # two channels of ci16 I/Q
START = "2024-10-07T16:40:00Z"  # Doppler about -25 kHz, drifting -9 Hz/s
TARGET_RTF = 12.0
DROPOUT_MIN_SHARE = 0.7  #: real-time factor with repeated drop-outs over the clean one, at least
DROPOUT_EVERY_S, DROPOUT_DOWN_S, DROPOUT_RAMP_S, DROPOUT_DB = 10.0, 2.0, 0.1, -25.0

# stage of a function called by the receiver, by the file it is defined in
STAGE_OF_FILE = {
    "io/recording.py": "read",
    "dsp/decimate.py": "decimate",
    "dsp/nco.py": "nco",
    "dsp/acquisition.py": "acquisition",
    "dsp/polcombine.py": "combine",
    "dsp/pll.py": "pll",
    "dsp/biphase.py": "biphase",
    "fec/asm.py": "framesync",
    "fec/randomizer.py": "turbo",
    "fec/turbo.py": "turbo",
    "fec/_bcjr.py": "turbo",
    "ccsds/codeblock.py": "turbo",
}
STAGES = ["read", "decimate", "nco", "acquisition", "combine", "pll", "biphase", "look-back", "framesync", "turbo"]
# callers whose calls into the stage files are counted (the receiver, and the demodulator for its blocks); calls
# made by the demodulator's look-back (the backward carrier loop and bi-phase demodulator) count as "look-back"
ENTRY_FILES = ("heradecode/receiver/core.py", "heradecode/receiver/parallel.py", "heradecode/dsp/frontend.py",
               "heradecode/dsp/demod.py", "heradecode/ccsds/codeblock.py")


def _profile():
    from heradecode.io.dopplerfile import read_doppler_profile

    return read_doppler_profile(DOPPLER)


def dropout_fades(seconds: float) -> list[tuple[float, float]]:
    """Gain profile: DROPOUT_DB for DROPOUT_DOWN_S every DROPOUT_EVERY_S (the first 4 s in), linear ramps."""
    pts = [(0.0, 0.0)]
    t = 4.0
    while t + DROPOUT_DOWN_S + 2 * DROPOUT_RAMP_S < seconds:
        pts += [(t, 0.0), (t + DROPOUT_RAMP_S, DROPOUT_DB), (t + DROPOUT_RAMP_S + DROPOUT_DOWN_S, DROPOUT_DB),
                (t + 2 * DROPOUT_RAMP_S + DROPOUT_DOWN_S, 0.0)]
        t += DROPOUT_EVERY_S
    return pts + [(seconds + 1.0, 0.0)]


def _sim_params(mode: str, seconds: float, ebn0_db: float, seed: int = 1, dropouts: bool = False):
    from heradecode.sim import SimParams

    prof = _profile()
    return SimParams.preset(
        mode, samp_rate=FS, duration_s=seconds, frames_path=str(HIGH_FRAMES), start_time=START,
        ebn0_db=ebn0_db, doppler=list(zip(prof.unix_time.tolist(), prof.freq_hz.tolist())),
        clock_offset_ppm=10.0, pol_angle_deg=30.0, pol_rotation_deg_s=0.5, datatype="ci16_le", seed=seed,
        fades=dropout_fades(seconds) if dropouts else None,
    )


def _check_disk(folder: Path, seconds: float) -> None:
    need = seconds * BYTES_PER_S
    free = shutil.disk_usage(folder).free
    if free < need + 2e9:
        sys.exit(f"chain_speed: {seconds:g} s of signal needs {need / 1e9:.1f} GB in {folder} "
                 f"but only {free / 1e9:.1f} GB are free (keep 2 GB spare); use --tmp or shorter runs")


def make_recording(folder: Path, mode: str, seconds: float, ebn0_db: float,
                   dropouts: bool = False) -> tuple[Path, int]:
    """Simulate a recording (with repeated drop-outs: :func:`dropout_fades`); returns (metadata path, codeblocks sent)."""
    from heradecode.sim import simulate

    _check_disk(folder, seconds)
    t0 = time.perf_counter()
    name = f"{mode}_{seconds:g}s{'_dropouts' if dropouts else ''}"
    truth = simulate(_sim_params(mode, seconds, ebn0_db, dropouts=dropouts), folder / name)
    print(f"  simulated {seconds:g} s {mode}-rate{' with drop-outs' if dropouts else ''} "
          f"({seconds * BYTES_PER_S / 1e9:.1f} GB) in {time.perf_counter() - t0:.0f} s: "
          f"{truth.num_codeblocks} codeblocks", flush=True)
    return folder / f"{name}.sigmf-meta", truth.num_codeblocks


def evict_from_page_cache(meta: Path) -> None:
    """Drop this recording's data from the page cache (posix_fadvise DONTNEED), so the next read is cold."""
    data = meta.with_name(meta.name.replace(".sigmf-meta", ".sigmf-data"))
    fd = os.open(data, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def remove_recording(meta: Path) -> None:
    base = meta.with_name(meta.name.replace(".sigmf-meta", ""))
    for p in base.parent.glob(base.name + ".*"):
        p.unlink()


# ---------------------------------------------------------------------------- real-time factor
def _cpu_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def warm_up(rec, mode: str, doppler) -> None:
    """Load numba kernels (and compile if needed) in this process, before forking workers."""
    from heradecode.receiver import Receiver, ReceiverConfig

    rx = Receiver(rec, ReceiverConfig(mode=mode), doppler=doppler)
    for _ in rx.run(0, min(rec.num_samples, int(1.5 * rec.samp_rate))):
        pass


def time_decode(rec, mode: str, doppler, workers: int, decoder_threads: int | None = 1) -> dict:
    from heradecode.receiver import ReceiverConfig, decode_recording, plan_segments

    cfg = ReceiverConfig(mode=mode, decoder_threads=decoder_threads)
    n_seg = len(plan_segments(rec, cfg, workers))
    ok = failed = 0
    iters = []
    c0, t0 = _cpu_s(), time.perf_counter()
    for cbs, _ in decode_recording(rec, cfg, doppler=doppler, workers=workers):
        for cb in cbs:
            ok += cb.crc_ok
            failed += not cb.crc_ok
            iters.append(cb.iterations)
    wall = time.perf_counter() - t0
    cpu = _cpu_s() - c0
    return {"wall_s": wall, "cpu_s": cpu, "rtf": rec.duration_s / wall, "frames_ok": ok, "failed": failed,
            "segments": n_seg, "mean_iter": sum(iters) / max(len(iters), 1)}


# ---------------------------------------------------------------------------- stage breakdown
def stage_breakdown(rec, mode: str, doppler, seconds: float) -> tuple[dict[str, float], float, float]:
    """CPU seconds per stage for one single-threaded in-process run over the first ``seconds``."""
    from heradecode.receiver import Receiver, ReceiverConfig

    rx = Receiver(rec, ReceiverConfig(mode=mode, decoder_threads=1), doppler=doppler)
    stop = min(rec.num_samples, int(seconds * rec.samp_rate))
    prof = cProfile.Profile(time.process_time)
    c0 = time.process_time()
    prof.enable()
    for _ in rx.run(0, stop):
        pass
    prof.disable()
    total = time.process_time() - c0
    stats = pstats.Stats(prof).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    per_stage = dict.fromkeys(STAGES, 0.0)
    for (fname, _, _), (_, _, _, _, callers) in stats.items():
        stage = next((s for suffix, s in STAGE_OF_FILE.items() if fname.replace(os.sep, "/").endswith(suffix)), None)
        if stage is None:
            continue
        for (cfile, _, cname), (_, _, _, ct) in callers.items():
            cfile = cfile.replace(os.sep, "/")
            if cfile.endswith(ENTRY_FILES):  # entry points only: no double count
                per_stage["look-back" if cname == "_look_back" else stage] += ct
    return per_stage, total, stop / rec.samp_rate


# ---------------------------------------------------------------------------- memory
def cli_peak_memory(meta: Path, mode: str, workers: int, out_dir: Path) -> dict:
    """Run ``heradecode decode`` in a child process; peak RSS (MB) from wait4 and the wall time."""
    cmd = [sys.executable, "-m", "heradecode", "decode", str(meta), "--mode", mode, "--doppler", str(DOPPLER),
           "--out", str(out_dir), "--quiet", "--workers", str(workers)]
    with tempfile.TemporaryFile("w+") as out_fh, tempfile.TemporaryFile("w+") as err_fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out_fh, stderr=err_fh, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # rusage of this child (and its waited-for workers)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_fh.seek(0)
        err_fh.seek(0)
        out_text, err_text = out_fh.read(), err_fh.read()
    frames = next((ln for ln in out_text.splitlines() if ln.startswith("codeblocks:")), "")
    if proc.returncode != 0:
        print(f"  heradecode decode exited {proc.returncode}: {err_text.strip()[-300:]}")
    return {"peak_rss_mb": usage.ru_maxrss / 1024, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "summary": frames, "rc": proc.returncode}


# ---------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the speed-test recordings (s)")
    ap.add_argument("--modes", default="high,low", help="comma-separated modes")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--ebn0", type=float, default=3.0, help="Eb/N0 of the simulated signal (dB)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the fastest is reported")
    ap.add_argument("--profile-seconds", type=float, default=20.0, help="signal profiled for the stage breakdown")
    ap.add_argument("--memory-seconds", type=float, nargs="*", default=[60.0, 300.0],
                    help="recording lengths for the peak-memory runs (none: skip)")
    ap.add_argument("--memory-mode", default="high", choices=("low", "high"))
    ap.add_argument("--memory-workers", type=int, default=1)
    ap.add_argument("--dropout-modes", default="high",
                    help="comma-separated modes also timed on a recording with repeated drop-outs (empty: none)")
    ap.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()), help="folder for the recordings")
    args = ap.parse_args()

    from heradecode.io import open_recording

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    worker_counts = [int(w) for w in args.workers.split(",")]
    doppler = _profile()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start", flush=True)
    results: dict[tuple[str, str], dict] = {}
    breakdowns = {}
    with tempfile.TemporaryDirectory(dir=args.tmp, prefix="chain_speed_") as tmp:
        folder = Path(tmp)
        for mode in modes:
            meta, sent = make_recording(folder, mode, args.seconds, args.ebn0)
            rec = open_recording(meta)
            warm_up(rec, mode, doppler)
            for w in worker_counts:
                r = min((time_decode(rec, mode, doppler, w) for _ in range(args.repeat)), key=lambda x: x["wall_s"])
                r["sent"] = sent
                results[(mode, f"{w} worker{'s' if w > 1 else ''}")] = r
                print(f"  {mode} {w} worker(s): {r['rtf']:.1f}x real time ({r['frames_ok']}/{sent} frames, "
                      f"{r['segments']} segment(s), load {os.getloadavg()[0]:.2f})", flush=True)
            if hasattr(os, "posix_fadvise"):  # the same with the file read from disk, not from the page cache
                for w in worker_counts:
                    evict_from_page_cache(meta)
                    r = time_decode(rec, mode, doppler, w)
                    r["sent"] = sent
                    results[(mode, f"{w} worker{'s' if w > 1 else ''}, cold file")] = r
            # what `heradecode decode --workers 1` does: one process, turbo decoding on all cores' threads
            r = min((time_decode(rec, mode, doppler, 1, decoder_threads=None) for _ in range(args.repeat)),
                    key=lambda x: x["wall_s"])
            r["sent"] = sent
            results[(mode, "1 proc + turbo threads")] = r
            breakdowns[mode] = stage_breakdown(rec, mode, doppler, args.profile_seconds)
            if not (args.memory_seconds and mode == args.memory_mode and args.seconds in args.memory_seconds):
                remove_recording(meta)
            if mode in [m.strip() for m in args.dropout_modes.split(",")]:
                dmeta, dsent = make_recording(folder, mode, args.seconds, args.ebn0, dropouts=True)
                drec = open_recording(dmeta)
                for w in worker_counts:
                    r = min((time_decode(drec, mode, doppler, w) for _ in range(args.repeat)),
                            key=lambda x: x["wall_s"])
                    r["sent"] = dsent
                    results[(mode, f"{w} worker{'s' if w > 1 else ''}, drop-outs")] = r
                    print(f"  {mode} {w} worker(s), drop-outs: {r['rtf']:.1f}x real time ({r['frames_ok']}/{dsent} "
                          f"frames, load {os.getloadavg()[0]:.2f})", flush=True)
                breakdowns[f"{mode}, drop-outs"] = stage_breakdown(drec, mode, doppler, args.profile_seconds)
                remove_recording(dmeta)

        print()
        print(f"Real-time factor: seconds of {FS / 1e6:g} Msps dual-pol ci16 signal decoded per wall second "
              f"({args.seconds:g} s recordings, Eb/N0 {args.ebn0:g} dB, best of {args.repeat}; CPU = all processes)")
        print(f"{'mode':>5} {'run':>25} {'segs':>4} {'wall s':>7} {'CPU s':>7} {'RTF':>6} {'RTF/CPU':>7} "
              f"{'frames':>10} {'failed':>6} {'iter':>5}")
        for (mode, run), r in results.items():
            print(f"{mode:>5} {run:>25} {r['segments']:4d} {r['wall_s']:7.2f} {r['cpu_s']:7.2f} {r['rtf']:6.1f} "
                  f"{args.seconds / r['cpu_s']:7.1f} {r['frames_ok']:>4d}/{r['sent']:<5d} {r['failed']:6d} "
                  f"{r['mean_iter']:5.2f}")
        print("RTF/CPU: signal seconds per CPU second (what one idle core would give; the machine may be shared)")
        hi2 = results.get(("high", "2 workers"))
        if hi2 is not None:
            verdict = "MET" if hi2["rtf"] >= TARGET_RTF else "NOT MET"
            print(f"target >= {TARGET_RTF:g}x real time with 2 workers at 322.56 kbaud: {hi2['rtf']:.1f}x -> {verdict}")
        for (mode, run), r in results.items():
            clean = results.get((mode, run.replace(", drop-outs", "")))
            if run.endswith(", drop-outs") and clean is not None:
                share = r["rtf"] / clean["rtf"]
                verdict = "MET" if share >= DROPOUT_MIN_SHARE else "NOT MET"
                print(f"drop-outs ({DROPOUT_DB:g} dB for {DROPOUT_DOWN_S:g} s every {DROPOUT_EVERY_S:g} s), {mode} "
                      f"{run.replace(', drop-outs', '')}: {r['rtf']:.1f}x = {100 * share:.0f} % of the clean "
                      f"{clean['rtf']:.1f}x (at least {100 * DROPOUT_MIN_SHARE:.0f} %) -> {verdict}")

        print()
        print("CPU per stage (cProfile, one process, single-threaded turbo; CPU s per second of signal, share)")
        for mode, (per, total, secs) in breakdowns.items():
            other = max(total - sum(per.values()), 0.0)
            print(f"  {mode.replace(',', '-rate,', 1) if ',' in mode else mode + '-rate'}, {secs:g} s of signal, "
                  f"{total:.2f} CPU s under the profiler "
                  f"({secs / total:.1f}x real time on one core):")
            for s, v in [*per.items(), ("other", other)]:
                print(f"    {s:>12} {v / secs:7.4f} CPU-s/s  {100 * v / total:5.1f} %")

        if args.memory_seconds:
            print()
            print(f"Peak memory of `heradecode decode --mode {args.memory_mode} --workers {args.memory_workers}` "
                  f"(child process, largest RSS of it and its workers)")
            mem = []
            for secs in args.memory_seconds:
                meta = folder / f"{args.memory_mode}_{secs:g}s.sigmf-meta"
                if not meta.exists():
                    meta, _ = make_recording(folder, args.memory_mode, secs, args.ebn0)
                r = cli_peak_memory(meta, args.memory_mode, args.memory_workers, folder / f"out_{secs:g}")
                remove_recording(meta)
                shutil.rmtree(folder / f"out_{secs:g}", ignore_errors=True)
                mem.append((secs, r))
                print(f"  {secs:6.0f} s: peak RSS {r['peak_rss_mb']:7.1f} MB, wall {r['wall_s']:6.1f} s "
                      f"({secs / r['wall_s']:.1f}x real time incl. start-up), CPU {r['cpu_s']:.1f} s; {r['summary']}",
                      flush=True)
            if len(mem) >= 2:
                growth = mem[-1][1]["peak_rss_mb"] - mem[0][1]["peak_rss_mb"]
                print(f"  growth {mem[0][0]:g} s -> {mem[-1][0]:g} s: {growth:+.1f} MB "
                      f"({'flat' if abs(growth) < 0.1 * mem[0][1]['peak_rss_mb'] else 'NOT flat'})")
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())

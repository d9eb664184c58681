"""Speed of the GNU Radio flowgraphs (flowgraphs/*.grc) on 6.144 Msps dual-polarization ci16 recordings.

For each mode: simulate a recording (as benchmarks/chain_speed.py does: real Doppler profile,
Eb/N0 3 dB, 10 ppm clock offset, rotating polarization), compile the flowgraph with grcc, run
the generated script, and print wall-clock and CPU seconds (the child's rusage), the real-time
factor and the frames decoded against the codeblocks sent.  For comparison the library chain
(``heradecode decode --workers 1``) runs on the same recording.

    .venv/bin/python benchmarks/gr_flowgraph.py                 # 20 s per mode
    .venv/bin/python benchmarks/gr_flowgraph.py --seconds 5     # quick look

Needs GNU Radio importable by this Python and grcc on PATH (python3 dev.py setup on Debian).
Reference: the GNU Radio chain of the seed decode ran at about 0.2x real time at 322.56 kbaud.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chain_speed import DOPPLER, REPO, make_recording  # noqa: E402

RATES = {"low": "hera_low_rate", "high": "hera_high_rate"}


def run_child(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout) of a command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"gr_flowgraph: {' '.join(cmd)} failed:\n{out}")
    return wall, usage.ru_utime + usage.ru_stime, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="signal seconds per mode")
    ap.add_argument("--ebn0", type=float, default=3.0, help="Eb/N0 of the simulated recordings (dB)")
    ap.add_argument("--tmp", type=Path, default=None, help="folder for the recordings")
    args = ap.parse_args()
    grcc = shutil.which("grcc")
    if grcc is None:
        sys.exit("gr_flowgraph: grcc not found (install GNU Radio: python3 dev.py setup)")
    from heradecode.gr.install import grc_blocks_dir

    env = dict(os.environ, GRC_BLOCKS_PATH=str(grc_blocks_dir()))
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        tmp = Path(tmp)
        print(f"{'mode':5} {'chain':22} {'wall s':>7} {'CPU s':>7} {'x real time':>11} {'frames':>8}")
        for mode, fg in RATES.items():
            meta, sent = make_recording(tmp, mode, args.seconds, args.ebn0)
            subprocess.run([sys.executable, grcc, "-o", str(tmp), str(REPO / "flowgraphs" / f"{fg}.grc")],
                           check=True, capture_output=True, env=env, cwd=REPO)
            runs = {
                f"{fg}.grc": [sys.executable, str(tmp / f"{fg}.py"), "--recording", str(meta), "--doppler",
                              str(DOPPLER), "--out-dir", str(tmp / f"gr_{mode}")],
                "heradecode decode": [str(Path(sys.executable).parent / "heradecode"), "decode", str(meta), "--mode", mode,
                                      "--doppler", str(DOPPLER), "--out", str(tmp / f"lib_{mode}"), "--quiet",
                                      "--workers", "1"],
            }
            for label, cmd in runs.items():
                wall, cpu, _ = run_child(cmd, env)
                out = tmp / (f"gr_{mode}" if label.endswith(".grc") else f"lib_{mode}")
                frames = (out / "frames.u8").stat().st_size // 1113
                print(f"{mode:5} {label:22} {wall:7.1f} {cpu:7.1f} {args.seconds / wall:11.1f} {frames:4d}/{sent:<4d}",
                      flush=True)
            for p in tmp.glob(f"{mode}_*"):
                p.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())

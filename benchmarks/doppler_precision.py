"""Precision of the phase-based Doppler observable on simulated recordings with a known Doppler.

For each Hera mode and carrier C/N0, a recording with a linear Doppler ramp (no phase noise)
is simulated, decoded (the receiver is given the Doppler profile 3 Hz off, as from an
imperfect ephemeris) and its phase-based observable compared with the truth:

* the error of the good 60 s points against the thermal-noise limit
  ``sqrt(2 B_L/(C/N0)) / (2 pi T)`` (the Must-show: within 2x);
* the overlapping Allan deviation of the 1 s error at tau = 1, 10, 60 s, and the range-rate
  noise ``c ADEV(60 s)`` in mm/s (the tool's own noise against the Hera budget of 0.1 mm/s);
* then one recording with 0.3 Hz rms of carrier frequency noise (low-pass, 1 s correlation)
  multiplied in, whose Allan deviation must show it.

Small by default (about 4 minutes on one idle core; ``--cn0 35 50 --high-cn0 35`` for less); ``--duration-s``, ``--cn0`` and ``--modes``
make it larger.  Prints a table; ``--plot FILE`` draws the Allan deviations.

    python benchmarks/doppler_precision.py [--modes low high] [--cn0 35 40 45 50]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np

from heradecode.io import open_recording
from heradecode.io.dopplerfile import DopplerProfile
from heradecode.products import radio_science as rs
from heradecode.receiver import ReceiverConfig, decode_recording
from heradecode.sim import SimParams, simulate

START = "2024-10-07T16:39:59Z"  # one second before a UTC minute: the 60 s bins are whole
T0 = float(np.datetime64(START.rstrip("Z"), "ns").astype(np.int64)) / 1e9
F0_HZ, RATE_HZ_S = -27000.0, 2.0
SAMP_RATE = {"low": 256e3, "high": 1.536e6}
F_DOWN = 8435.75e6
LOOP_BW_HZ = 15.0


def truth_hz(t):
    return F0_HZ + RATE_HZ_S * (np.asarray(t) - T0)


def ebn0_for_carrier_cn0(mode: str, cn0_dbhz: float) -> float:
    """Eb/N0 (dB) that gives a carrier C/N0: C/N0 = Eb/N0 + 10 log10(bit rate cos^2 m / sin^2 m)."""
    p = SimParams.preset(mode)
    bit_rate = p.symbol_rate * 8920 / ((8920 + 4) * 4)
    m = p.mod_index_rad
    return cn0_dbhz - 10 * math.log10(bit_rate * math.cos(m) ** 2 / math.sin(m) ** 2)


def add_frequency_noise(data_path: Path, samp_rate: float, rms_hz: float, seed: int = 0) -> None:
    """Multiply a cf32 2-channel interleaved recording in place by a carrier phase of ``rms_hz`` frequency noise."""
    x = np.memmap(data_path, dtype=np.complex64, mode="r+").reshape(-1, 2)
    n = x.shape[0]
    rng = np.random.default_rng(seed)
    step = 0.01  # frequency noise on a 100 Hz grid, 1 s correlation (first-order low pass)
    m = int(n / samp_rate / step) + 2
    a = math.exp(-step / 1.0)
    w = rng.standard_normal(m) * rms_hz * math.sqrt(1 - a * a)
    f = np.empty(m)
    f[0] = rms_hz * rng.standard_normal()
    for i in range(1, m):
        f[i] = a * f[i - 1] + w[i]
    ph_grid = np.concatenate(([0.0], np.cumsum(f[:-1] * step)))  # cycles
    chunk = 1 << 20
    for s in range(0, n, chunk):
        t = np.arange(s, min(n, s + chunk)) / samp_rate
        ph = np.interp(t, np.arange(m) * step, ph_grid)
        x[s:s + t.size] *= np.exp(2j * np.pi * ph).astype(np.complex64)[:, None]
    x.flush()


def run_one(tmp: Path, mode: str, cn0_dbhz: float, duration_s: float, phase_noise_hz: float = 0.0, seed: int = 1):
    """Simulate, decode and score one recording; returns a dict of figures and the ADEV curve."""
    t_start = time.monotonic()
    pts = [(T0 - 2.0, float(truth_hz(T0 - 2.0))), (T0 + duration_s + 2.0, float(truth_hz(T0 + duration_s + 2.0)))]
    params = SimParams.preset(mode, samp_rate=SAMP_RATE[mode], duration_s=duration_s, start_time=START,
                              ebn0_db=ebn0_for_carrier_cn0(mode, cn0_dbhz), doppler=pts, datatype="cf32_le",
                              seed=seed)
    base = tmp / f"{mode}_{cn0_dbhz:g}_{phase_noise_hz:g}"
    truth = simulate(params, base)
    if phase_noise_hz > 0:
        add_frequency_noise(Path(str(base) + ".sigmf-data"), SAMP_RATE[mode], phase_noise_hz, seed)
    rec = open_recording(Path(str(base) + ".sigmf-meta"))
    arr = np.array(pts)
    prof = DopplerProfile(arr[:, 0], arr[:, 1] + 3.0)
    rows = [tk for _, tk in decode_recording(rec, ReceiverConfig(mode=mode, pll_bandwidth_hz=LOOP_BW_HZ),
                                              doppler=prof)]
    start_ns = int((rec.start_time - np.datetime64(0, "ns")) // np.timedelta64(1, "ns"))
    track = rs.PhaseTrack.from_rows(np.concatenate(rows), start_unix_ns=start_ns, samp_rate=rec.samp_rate)
    for path in base.parent.glob(base.name + ".*"):
        path.unlink()
    o60 = rs.doppler_observable(track, 60.0, F_DOWN)
    o1 = rs.doppler_observable(track, 1.0, F_DOWN)
    cn0_meas = float(np.nanmedian(o1.cn0_dbhz[o1.good])) if o1.good.any() else float("nan")
    err60 = (o60.doppler_hz - truth_hz(o60.unix_time))[o60.good]
    e1 = (o1.doppler_hz - truth_hz(o1.unix_time))
    sl = rs._longest_run(o1.good, np.r_[True, np.isclose(np.diff(o1.unix_time), 1.0)])
    y = e1[sl] / F_DOWN
    taus, dev, _ = (rs.overlapping_adev(y, 1.0, (1.0, 2.0, 5.0, 10.0, 20.0, 60.0))
                    if y.size >= 3 else ([], [], []))
    adev = dict(zip(np.asarray(taus, float), np.asarray(dev, float)))
    lim60 = rs.thermal_doppler_sigma_hz(cn0_meas, 60.0, LOOP_BW_HZ)
    return {
        "mode": mode, "cn0_set": cn0_dbhz, "cn0_truth": truth.cn0_dbhz, "cn0_meas": cn0_meas,
        "n60": int(err60.size), "rms60_hz": float(np.sqrt(np.mean(err60 ** 2))) if err60.size else float("nan"),
        "lim60_hz": lim60, "adev": adev, "taus": np.asarray(taus, float), "dev": np.asarray(dev, float),
        "good1": int(o1.good.sum()), "n1": int(o1.unix_time.size), "seconds": time.monotonic() - t_start,
        "phase_noise_hz": phase_noise_hz,
        "mean1_hz": float(np.mean(e1[o1.good])) if o1.good.any() else float("nan"),
        "std1_hz": float(np.std(e1[o1.good])) if o1.good.any() else float("nan"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modes", nargs="+", default=["low", "high"], choices=["low", "high"])
    ap.add_argument("--cn0", nargs="+", type=float, default=[35.0, 40.0, 45.0, 50.0], help="carrier C/N0 (dB-Hz)")
    ap.add_argument("--duration-s", type=float, default=None,
                    help="recording length (s); default 182 s low rate (three 60 s points, ADEV to 60 s), 62 s high rate")
    ap.add_argument("--high-cn0", nargs="+", type=float, default=[35.0],
                    help="carrier C/N0 values for the high rate (5x slower to simulate and decode; default 35)")
    ap.add_argument("--phase-noise-hz", type=float, default=0.3)
    ap.add_argument("--plot", type=Path, help="write the Allan deviations as a PNG")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="doppler_precision_") as tmp:
        tmp = Path(tmp)
        for mode in args.modes:
            dur = args.duration_s or (182.0 if mode == "low" else 62.0)
            for cn0 in (args.cn0 if mode == "low" else args.high_cn0):
                results.append(run_one(tmp, mode, cn0, dur, seed=int(cn0 * 10) + (mode == "high")))
                print_row(results[-1])
        if args.phase_noise_hz > 0:
            results.append(run_one(tmp, "low", 45.0, args.duration_s or 182.0, args.phase_noise_hz))
            print_row(results[-1])
    ok = [r for r in results if r["phase_noise_hz"] == 0 and r["n60"]]
    ratio = [r["rms60_hz"] / r["lim60_hz"] for r in ok]
    if ratio:
        pooled = math.sqrt(np.mean(np.square(ratio)))
        print(f"\n60 s error / thermal limit: pooled rms {pooled:.2f} over {sum(r['n60'] for r in ok)} points "
              f"(max {max(ratio):.2f}); Must-show: within 2x -> {'yes' if pooled <= 2.0 else 'NO'}")
    if args.plot:
        from heradecode.plot.allan import plot_allan_deviation

        extra = {f"{r['mode']} {r['cn0_set']:g} dB-Hz" + (f" + {r['phase_noise_hz']:g} Hz noise"
                                                          if r["phase_noise_hz"] else ""): (r["taus"], r["dev"])
                 for r in results if len(r["taus"])}
        ref = next(r for r in results if r["phase_noise_hz"] == 0)
        doc = {"cn0_dbhz": ref["cn0_meas"], "downlink_hz": F_DOWN, "loop_bandwidth_hz": LOOP_BW_HZ,
               "allan": {"table": []}}
        plot_allan_deviation(doc, extra=extra, title="Phase-based Doppler: error ADEV on simulated recordings",
                             path=args.plot)
        print(f"plot: {args.plot}")


def print_row(r) -> None:
    c = rs.C_M_S * 1e3
    a = r["adev"]
    fmt = lambda v: f"{v:.2e}" if v == v else "   --   "  # noqa: E731
    noise = f" + {r['phase_noise_hz']:g} Hz freq. noise" if r["phase_noise_hz"] else ""
    print(f"{r['mode']:>4} C/N0 {r['cn0_set']:4.1f} (truth {r['cn0_truth']:.1f}, PLL {r['cn0_meas']:.1f}) dB-Hz{noise}: "
          f"60 s: {r['n60']} pts rms err {r['rms60_hz'] * 1e3:.3f} mHz = {r['rms60_hz'] / F_DOWN * c:.4f} mm/s, "
          f"thermal {r['lim60_hz'] * 1e3:.3f} mHz = {r['lim60_hz'] / F_DOWN * c:.4f} mm/s | "
          f"ADEV 1/10/60 s {fmt(a.get(1.0, float('nan')))} {fmt(a.get(10.0, float('nan')))} "
          f"{fmt(a.get(60.0, float('nan')))} (c*ADEV60 {a.get(60.0, float('nan')) * c:.4f} mm/s) "
          f"| 1 s good {r['good1']}/{r['n1']} | {r['seconds']:.0f} s", flush=True)


if __name__ == "__main__":
    main()

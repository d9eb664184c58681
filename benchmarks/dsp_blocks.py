"""Throughput of the heradecode.dsp blocks, in CPU seconds per second of 6.144 Msps dual-polarization signal.

Run:  .venv/bin/python benchmarks/dsp_blocks.py [--seconds 1.0]

Each block is timed alone, as a fresh instance over a continuous stream of the shape it
sees in the receiver (single thread, numba already compiled, 0.1 s chunks): the
decimator on ci16 (int16 I/Q) or complex64 input for both channels, the NCO at the
decimated and at the full rate, the polarization combiner, the PLL and the bi-phase
demodulator at the decimated rate on a PM signal at Es/N0 = -3 dB after combining (near
the rate-1/4 turbo threshold), the demodulator on noise alone (search states), and one look-back
(the demodulator's backward carrier loop and bi-phase pass over ``LOOKBACK_S`` after an acquisition).  "chain" is the sum of the blocks a receiver runs per
chunk (decimate ci16 -> NCO -> combine -> PLL -> bi-phase).  A real-time factor of R
on W workers needs chain + decoding < W / R CPU-s per signal second (e.g. 0.2 for 10x
on 2 workers).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from heradecode.dsp.acquisition import acquire_carrier
from heradecode.dsp.biphase import BiphaseDemodulator
from heradecode.dsp.decimate import Decimator, mode_decimation
from heradecode.dsp.demod import LOOKBACK_S
from heradecode.dsp.nco import Nco
from heradecode.dsp.pll import CarrierPll
from heradecode.dsp.polcombine import PolCombiner
from heradecode.io.dopplerfile import DopplerProfile

FS = 6.144e6
MODES = {"high 322.56 kbaud": 322_560.0, "low 60.2375 kbaud": 60_237.5}


def _cpu(fn, reps: int = 3) -> float:
    """Best CPU time of fn() (stateless use: the same input each time)."""
    fn()  # warm-up (compilation / cache load)
    best = float("inf")
    for _ in range(reps):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def _stream_cpu(make, x: np.ndarray, chunk: int) -> float:
    """CPU time of a fresh block instance over a continuous stream x (last axis) in chunks."""
    make().process(x[..., :chunk])  # compile / load caches on a throw-away instance
    blk = make()
    t0 = time.process_time()
    for a in range(0, x.shape[-1], chunk):
        blk.process(x[..., a : a + chunk])
    return time.process_time() - t0


def _pm(rng, n, fs, rs, esn0_db=-3.0, m=1.1, f0=3.0):
    """PM bi-phase-L signal with a residual carrier at f0 (Hz), amplitude for Es/N0 in unit noise."""
    t = np.arange(n) / fs
    u = t * rs + 0.3
    k = np.floor(u).astype(np.int64)
    bits = rng.integers(0, 2, k[-1] + 2)
    a = 1.0 - 2.0 * bits[k]
    d = np.where(u - k < 0.5, a, -a)
    amp = np.sqrt(10 ** (esn0_db / 10) * rs / fs) / np.sin(m)
    return amp * np.exp(1j * (m * d + 2 * np.pi * f0 * t))


def bench_mode(name: str, rs: float, seconds: float, max_loss_db: float) -> None:
    rng = np.random.default_rng(1)
    factor, passband = mode_decimation(rs, FS, max_loss_db=max_loss_db)
    fs = FS / factor
    n_in = int(FS * seconds)
    n = n_in // factor
    chunk = int(0.1 * fs)
    raw = rng.integers(-2000, 2000, size=(2, n_in, 2)).astype(np.int16)
    raw_c = (raw[..., 0] + 1j * raw[..., 1]).astype(np.complex64)
    prof = DopplerProfile(np.array([0.0, 1e5]), np.array([-20e3, 20e3]))
    # downstream blocks see a continuous signal at Es/N0 = -3 dB after combining (near the turbo threshold)
    sig = _pm(rng, n, fs, rs)
    x2 = np.stack(
        (0.6 * sig + (rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2),
         0.8 * sig + (rng.standard_normal(n) + 1j * rng.standard_normal(n)) / np.sqrt(2))
    ).astype(np.complex64)
    x1 = (x2[0] * 0.6 + x2[1] * 0.8).astype(np.complex64)
    pll_out = CarrierPll(fs, 3.0).process(x1)

    res: dict[str, float] = {}
    if factor > 1:
        res["decimate ci16 (2 ch)"] = _stream_cpu(lambda: Decimator(FS, factor, passband_hz=passband), raw, chunk * factor)
        res["decimate complex64 (2 ch)"] = _stream_cpu(lambda: Decimator(FS, factor, passband_hz=passband), raw_c, chunk * factor)
        taps = Decimator(FS, factor, passband_hz=passband).n_taps
    else:
        res["ci16 -> complex64 (2 ch)"] = _cpu(lambda: (raw[..., 0] + 1j * raw[..., 1]).astype(np.complex64))
        taps = []
    res[f"NCO at {fs / 1e6:.3f} Msps (2 ch)"] = _stream_cpu(lambda: Nco(fs, doppler=prof, offset_hz=1000.0), x2, chunk)
    res_nco_full = _stream_cpu(lambda: Nco(FS, doppler=prof, offset_hz=1000.0), raw_c, chunk * factor)
    res["polarization combiner"] = _stream_cpu(lambda: PolCombiner(fs, 3.0), x2, chunk)
    res["PLL"] = _stream_cpu(lambda: CarrierPll(fs, 3.0), x1, chunk)
    res["bi-phase demodulator"] = _stream_cpu(lambda: BiphaseDemodulator(fs, rs), pll_out, chunk)
    acq_len = int(0.25 * fs)
    acq_cpu = _cpu(lambda: acquire_carrier(x2[:, :acq_len], fs))
    noise_only = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
    bp_noise = _stream_cpu(lambda: BiphaseDemodulator(fs, rs), noise_only, chunk)
    # the demodulator's look-back after an acquisition: carrier loop and bi-phase over LOOKBACK_S, backwards in time
    lb = np.conj(x1[: int(LOOKBACK_S * fs)][::-1])
    lookback_cpu = _cpu(lambda: BiphaseDemodulator(fs, rs).process(CarrierPll(fs, 3.0, reacquire=False).process(lb)))

    chain_keys = [k for k in res if not k.startswith("decimate complex64")]
    chain = sum(res[k] for k in chain_keys)
    print(f"\n{name}: factor {factor} -> {fs / 1e6:.3f} Msps ({fs / rs:.2f} samples/symbol), "
          f"passband {passband / 1e3:.0f} kHz, taps {taps}, max loss {max_loss_db} dB")
    for k, v in res.items():
        print(f"  {k:34s} {v / seconds:8.4f} CPU-s per signal-s   ({seconds / v:7.1f}x real time)")
    print(f"  {'(NCO at 6.144 Msps instead, 2 ch)':34s} {res_nco_full / seconds:8.4f}")
    print(f"  {'(bi-phase on noise only)':34s} {bp_noise / seconds:8.4f}")
    print(f"  {'chain (ci16 in -> soft symbols)':34s} {chain / seconds:8.4f} CPU-s per signal-s   ({seconds / chain:7.1f}x real time, 1 core)")
    print(f"  {'acquisition, 0.25 s, 2 ch':34s} {acq_cpu:8.4f} CPU-s per search")
    print(f"  {f'look-back, {LOOKBACK_S:g} s':34s} {lookback_cpu:8.4f} CPU-s per look-back (after every acquisition)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="signal length per timing run (s)")
    args = ap.parse_args()
    print(f"heradecode.dsp block throughput: fresh instances over {args.seconds:g} s of continuous 6.144 Msps dual-pol "
          "signal in 0.1 s chunks, 1 thread")
    for name, rs in MODES.items():
        bench_mode(name, rs, args.seconds, 0.35)
    print("\nlower-loss decimation (max_loss_db=0.15):")
    for name, rs in MODES.items():
        bench_mode(name, rs, args.seconds, 0.15)


if __name__ == "__main__":
    main()

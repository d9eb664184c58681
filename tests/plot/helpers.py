"""Synthetic inputs in the exact on-disk formats the receiver writes: SigMF, decode.json, carrier.csv, .npy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sigmf
from sigmf import SigMFFile

START_UTC = "2024-10-07T17:06:31.000000000Z"
START_UNIX = 1728320791.0
CENTER_HZ = 8435.75e6
SAMP_RATE = 240_000.0
SYMBOL_RATE = 20_000.0  # 12 samples per symbol: bi-phase-L halves of 6 samples
CARRIER_HZ = 12_000.0  # residual carrier offset from the centre frequency
MOD_INDEX_RAD = 1.1


@dataclass(frozen=True)
class SyntheticRecording:
    """A written SigMF recording and what is in it."""

    meta: Path
    samp_rate: float
    carrier_hz: float
    symbol_rate: float
    num_samples: int


def write_sigmf_recording(base: Path, *, duration_s: float = 0.5, carrier_hz: float = CARRIER_HZ,
                          seed: int = 7) -> SyntheticRecording:
    """2-channel cf32_le SigMF: PCM/PM/bi-phase-L residual carrier at ``carrier_hz``, noise, X/Y split 30°/60°."""
    rng = np.random.default_rng(seed)
    sps = int(SAMP_RATE / SYMBOL_RATE)
    n_sym = int(duration_s * SYMBOL_RATE)
    n = n_sym * sps
    bits = rng.integers(0, 2, n_sym)
    nrz = 1.0 - 2.0 * bits
    half = np.concatenate([np.ones(sps // 2), -np.ones(sps // 2)])
    biphase = (nrz[:, None] * half[None, :]).ravel()
    t = np.arange(n) / SAMP_RATE
    sig = 0.05 * np.exp(1j * (2 * np.pi * carrier_hz * t + MOD_INDEX_RAD * biphase + 0.3))
    noise = 0.02 * (rng.standard_normal((2, n)) + 1j * rng.standard_normal((2, n)))
    x = np.cos(np.radians(30)) * sig + noise[0]
    y = np.sin(np.radians(30)) * np.exp(1j * 0.7) * sig + noise[1]
    inter = np.empty((n, 2), dtype=np.complex64)
    inter[:, 0], inter[:, 1] = x, y
    data = base.with_name(base.name + ".sigmf-data")
    inter.view(np.float32).astype("<f4").tofile(data)
    handle = SigMFFile(data_file=str(data), global_info={
        sigmf.DATATYPE_KEY: "cf32_le",
        sigmf.SAMPLE_RATE_KEY: SAMP_RATE,
        sigmf.NUM_CHANNELS_KEY: 2,
        sigmf.DESCRIPTION_KEY: "synthetic PCM/PM/bi-phase-L test recording",
    })
    handle.add_capture(0, metadata={sigmf.FREQUENCY_KEY: CENTER_HZ, sigmf.DATETIME_KEY: START_UTC})
    meta = base.with_name(base.name + ".sigmf-meta")
    handle.tofile(str(meta), overwrite=True)
    return SyntheticRecording(meta, SAMP_RATE, carrier_hz, SYMBOL_RATE, n)


def decode_dict(n: int = 60, *, seed: int = 3) -> dict:
    """A decode.json object: ``n`` codeblocks 0.11 s apart on VC1/VC3/VC7/VC5, every 9th one failing the CRC."""
    rng = np.random.default_rng(seed)
    vcs = np.array([1, 1, 3, 7, 1, 3, 5, 1])
    counts: dict[int, int] = {}
    blocks = []
    for i in range(n):
        t = START_UNIX + 0.25 + 0.11 * i
        ok = i % 9 != 4
        vc = int(vcs[i % vcs.size])
        counts[vc] = counts.get(vc, -1) + 1
        ns = int(round((t - START_UNIX) * 1e9))
        blocks.append({
            "start_sample": int(round((t - START_UNIX) * 6.144e6)),
            "unix_time": t,
            "time_utc": f"2024-10-07T17:06:{31 + ns // 10**9:02d}.{ns % 10**9:09d}Z",
            "polarity": 1 if i % 2 else -1,
            "sync_score": round(float(rng.uniform(0.6, 0.99)), 3),
            "ebn0_db": round(float(rng.normal(3.0 if ok else 0.2, 0.4)), 3),
            "esn0_db": round(float(rng.normal(-3.0, 0.4)), 3),
            "iterations": int(rng.integers(2, 6)) if ok else 10,
            "crc_ok": ok,
            "scid": 181 if ok else None,
            "vcid": vc if ok else None,
            "vc_count": counts[vc] if ok else None,
            "suspect": bool(i == 17),
        })
    return {"recording": "synthetic_high", "mode": "high", "symbol_rate": 322560.0, "samp_rate": 6144000.0,
            "start_time_utc": START_UTC, "codeblocks": blocks}


def write_carrier_csv_text(path: Path, *, n: int = 120, offset_hz: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """carrier.csv (header unix_time,doppler_hz,cn0_dbhz,locked): Doppler ramp + ``offset_hz``, a 10-s dropout."""
    rng = np.random.default_rng(11)
    t = START_UNIX + np.arange(n, dtype=float)
    predicted = -27264.0 + 2.3 * (t - START_UNIX)
    observed = predicted + offset_hz + rng.normal(0, 0.3, n)
    locked = np.ones(n, dtype=bool)
    locked[40:50] = False
    observed[40:50] += rng.normal(0, 200.0, 10)
    cn0 = 55.0 + rng.normal(0, 0.5, n)
    cn0[40:50] -= 12.0
    with open(path, "w", encoding="ascii") as fh:
        fh.write("unix_time,doppler_hz,cn0_dbhz,locked\n")
        for row in zip(t, observed, cn0, locked):
            fh.write(f"{row[0]:.6f},{row[1]:.6f},{row[2]:.3f},{int(row[3])}\n")
    return t, predicted


def write_profile(path: Path, t: np.ndarray, freq_hz: np.ndarray) -> Path:
    """A ``unix_time hz`` Doppler profile file."""
    with open(path, "w", encoding="ascii") as fh:
        for a, b in zip(t, freq_hz):
            fh.write(f"{a:.6f} {b:.6f}\n")
    return path


def soft_symbols(n: int = 50_000, esn0_db: float = 4.0, *, scale: float = 1.0, seed: int = 5) -> np.ndarray:
    """BPSK soft symbols (+ = bit 0) at a given Es/N0 (dB): amplitude ``scale``, σ² = scale²/(2 Es/N0)."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, n)
    sigma = scale / np.sqrt(2.0 * 10 ** (esn0_db / 10.0))
    return (scale * (1.0 - 2.0 * bits) + sigma * rng.standard_normal(n)).astype(np.float32)


def assert_png_ok(path: Path, fig=None, *, min_colors: int = 40) -> np.ndarray:
    """The PNG exists, has the figure's pixel size (or at least 800×350) and is not blank; returns the image."""
    from matplotlib.image import imread

    assert path.is_file(), path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = imread(path)
    h, w = img.shape[:2]
    if fig is not None:
        fw, fh = fig.get_size_inches() * fig.dpi
        assert abs(h - fh) <= 1 and abs(w - fw) <= 1
    assert w >= 800 and h >= 350
    rgb = img[..., :3]
    assert float(rgb.std()) > 0.05  # not a blank canvas
    colours = np.unique((rgb.reshape(-1, 3) * 255).round().astype(np.uint8), axis=0)
    assert len(colours) >= min_colors
    return img

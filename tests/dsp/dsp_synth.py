"""Synthetic signals for the DSP tests: PCM/PM/bi-phase-L with a residual carrier, seeded noise."""

from __future__ import annotations

import numpy as np
from scipy.stats import norm


def manchester_chips(bits: np.ndarray, t_sym: np.ndarray) -> np.ndarray:
    """Bi-phase-L waveform d(t) in {-1, +1} at symbol phases t_sym (symbols): bit 0 -> (+1, -1)."""
    k = np.floor(t_sym).astype(np.int64)
    first_half = (t_sym - k) < 0.5
    a = 1.0 - 2.0 * bits[k].astype(np.float64)
    return np.where(first_half, a, -a)


def pm_signal(
    rng: np.random.Generator,
    n: int,
    samp_rate: float,
    symbol_rate: float,
    *,
    mod_index: float = 1.1,
    sym_offset: float = 0.25,
    clock_ppm: float = 0.0,
    bits: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """exp(j m d(t)) sampled at samp_rate; symbol k starts at t = (k - sym_offset) / (symbol_rate (1 + ppm))."""
    rs = symbol_rate * (1 + clock_ppm * 1e-6)
    u = np.arange(n) / samp_rate * rs + sym_offset
    nsym = int(np.ceil(u[-1])) + 2
    if bits is None:
        bits = rng.integers(0, 2, nsym).astype(np.uint8)
    return np.exp(1j * mod_index * manchester_chips(bits, u)), bits


def amplitude_for_esn0(esn0_db: float, samp_rate: float, symbol_rate: float, mod_index: float, noise_power: float = 1.0) -> float:
    """Signal amplitude A so that A exp(j m d) has the given data Es/N0 in complex noise of that power per sample."""
    return float(np.sqrt(10 ** (esn0_db / 10) * noise_power * symbol_rate / samp_rate) / np.sin(mod_index))


def amplitude_for_cn0(cn0_dbhz: float, samp_rate: float, mod_index: float, noise_power: float = 1.0) -> float:
    """Signal amplitude A so that the residual carrier A cos(m) has the given C/N0 (dB-Hz)."""
    return float(np.sqrt(10 ** (cn0_dbhz / 10) * noise_power / samp_rate) / np.cos(mod_index))


def noise(rng: np.random.Generator, shape, power: float = 1.0) -> np.ndarray:
    """Circular complex white Gaussian noise of the given power per sample."""
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * np.sqrt(power / 2)


def bpsk_ber(esn0_db: float) -> float:
    """Theoretical BER of antipodal signalling with a matched filter at Es/N0 (dB)."""
    return float(norm.sf(np.sqrt(2 * 10 ** (esn0_db / 10))))


def esn0_from_ber(ber: float) -> float:
    """Es/N0 (dB) at which antipodal signalling has this BER."""
    return float(10 * np.log10(norm.isf(ber) ** 2 / 2))


def align_symbols(sample: np.ndarray, samp_rate: float, symbol_rate: float, sym_offset: float, clock_ppm: float = 0.0):
    """Index of the transmitted symbol each demodulated start position belongs to, and the timing error (symbols)."""
    u = sample / samp_rate * symbol_rate * (1 + clock_ppm * 1e-6) + sym_offset
    k = np.round(u).astype(np.int64)
    return k, u - k

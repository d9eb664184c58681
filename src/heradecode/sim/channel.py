"""The propagation and receiver model of the simulator, per sample, in numba.

With τ = n / samp_rate the time of sample n since the start of the recording:

* Doppler fd(τ) (Hz) is the profile, linear between its points and held
  beyond its ends; D(τ) = ∫₀^τ fd (cycles) is evaluated in closed form
  (piecewise quadratic), so phase stays continuous and exact over hours.
* Carrier phase:  φ(τ) = φ0 + 2π·(f_off·τ + D(τ)), f_off = carrier offset from the centre frequency.
* Symbol clock:   u(τ) = R·(τ + D(τ)/f_c) + u0 symbols, R = symbol_rate·(1 + ppm·1e-6), f_c the nominal
  carrier; Doppler compresses the symbol clock by the same factor (1 + fd/f_c) as the carrier.
  Symbol j occupies u ∈ [j, j+1); u0 = timing offset − lead-in symbols (symbol 0 is the first ASM symbol).
* Bi-phase-L: chip position c = 2u; symbol j with NRZ-L level a = +1 for bit 0, −1 for bit 1 sends
  chip 2j = a then chip 2j+1 = −a (bit 0 → +1,−1; bit 1 → −1,+1).
* Phase modulation of a residual carrier by the ±1 chip waveform d(t):
  s(t) = A·g(t)·exp(j(φ(t) + m·d(t))) = A·g·e^{jφ}·(cos m + j·d·sin m), so the carrier holds cos²m
  of the power and the data sin²m.
* Each sample is that waveform integrated over its interval [τ−½/fs, τ+½/fs) (an integrate-and-dump
  anti-aliasing filter; exact chip edges at any sample rate): since s is linear in d, the sample is
  A·g·e^{jφ(τ)}·(cos m + j·d̄·sin m) with d̄ the mean chip level over the interval (the carrier
  phase is taken at the sample instant).  The carrier line keeps exactly A²cos²m.  With
  ``SimParams.oversample`` L > 1 this runs at L·fs without noise and the simulator low-pass filters
  and decimates the result (``heradecode.dsp.decimate.Decimator``, flat to ±0.45 fs, aliases 60 dB
  down) before adding the noise at fs: band-limited samples, as an SDR's channel filter makes them.
* Dual linear polarization: X = cos θ(τ)·s, Y = sin θ(τ)·e^{jψ}·s, θ(τ) = θ0 + ω·τ.
* Independent complex white Gaussian noise of equal density N0 is added to X and Y.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _segment(x: float, xp: np.ndarray) -> int:
    """Index k with xp[k] <= x < xp[k+1] (0 below, len-2 above), by bisection."""
    lo = 0
    hi = xp.size - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if xp[mid] <= x:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True)
def interp1(x: float, xp: np.ndarray, fp: np.ndarray) -> float:
    """Linear interpolation of (xp, fp) at x, held constant beyond the ends (as np.interp)."""
    if xp.size == 1 or x <= xp[0]:
        return fp[0]
    if x >= xp[xp.size - 1]:
        return fp[xp.size - 1]
    k = _segment(x, xp)
    return fp[k] + (fp[k + 1] - fp[k]) * (x - xp[k]) / (xp[k + 1] - xp[k])


@njit(cache=True)
def doppler_integral(tau: float, kt: np.ndarray, kf: np.ndarray, kc: np.ndarray) -> float:
    """D(τ) = ∫₀^τ fd (cycles) for the piecewise-linear profile with knots (kt s, kf Hz), kc = D(kt)."""
    k_last = kt.size - 1
    if tau <= kt[0]:
        return kc[0] + kf[0] * (tau - kt[0])
    if tau >= kt[k_last]:
        return kc[k_last] + kf[k_last] * (tau - kt[k_last])
    k = _segment(tau, kt)
    dt = tau - kt[k]
    slope = (kf[k + 1] - kf[k]) / (kt[k + 1] - kt[k])
    return kc[k] + kf[k] * dt + 0.5 * slope * dt * dt


@njit(cache=True)
def doppler_at(tau: float, kt: np.ndarray, kf: np.ndarray) -> float:
    """fd(τ) (Hz)."""
    return interp1(tau, kt, kf)


@njit(cache=True)
def _chip_level(k: int, bits: np.ndarray, j0: int) -> float:
    j = k >> 1  # floor division, also for negative chip indices
    idx = j - j0
    if idx < 0 or idx >= bits.size:
        return 0.0
    a = 1.0 - 2.0 * bits[idx]
    return a if (k & 1) == 0 else -a


@njit(cache=True)
def _mean_level(ca: float, cb: float, bits: np.ndarray, j0: int) -> float:
    """Mean of the chip waveform over chip positions [ca, cb)."""
    ka = math.floor(ca)
    kb = math.floor(cb)
    if ka == kb:
        return _chip_level(ka, bits, j0)
    acc = 0.0
    for k in range(ka, kb + 1):
        lo = ca if ca > k else float(k)
        hi = cb if cb < k + 1 else float(k + 1)
        if hi > lo:
            acc += (hi - lo) * _chip_level(k, bits, j0)
    return acc / (cb - ca)


@njit(cache=True)
def _integral_from(tau: float, k: int, kt: np.ndarray, kf: np.ndarray, kc: np.ndarray) -> tuple[float, int]:
    """D(τ) as :func:`doppler_integral`, with a knot hint ``k`` for increasing τ; returns (D, new hint)."""
    k_last = kt.size - 1
    if tau <= kt[0]:
        return kc[0] + kf[0] * (tau - kt[0]), 0
    if tau >= kt[k_last]:
        return kc[k_last] + kf[k_last] * (tau - kt[k_last]), k_last
    if kt[k] > tau:
        k = 0
    while kt[k + 1] <= tau:
        k += 1
    dt = tau - kt[k]
    slope = (kf[k + 1] - kf[k]) / (kt[k + 1] - kt[k])
    return kc[k] + kf[k] * dt + 0.5 * slope * dt * dt, k


@njit(cache=True, nogil=True)
def synth_chunk(
    n0: int,
    fs: float,
    kt: np.ndarray,
    kf: np.ndarray,
    kc: np.ndarray,
    f_off: float,
    phi0: float,
    rate: float,
    inv_fc: float,
    u0: float,
    bits: np.ndarray,
    j0: int,
    mod_index: float,
    amp: float,
    theta0: float,
    omega: float,
    cos_psi: float,
    sin_psi: float,
    gt: np.ndarray,
    gg: np.ndarray,
    noise: np.ndarray,
    noise_std: float,
    scale: float,
    lo: float,
    hi: float,
    quantize: bool,
    out: np.ndarray,
) -> int:
    """Fill ``out[i, ch, re/im]`` with samples n0+i (signal + noise·noise_std) × scale; return clipped count.

    ``noise`` is (n, 4) standard normal (X re, X im, Y re, Y im) or empty for none.
    """
    n = out.shape[0]
    has_noise = noise.shape[0] > 0
    two_pi = 2.0 * math.pi
    cos_m = math.cos(mod_index)
    sin_m = math.sin(mod_index)
    clipped = 0
    k_e = 0
    k_c = 0
    fixed_gain = gt.size == 1
    g = gg[0]
    fixed_pol = omega == 0.0
    cx = math.cos(theta0)
    sy = math.sin(theta0)
    # chip position at the lower edge of the first sample
    tau_e = (n0 - 0.5) / fs
    d_e, k_e = _integral_from(tau_e, k_e, kt, kf, kc)
    c_prev = 2.0 * (rate * (tau_e + d_e * inv_fc) + u0)
    for i in range(n):
        tau = (n0 + i) / fs
        tau_e = (n0 + i + 0.5) / fs
        d_e, k_e = _integral_from(tau_e, k_e, kt, kf, kc)
        c_next = 2.0 * (rate * (tau_e + d_e * inv_fc) + u0)
        d = _mean_level(c_prev, c_next, bits, j0)
        c_prev = c_next
        d_c, k_c = _integral_from(tau, k_c, kt, kf, kc)
        cyc = f_off * tau + d_c
        cyc -= math.floor(cyc)
        ph = phi0 + two_pi * cyc
        a = amp * (g if fixed_gain else interp1(tau, gt, gg))
        cp = math.cos(ph)
        sp = math.sin(ph)
        ac = a * cos_m
        bq = a * sin_m * d  # baseband: a·(cos m + j·d̄·sin m), rotated by the carrier phase
        sr = ac * cp - bq * sp
        si = ac * sp + bq * cp
        if not fixed_pol:
            th = theta0 + omega * tau
            cx = math.cos(th)
            sy = math.sin(th)
        xr = cx * sr
        xi = cx * si
        yr = sy * (sr * cos_psi - si * sin_psi)
        yi = sy * (sr * sin_psi + si * cos_psi)
        if has_noise:
            xr += noise_std * noise[i, 0]
            xi += noise_std * noise[i, 1]
            yr += noise_std * noise[i, 2]
            yi += noise_std * noise[i, 3]
        vals = (xr * scale, xi * scale, yr * scale, yi * scale)
        for q in range(4):
            v = vals[q]
            if quantize:
                v = np.rint(v)
                if v > hi:
                    v = hi
                    clipped += 1
                elif v < lo:
                    v = lo
                    clipped += 1
            out[i, q >> 1, q & 1] = v
    return clipped


def doppler_knots(
    points: list[tuple[float, float]] | None, start_unix: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Knot arrays (τ s since sample 0, Hz, D(τ) cycles) for the kernels; zeros when there is no profile."""
    if not points:
        kt = np.array([0.0, 1.0])
        kf = np.zeros(2)
        return kt, kf, np.zeros(2)
    t = np.array([p[0] for p in points], dtype=np.float64) - start_unix
    f = np.array([p[1] for p in points], dtype=np.float64)
    seg = 0.5 * (f[1:] + f[:-1]) * np.diff(t)  # exact integral of a linear segment
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    return t, f, cum - doppler_integral(0.0, t, f, cum)  # shift so that D(0) = 0

"""Helpers of the simulator tests: a reference coherent demodulator written from the standard and the truth only."""

from __future__ import annotations

import numpy as np

from heradecode.fec.asm import asm_bits
from heradecode.fec.crc import append_fecf
from heradecode.fec.randomizer import derandomize_llr
from heradecode.fec.turbo import decode, encode
from heradecode.io.recording import unix_seconds
from tests.helpers import HERA_DOPPLER

CADU = 35824
ASM_LEN = 128


def doppler_points():
    """The launch-day Doppler profile as (unix_time, hz) points, as SimParams takes it."""
    rows = np.loadtxt(HERA_DOPPLER)
    return [(float(t), float(f)) for t, f in rows]


def reference_soft_symbols(truth, rec) -> np.ndarray:
    """Soft symbols (positive = bit 0) of every symbol from the first ASM on, by the textbook receiver."""
    p = truth.params
    n = rec.num_samples
    fs = p.samp_rate
    x = rec.read().astype(np.complex128)
    idx = np.arange(n, dtype=np.float64)
    tau = idx / fs
    # Doppler: the profile (unix time, Hz) is linear between points; D(τ) = ∫0^τ fd by the midpoint rule
    t0 = unix_seconds(rec.start_time)
    if p.doppler:
        kt = np.array([d[0] for d in p.doppler]) - t0
        kf = np.array([d[1] for d in p.doppler])
        f_mid = np.interp((np.arange(n - 1) + 0.5) / fs, kt, kf)
        # D at sample centres: D(τ_0)=0, D(τ_{i+1}) = D(τ_i) + fd((i+½)/fs)/fs
        dop = np.concatenate([[0.0], np.cumsum(f_mid) / fs])
    else:
        dop = np.zeros(n)
    # carrier wipe-off
    phase = p.carrier_phase_rad + 2 * np.pi * (p.carrier_offset_hz * tau + dop)
    z = x * np.exp(-1j * phase)
    # maximal-ratio combining of X = cosθ·s and Y = sinθ·e^{jψ}·s
    theta = np.radians(p.pol_angle_deg) + np.radians(p.pol_rotation_deg_s) * tau
    psi = np.radians(p.pol_phase_deg)
    r = np.cos(theta) * z[0] + np.sin(theta) * np.exp(-1j * psi) * z[1]
    q = r.imag  # A·sin(m)·d + noise
    # symbol clock: u = Rs(1+ppm)(τ + D/fc) + timing − lead-in; chip k = floor(2u)
    fc = p.center_freq_hz + p.carrier_offset_hz
    rate = p.symbol_rate * (1 + p.clock_offset_ppm * 1e-6)
    u = rate * (tau + dop / fc) + p.timing_offset_sym - truth.lead_in_symbols
    chip = np.floor(2 * u).astype(np.int64)
    n_sym = truth.num_codeblocks * CADU
    keep = (chip >= 0) & (chip < 2 * n_sym)
    sums = np.bincount(chip[keep], weights=q[keep], minlength=2 * n_sym)
    # bi-phase-L: bit 0 → (+1, −1): first chip minus second chip
    return sums[0::2] - sums[1::2]


def check_recording(truth, rec, frames, asm_exact=True):
    """Every codeblock of the recording, by the reference demodulator, is the frame sent (turbo-decoded); raw errors."""
    soft = reference_soft_symbols(truth, rec)
    asm = asm_bits(4)
    n_cb = truth.num_codeblocks
    assert n_cb == len(frames) and n_cb >= 2
    errors_raw = []
    for i in range(n_cb):
        block = soft[i * CADU:(i + 1) * CADU]
        hard = (block < 0).astype(np.uint8)
        if asm_exact:
            np.testing.assert_array_equal(hard[:ASM_LEN], asm, err_msg=f"ASM of codeblock {i}")
        else:  # below 0 dB Es/N0 some ASM symbols are wrong, but the marker stands out
            assert np.count_nonzero(hard[:ASM_LEN] == asm) > 0.75 * ASM_LEN
        info = np.unpackbits(np.frombuffer(append_fecf(frames[i].tobytes()), dtype=np.uint8))
        coded = encode(info, 4)
        llr = derandomize_llr(block[ASM_LEN:].astype(np.float32))
        derand_hard = (llr < 0).astype(np.uint8)
        errors_raw.append(int(np.count_nonzero(derand_hard != coded)))
        res = decode(llr * (4.0 / np.mean(np.abs(llr))))  # max-log decoding: the scale hardly matters
        assert res.crc_ok, f"codeblock {i}: FECF fails after decoding"
        np.testing.assert_array_equal(res.bits, info, err_msg=f"codeblock {i}")
        assert res.frame() == frames[i].tobytes()
    return errors_raw

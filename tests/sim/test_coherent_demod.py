"""The key test: a reference coherent demodulator written here, from the standard and the truth parameters
only, recovers every codeblock of a simulated recording bit-exactly.

The demodulator re-derives everything itself from the sidecar's parameters (it does not call the
simulator's timing or phase functions): it integrates the Doppler profile numerically, wipes off the
carrier phase, combines X and Y by maximal-ratio combining with the known polarization, takes the
quadrature (data) component, and integrates-and-dumps the two bi-phase-L chips of every symbol.
The soft symbols must show the 128-bit ASM before every codeblock, the hard decisions must equal the
CCSDS turbo encoding of frame + FECF after derandomization, and turbo decoding must return the frames.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from heradecode.fec.asm import asm_bits
from heradecode.fec.crc import append_fecf
from heradecode.fec.randomizer import derandomize_llr
from heradecode.fec.turbo import decode, encode
from heradecode.io import open_recording
from heradecode.io.recording import unix_seconds
from heradecode.sim import SimParams, read_truth, simulate

from ..conftest import HERA_DOPPLER, HIGH, LOW_1

CADU = 35824
ASM_LEN = 128


def _doppler_points():
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


def _check_recording(truth, rec, frames, asm_exact=True):
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


def test_high_rate_coherent_demodulation_is_bit_exact(tmp_path):
    frames = np.fromfile(HIGH, dtype=np.uint8).reshape(-1, 1113)[100:103]
    params = SimParams.preset(
        "high", samp_rate=3.072e6, frames_path=str(HIGH), first_frame=100, num_frames=3,
        start_time="2024-10-07T17:06:31.25Z", doppler=_doppler_points(), carrier_offset_hz=150e3,
        clock_offset_ppm=40.0, pol_angle_deg=62.0, pol_rotation_deg_s=20.0, pol_phase_deg=35.0,
        ebn0_db=18.0, datatype="ci16_le", seed=11,
    )
    truth = simulate(params, tmp_path / "hi")
    rec = open_recording(tmp_path / "hi.sigmf-meta")
    errors = _check_recording(truth, rec, frames)
    # Es/N0 ≈ +12 dB: the raw symbol decisions are already error-free
    assert errors == [0, 0, 0]


def test_low_rate_pair_layout_ci8_with_real_doppler(tmp_path):
    frames = np.fromfile(LOW_1, dtype=np.uint8).reshape(-1, 1113)[:2]
    params = SimParams.preset(
        "low", samp_rate=384e3, frames_path=str(LOW_1), num_frames=2,
        start_time="2024-10-07T16:24:20Z", doppler=_doppler_points(), clock_offset_ppm=-25.0,
        pol_angle_deg=-20.0, pol_rotation_deg_s=-4.0, pol_phase_deg=-70.0,
        ebn0_db=4.0, datatype="ci8", layout="pair", seed=12,
    )
    truth = simulate(params, tmp_path / "lo")
    rec = open_recording(tmp_path / "lo_0x.sigmf-meta")
    assert rec.num_channels == 2
    errors = _check_recording(truth, rec, frames, asm_exact=False)
    # Eb/N0 = 4 dB: many raw symbol errors, all corrected by the turbo decoder
    assert all(e > 100 for e in errors)


@pytest.mark.parametrize("ebn0_db", [3.0])
def test_measured_snr_of_reference_receiver_matches_ebn0(tmp_path, ebn0_db):
    """At ~25 samples per chip the integrate-and-dump receiver is near ideal (~0.13 dB lost to samples that
    straddle chip edges): its measured Eb/N0 is the one asked for."""
    frames = np.fromfile(LOW_1, dtype=np.uint8).reshape(-1, 1113)[:1]
    params = SimParams.preset(
        "low", samp_rate=3.072e6, frames_path=str(LOW_1), num_frames=1, lead_in_s=0.001, tail_s=0.0,
        pol_angle_deg=50.0, ebn0_db=ebn0_db, datatype="cf32_le", seed=13,
    )
    truth = simulate(params, tmp_path / "snr")
    rec = open_recording(tmp_path / "snr.sigmf-meta")
    soft = reference_soft_symbols(truth, rec)[:CADU]
    info = np.unpackbits(np.frombuffer(append_fecf(frames[0].tobytes()), dtype=np.uint8))
    from heradecode.fec.randomizer import randomize_bits

    sent = np.concatenate([asm_bits(4), randomize_bits(encode(info, 4))])
    y = soft * (1 - 2.0 * sent)  # sign-corrected: mean = signal, spread = noise
    esn0 = np.mean(y) ** 2 / (2 * np.var(y))
    ebn0 = 10 * math.log10(esn0 * 35696 / 8920)
    assert abs(ebn0 - ebn0_db) < 0.25
    truth2 = read_truth(tmp_path / "snr.truth.json")
    assert truth2.esn0_db == pytest.approx(ebn0_db - 10 * math.log10(35696 / 8920), abs=1e-9)

"""Measured spectrum of a simulated recording: residual carrier at cos²(m), bi-phase-L data sidebands."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import welch

from heradecode.io import open_recording
from heradecode.sim import SimParams, simulate

F_OFF = 100e3


@pytest.fixture(scope="module")
def psd(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spec")
    params = SimParams.preset(
        "high", samp_rate=3.072e6, num_frames=2, ebn0_db=None, carrier_offset_hz=F_OFF, datatype="cf32_le",
        pol_angle_deg=0.0, mod_index_rad=1.1, seed=21,
    )
    truth = simulate(params, tmp / "spec")
    x = open_recording(tmp / "spec.sigmf-meta").read()[0].astype(np.complex128)
    f, d = welch(x, fs=params.samp_rate, nperseg=2048, return_onesided=False, scaling="density")
    order = np.argsort(f)
    return params, truth, f[order], d[order]


def test_residual_carrier_holds_cos2_m_of_the_power(psd):
    params, truth, f, d = psd
    df = f[1] - f[0]
    line = np.abs(f - F_OFF) < 6 * df
    carrier = d[line].sum() * df
    total_tx = truth.amplitude_fs**2  # |X|²+|Y|² of the transmitted PM signal
    assert carrier / total_tx == pytest.approx(math.cos(params.mod_index_rad) ** 2, abs=0.003)
    # against the measured total: the rest is data (slightly less than sin²m after the sample-interval average)
    total = d.sum() * df
    assert carrier / total == pytest.approx(math.cos(params.mod_index_rad) ** 2, rel=0.12)
    assert total / total_tx == pytest.approx(1.0, abs=0.1)


def test_biphase_sidebands_nulls_and_peaks(psd):
    params, _, f, d = psd
    rs = params.symbol_rate
    df = f[1] - f[0]
    rel = (f - F_OFF) / rs
    data = np.where(np.abs(f - F_OFF) < 6 * df, 0.0, d)  # carrier line removed
    peaks = []
    for band in ((rel > 0.2) & (rel < 1.5), (rel < -0.2) & (rel > -1.5)):
        r, v = rel[band], data[band]
        top = v > 0.9 * v.max()
        peaks.append(float((r[top] * v[top]).sum() / v[top].sum()))
    assert peaks[0] == pytest.approx(0.75, abs=0.04)
    assert peaks[1] == pytest.approx(-0.75, abs=0.04)
    peak = data[(np.abs(rel) > 0.2) & (np.abs(rel) < 1.5)].max()
    # nulls next to the carrier (bi-phase-L has no power at DC) and at ±2 × baud
    for lo, hi in ((0.005, 0.04), (-0.04, -0.005), (1.98, 2.02), (-2.02, -1.98)):
        sel = (rel > lo) & (rel < hi)
        assert data[sel].mean() < 0.01 * peak
    # the whole shape follows the bi-phase-L spectrum sinc²(f/2Rs)·sin²(πf/2Rs), times the sample-interval average
    theory = np.sinc(rel / 2) ** 2 * np.sin(np.pi * rel / 2) ** 2 * np.sinc(f / params.samp_rate) ** 2
    band = (np.abs(rel) < 3) & (np.abs(f - F_OFF) >= 6 * df)
    assert np.corrcoef(theory[band], data[band])[0, 1] > 0.99

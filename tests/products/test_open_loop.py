"""The open-loop Doppler check: FFT and phase-slope estimates on the decimated recording, against the PLL."""

import numpy as np
import pytest

from heradecode.io import open_recording
from heradecode.io.dopplerfile import DopplerProfile
from heradecode.products import radio_science as rs
from heradecode.products.open_loop import block_frequency_hz, open_loop_doppler, smooth_model
from tests.products.helpers import START_UNIX, decode_track, simulate_low, true_doppler_hz

F_DOWN = 8435.75e6


@pytest.mark.parametrize("f_hz", [0.0, 1.37, -3.91, 120.4])
def test_block_frequency_of_a_noisy_two_channel_tone(f_hz):
    rng = np.random.default_rng(2)
    fs, n = 1000.0, 1000
    t = np.arange(n) / fs
    tone = np.exp(2j * np.pi * f_hz * t)
    z = np.vstack([0.8 * tone * np.exp(0.4j), 0.5 * tone * np.exp(-2.0j)])
    z = z + 0.3 * (rng.standard_normal(z.shape) + 1j * rng.standard_normal(z.shape))
    f, snr = block_frequency_hz(z, fs, max_hz=400.0)
    # Cramer-Rao bound: sigma_f = sqrt(6 / (SNR N^3)) fs / (2 pi), SNR = (0.64 + 0.25) / 0.18 per sample (MRC)
    crb = np.sqrt(6 / (0.89 / 0.18 * n ** 3)) * fs / (2 * np.pi)
    assert f == pytest.approx(f_hz, abs=4 * crb)
    assert snr > 20


def test_smooth_model_follows_a_ramp_and_refuses_no_lock():
    from heradecode.errors import UserError
    t = START_UNIX + np.arange(30.0)
    m = smooth_model(t, -27000 + 2 * (t - START_UNIX), np.ones(30, bool))
    assert np.allclose(m.freq_at(t), -27000 + 2 * (t - START_UNIX), atol=1e-6)
    with pytest.raises(UserError):
        smooth_model(t, t, np.zeros(30, bool))


@pytest.mark.slow
def test_open_loop_agrees_with_the_truth_and_the_pll(tmp_path):
    simulate_low(tmp_path / "rec", duration_s=14.0, seed=6)
    rec = open_recording(tmp_path / "rec.sigmf-meta")
    t = START_UNIX + np.arange(-3.0, 20.0)
    model = DopplerProfile(t, true_doppler_hz(t) + 2.5)  # the model 2.5 Hz off: the estimate corrects it
    ol = open_loop_doppler(rec, model, F_DOWN)
    assert ol.unix_time.size >= 13
    err = ol.doppler_hz - true_doppler_hz(ol.unix_time)
    cn0 = 10 ** (38.9 / 10)
    # a 1 s block: CRB sigma_f = sqrt(6 / (C/N0 T^3)) / (2 pi) ~ 0.4 mHz, the FFT/slope estimator a few times that
    assert np.sqrt(np.mean(err ** 2)) < 10 * np.sqrt(6 / cn0) / (2 * np.pi)
    closed = rs.doppler_observable(decode_track(tmp_path / "rec.sigmf-meta"), 1.0, F_DOWN)
    cmp = rs.compare_open_loop(closed, ol.unix_time, ol.doppler_hz)
    sigma = rs.thermal_doppler_sigma_hz(38.9, 1.0, 15.0)
    assert cmp["n"] >= 11
    assert abs(cmp["mean_hz"]) < 3 * 1.5 * sigma / np.sqrt(cmp["n"])
    assert cmp["rms_hz"] < 2.5 * sigma


def test_compare_open_loop_skips_flagged_points_and_far_blocks():
    t = START_UNIX + 0.5 + np.arange(5.0)
    obs = rs.DopplerObservable(1.0, t, np.arange(5.0), np.full(5, 40.0), np.array([1, 0, 0, 0, 0], np.uint8), F_DOWN)
    blocks = t - 0.0005  # block midpoints a hair earlier
    cmp = rs.compare_open_loop(obs, blocks, np.arange(5.0) - 0.01)
    # 0.01 Hz apart, less the 0.5 mHz the 1 Hz/s ramp moves over the half-millisecond between the tags
    assert cmp["n"] == 4 and cmp["mean_hz"] == pytest.approx(0.0095, abs=1e-5)
    assert cmp["rms_hz"] == pytest.approx(0.0095, abs=1e-5)
    assert rs.compare_open_loop(obs, blocks + 0.5, np.arange(5.0))["n"] == 0  # nothing within a quarter interval


def test_compare_open_loop_interpolates_to_the_closed_loop_times():
    t = START_UNIX + 0.5 + np.arange(6.0)
    f = -50.0 * np.arange(6.0)  # a -50 Hz/s Doppler rate
    obs = rs.DopplerObservable(1.0, t, f, np.full(6, 40.0), np.zeros(6, np.uint8), F_DOWN)
    blocks = t - 0.0005  # open-loop block midpoints half a millisecond earlier: 25 mHz of Doppler there
    cmp = rs.compare_open_loop(obs, blocks, f + 50.0 * 0.0005)
    assert cmp["n"] == 6 and abs(cmp["mean_hz"]) < 1e-5  # float64 UNIX times: ~1e-6 Hz of rounding

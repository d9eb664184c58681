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

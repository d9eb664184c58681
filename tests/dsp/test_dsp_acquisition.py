"""Carrier acquisition: finds weak carriers in the window, calibrated false-alarm rate."""

import numpy as np
import pytest

from tests.dsp.dsp_synth import amplitude_for_cn0, noise, pm_signal
from heradecode.dsp.acquisition import CarrierAcquirer, acquire_carrier
from heradecode.errors import UserError

FS = 192e3


def _dual(rng, n, cn0_dbhz, f0, split=0.8, rel_phase=0.9, rs=12e3, m=1.1):
    s, _ = pm_signal(rng, n, FS, rs, mod_index=m)
    a = amplitude_for_cn0(cn0_dbhz, FS, m)
    c = a * s * np.exp(2j * np.pi * f0 * np.arange(n) / FS)
    x = noise(rng, (2, n))
    x[0] += np.sqrt(split) * c
    x[1] += np.sqrt(1 - split) * c * np.exp(1j * rel_phase)
    return x.astype(np.complex64)


@pytest.mark.parametrize("f0,seed", [(-17_345.6, 1), (3_210.3, 2), (24_000.0, 3)])
def test_finds_weak_carrier_on_two_channels(f0, seed):
    rng = np.random.default_rng(seed)
    x = _dual(rng, int(FS * 2.0), 27.0, f0)  # 27 dB-Hz: ~14 dB per 20 Hz bin only after averaging
    r = acquire_carrier(x, FS, window_hz=25e3, bin_hz=20.0)
    assert r.detected
    assert abs(r.freq_hz - f0) < 0.25 * r.bin_hz
    assert r.cn0_dbhz == pytest.approx(27.0, abs=1.0)
    assert r.channel_cn0_dbhz[0] == pytest.approx(27.0 + 10 * np.log10(0.8), abs=1.0)
    assert np.angle(r.channel_gain[1] * np.conj(r.channel_gain[0])) == pytest.approx(0.9, abs=0.25)
    assert r.noise_power == pytest.approx([1.0, 1.0], rel=0.1)


def test_carrier_outside_window_or_excluded_is_not_reported():
    rng = np.random.default_rng(4)
    x = _dual(rng, int(FS * 1.0), 40.0, 30_000.0)
    assert not acquire_carrier(x, FS, center_hz=0.0, window_hz=25e3).detected
    r = acquire_carrier(x, FS, center_hz=28_000.0, window_hz=5e3)
    assert r.detected and abs(r.freq_hz - 30_000.0) < 5
    assert not acquire_carrier(x, FS, center_hz=28_000.0, window_hz=5e3, exclude_hz=[(29_900.0, 30_100.0)]).detected


def test_no_false_alarm_on_noise():
    rng = np.random.default_rng(5)
    hits = 0
    for _ in range(30):
        r = acquire_carrier(noise(rng, (2, int(FS * 0.5))).astype(np.complex64), FS, pfa=1e-6)
        hits += r.detected
        assert r.snr_db < r.threshold_db + 1.0
    assert hits == 0


def test_false_alarm_rate_is_calibrated():
    # with a loose pfa the observed rate must be in line with it (threshold from the exact statistics)
    rng = np.random.default_rng(6)
    trials = 200
    hits = sum(
        acquire_carrier(noise(rng, int(FS * 0.1)).astype(np.complex64), FS, window_hz=10e3, bin_hz=100.0, pfa=0.2).detected
        for _ in range(trials)
    )
    assert 0.05 * trials <= hits <= 0.35 * trials


def test_streaming_feed_equals_one_shot_and_errors():
    rng = np.random.default_rng(7)
    x = _dual(rng, int(FS * 0.6), 35.0, 1234.0)
    one = acquire_carrier(x, FS)
    acq = CarrierAcquirer(FS)
    for a in range(0, x.shape[1], 30_011):
        acq.feed(x[:, a : a + 30_011])
    two = acq.result()
    assert two.freq_hz == pytest.approx(one.freq_hz)
    assert two.cn0_dbhz == pytest.approx(one.cn0_dbhz)
    assert two.n_spectra == one.n_spectra
    with pytest.raises(UserError):
        CarrierAcquirer(FS).feed(x[:, :100]).result()
    with pytest.raises(UserError):
        acquire_carrier(x, FS, window_hz=1e6)

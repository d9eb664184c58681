"""Wide and blind carrier search (WideCarrierSearch): a drifting residual carrier anywhere in the band.

Synthetic PCM/PM bi-phase-L (m = 1.1 rad) at C/N0 40 dB-Hz, drifting up to ±60 Hz/s, on two
polarizations, with and without data sidebands, a receiver DC spike and other spurs; seeded.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heradecode.dsp.acquisition import WideCarrierSearch, search_carrier_wide
from heradecode.errors import UserError
from tests.dsp.dsp_synth import amplitude_for_cn0, noise, pm_signal

LOW, HIGH = 60237.5, 322560.0
RATES = (LOW, HIGH)


def _signal(rng, fs, dur_s, f_mid, rate, cn0_dbhz, *, rs=None, channels=2):
    """Carrier at f_mid (Hz, at the middle of the span) drifting at rate (Hz/s), with bi-phase-L data at rs baud."""
    n = int(fs * dur_s)
    t = np.arange(n) / fs - dur_s / 2
    if rs:
        s, _ = pm_signal(rng, n, fs, rs, mod_index=1.1)
        a = amplitude_for_cn0(cn0_dbhz, fs, 1.1)
    else:
        s, a = 1.0, np.sqrt(10 ** (cn0_dbhz / 10) / fs)
    c = a * s * np.exp(2j * np.pi * (f_mid * t + 0.5 * rate * t * t))
    x = noise(rng, (channels, n))
    x[0] += np.sqrt(0.7) * c
    if channels == 2:
        x[1] += np.sqrt(0.3) * c * np.exp(0.7j)
    return x


def _tone(fs, n, f_hz, cn0_dbhz, phase=0.3):
    """A steady spur of the given power to noise density (dB-Hz) in unit-power noise."""
    return np.sqrt(10 ** (cn0_dbhz / 10) / fs) * np.exp(1j * (2 * np.pi * f_hz * np.arange(n) / fs + phase))


@pytest.mark.parametrize("fs,rs,seed", [(384e3, LOW, 1), (384e3, LOW, 2), (384e3, None, 3),
                                        (1.536e6, HIGH, 4), (1.536e6, LOW, 5), (1.536e6, None, 6)])
def test_finds_a_drifting_carrier_anywhere_in_the_band_beside_a_dc_spike(fs, rs, seed):
    rng = np.random.default_rng(seed)
    f0 = rng.uniform(-0.42, 0.42) * fs
    rate = rng.choice([-1, 1]) * rng.uniform(30.0, 60.0)
    x = _signal(rng, fs, 1.0, f0, rate, 40.0, rs=rs)
    x += _tone(fs, x.shape[1], 0.0, 50.0)  # the SDR's DC spike, 10 dB above the carrier
    r = search_carrier_wide(x.astype(np.complex64), fs, symbol_rates=RATES)
    assert r.detected and r.dc_masked
    assert abs(r.freq_hz - f0) < 2.0, (r.freq_hz, f0)
    assert abs(r.rate_hz_s - rate) < 2.0, (r.rate_hz_s, rate)
    assert r.cn0_dbhz == pytest.approx(40.0, abs=1.5)
    assert not any(c.in_dc_region for c in r.candidates[:1])


def test_the_data_sidebands_make_a_weaker_carrier_win_over_a_spur():
    rng = np.random.default_rng(7)
    fs = 384e3
    x = _signal(rng, fs, 1.0, -61_234.5, -52.0, 40.0, rs=LOW)
    x += _tone(fs, x.shape[1], 75_000.0, 46.0)  # a clean spur 6 dB stronger than the carrier
    r = search_carrier_wide(x.astype(np.complex64), fs, symbol_rates=RATES)
    assert r.detected and abs(r.freq_hz + 61_234.5) < 2.0 and r.has_data and r.symbol_rate == LOW
    spur = [c for c in r.candidates if abs(c.freq_hz - 75_000.0) < 5.0]
    assert spur and not spur[0].has_data and spur[0].snr_db > r.snr_db  # found, stronger, but no data around it
    # without the data test (no symbol rates) the strongest line is taken: the spur
    r2 = search_carrier_wide(x.astype(np.complex64), fs)
    assert abs(r2.freq_hz - 75_000.0) < 5.0


def test_a_prediction_picks_the_closer_of_comparable_lines_but_not_a_far_weaker_one():
    rng = np.random.default_rng(8)
    fs = 384e3
    n = int(fs)
    x = noise(rng, (1, n)) + _tone(fs, n, 20_000.0, 43.0) + _tone(fs, n, -40_000.0, 40.0)
    x = x.astype(np.complex64)
    assert search_carrier_wide(x, fs).freq_hz == pytest.approx(20_000.0, abs=2.0)  # strongest
    assert search_carrier_wide(x, fs, prefer_hz=-35_000.0).freq_hz == pytest.approx(-40_000.0, abs=2.0)
    weak = noise(rng, (1, n)) + _tone(fs, n, 20_000.0, 50.0) + _tone(fs, n, -40_000.0, 40.0)
    r = search_carrier_wide(weak.astype(np.complex64), fs, prefer_hz=-35_000.0)  # 10 dB weaker: not preferred
    assert r.freq_hz == pytest.approx(20_000.0, abs=2.0)
    # a window around the prediction excludes the other line altogether
    r = search_carrier_wide(weak.astype(np.complex64), fs, center_hz=-35_000.0, window_hz=10e3, prefer_hz=-35_000.0)
    assert r.freq_hz == pytest.approx(-40_000.0, abs=2.0)


def test_a_dc_spike_alone_is_reported_only_when_nothing_else_is_there():
    rng = np.random.default_rng(9)
    fs = 384e3
    x = (noise(rng, (2, int(fs))) + _tone(fs, int(fs), 0.0, 45.0)).astype(np.complex64)
    r = search_carrier_wide(x, fs)
    assert r.detected and not r.dc_masked and abs(r.freq_hz) < 2.0
    assert not search_carrier_wide(x, fs, dc_exclude_hz=0.0).dc_masked


def test_noise_alone_gives_no_detection():
    rng = np.random.default_rng(10)
    fs = 192e3
    for _ in range(8):
        r = search_carrier_wide(noise(rng, (2, int(0.5 * fs))).astype(np.complex64), fs, symbol_rates=RATES)
        assert not r.detected and r.snr_db < r.threshold_db


def test_a_burst_of_full_scale_samples_is_skipped_and_counted():
    rng = np.random.default_rng(11)
    fs = 384e3
    x = _signal(rng, fs, 1.0, 350.0, -50.0, 40.0, rs=LOW)
    a = int(0.41 * fs)
    x[:, a:a + int(0.02 * fs)] = 8.0 + 8.0j  # a 20 ms rail near the carrier's frequency (DC)
    r = search_carrier_wide(x.astype(np.complex64), fs, symbol_rates=RATES)
    assert r.detected and r.n_corrupt >= 1 and abs(r.freq_hz - 350.0) < 2.0 and abs(r.rate_hz_s + 50.0) < 2.0
    x[:, a:a + 200] = np.nan  # NaN is silence, not a crash
    assert search_carrier_wide(x.astype(np.complex64), fs).detected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(f_frac=st.floats(-0.44, 0.44), rate=st.floats(-60.0, 60.0), seed=st.integers(0, 2**31 - 1))
def test_property_any_offset_and_drift_is_found(f_frac, rate, seed):
    fs = 96e3
    rng = np.random.default_rng(seed)
    f0 = f_frac * fs
    x = _signal(rng, fs, 1.0, f0, rate, 40.0, channels=1)
    r = search_carrier_wide(x.astype(np.complex64), fs, dc_exclude_hz=0.0)
    assert r.detected and abs(r.freq_hz - f0) < 2.0 and abs(r.rate_hz_s - rate) < 2.5


def test_streaming_equals_one_shot_int16_input_and_errors():
    rng = np.random.default_rng(12)
    fs = 192e3
    x = _signal(rng, fs, 0.6, 12_345.0, 20.0, 40.0)
    one = search_carrier_wide(x.astype(np.complex64), fs)
    s = WideCarrierSearch(fs, span_s=0.6)
    for a in range(0, x.shape[1], 7777):
        s.feed(x[:, a:a + 7777].astype(np.complex64))
    assert s.full and s.samples_needed == 0
    two = s.result()
    assert (two.freq_hz, two.rate_hz_s, two.n_spectra) == (one.freq_hz, one.rate_hz_s, one.n_spectra)
    iq = np.stack([np.round(200 * x.real), np.round(200 * x.imag)], axis=-1).astype(np.int16)  # (ch, n, 2)
    three = WideCarrierSearch(fs, span_s=0.6).feed(iq).result()
    assert three.freq_hz == pytest.approx(one.freq_hz, abs=0.5)
    with pytest.raises(UserError, match="outside"):
        WideCarrierSearch(fs, center_hz=500e3, window_hz=10e3)
    with pytest.raises(UserError, match="not enough"):
        WideCarrierSearch(fs).feed(x[:, :1000].astype(np.complex64)).result()


def test_strided_segments_read_only_what_is_wanted():
    rng = np.random.default_rng(13)
    fs = 192e3
    x = _signal(rng, fs, 1.5, -23_456.0, -45.0, 40.0).astype(np.complex64)
    whole = WideCarrierSearch(fs, span_s=1.5, stride=3).feed(x)  # the gaps are skipped
    parts = WideCarrierSearch(fs, span_s=1.5, stride=3)
    read = 0
    while not parts.full:
        a, b = parts.wanted()
        parts.feed(x[:, a:b], at=a)
        read += b - a
    assert whole.full and parts.full and whole.n_spectra == parts.n_spectra == 10
    assert read == 10 * parts.fft_size  # a third of the span
    r1, r2 = whole.result(), parts.result()
    assert (r1.freq_hz, r1.rate_hz_s) == (r2.freq_hz, r2.rate_hz_s)
    assert r2.center_sample == pytest.approx(0.5 * parts.span_samples)  # 1.4 s analysed: its middle at 0.7 s
    f_there = -23_456.0 - 45.0 * (r2.center_sample / fs - 0.75)  # the signal's f_mid is at 0.75 s
    assert abs(r2.freq_hz - f_there) < 2.0 and abs(r2.rate_hz_s + 45.0) < 2.0
    with pytest.raises(UserError, match="fed after"):
        parts.feed(x[:, :10], at=0)

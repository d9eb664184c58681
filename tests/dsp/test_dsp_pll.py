"""Residual-carrier PLL: lock, Doppler ramps, lock detector, C/N0, chunking, re-acquisition."""

import numpy as np
import pytest

from tests.dsp.dsp_synth import amplitude_for_cn0, manchester_chips, noise, pm_signal
from heradecode.dsp.pll import TRACK_DTYPE, CarrierPll, track_carrier
from heradecode.errors import UserError

FS = 96e3
RS = 6e3
M = 1.1


def _signal(rng, seconds, cn0, phase_fn, gap=None):
    n = int(FS * seconds)
    t = np.arange(n) / FS
    s, bits = pm_signal(rng, n, FS, RS, mod_index=M)
    c = amplitude_for_cn0(cn0, FS, M) * s * np.exp(1j * phase_fn(t))
    if gap is not None:
        c[int(gap[0] * FS) : int(gap[1] * FS)] = 0
    return (c + noise(rng, n)).astype(np.complex64), bits


def _phase_error(track, phase_fn):
    """Track phase minus true phase (cycles), with the constant offset and whole cycles removed."""
    t = (track["sample"] - 1) / FS
    e = track["phase_cycles"] - phase_fn(t) / (2 * np.pi)
    e -= np.round(e - e[-1])
    return e - np.median(e)


def test_third_order_tracks_a_launch_day_doppler_ramp():
    rng = np.random.default_rng(1)
    # -52 Hz/s and +0.09 Hz/s^2 as right after launch (no Doppler file), 4 Hz initial error
    phase = lambda t: 2 * np.pi * (4.0 * t - 26.0 * t**2 + 0.015 * t**3)  # noqa: E731
    x, _ = _signal(rng, 6.0, 40.0, phase)
    y, tr = track_carrier(x, FS, 0.0)
    late = tr["sample"] > 1.0 * FS
    assert tr["locked"][late].all()
    e = _phase_error(tr[late], phase)
    assert np.std(e) * 360 < 4.0  # theory sqrt(Bn / C/N0) = 2.2 deg
    f_end = 4.0 - 52.0 * 6.0 + 0.045 * 36.0
    assert tr["freq_hz"][-1] == pytest.approx(f_end, abs=2.0)
    assert tr.dtype == TRACK_DTYPE


def test_second_order_ramp_lag_matches_theory():
    rng = np.random.default_rng(2)
    rate = 10.0  # Hz/s
    phase = lambda t: 2 * np.pi * 0.5 * rate * t**2  # noqa: E731
    x, _ = _signal(rng, 5.0, 45.0, phase)
    pll = CarrierPll(FS, 0.0, order=2, bandwidth_hz=15.0)
    y = pll.process(x)
    # steady-state phase lag 2 pi rate / w0^2, w0 = Bn / 0.5303
    w0 = 15.0 / 0.5303
    lag = 2 * np.pi * rate / w0**2
    tail = y[int(2.5 * FS) :]
    measured = np.angle(np.mean(tail))  # carrier on the real axis when locked: mean angle = error
    assert measured == pytest.approx(lag, rel=0.2)
    # the 3rd-order loop has no lag on a ramp
    y3 = CarrierPll(FS, 0.0, order=3).process(x)
    assert abs(np.angle(np.mean(y3[int(2.5 * FS) :]))) < 0.2 * lag


@pytest.mark.parametrize("cn0", [30.0, 40.0, 50.0])
def test_cn0_estimate_within_1db_and_lock(cn0):
    rng = np.random.default_rng(int(cn0))
    x, _ = _signal(rng, 3.0, cn0, lambda t: 2 * np.pi * 1.5 * t)
    _, tr = track_carrier(x, FS, 0.0)
    late = tr["sample"] > 1.0 * FS
    assert tr["locked"][late].all()
    assert np.median(tr["cn0_dbhz"][late]) == pytest.approx(cn0, abs=1.0)


def test_noise_never_locks():
    rng = np.random.default_rng(3)
    x = noise(rng, int(FS * 4)).astype(np.complex64)
    pll = CarrierPll(FS, 100.0)
    pll.process(x)
    tr = pll.pop_track()
    assert not tr["locked"].any()
    assert np.isnan(tr["cn0_dbhz"]).all()
    assert pll.acquisitions and not any(a.detected for _, a in pll.acquisitions)


def test_chunk_split_gives_identical_output():
    rng = np.random.default_rng(4)
    x, _ = _signal(rng, 1.5, 38.0, lambda t: 2 * np.pi * (3.0 * t + 5 * t**2))
    y1, t1 = track_carrier(x, FS, 0.0)
    pll = CarrierPll(FS, 0.0)
    cuts = [0, 1, 999, 5000, 5001, 77777, 100000, x.size]
    y2 = np.concatenate([pll.process(x[a:b]) for a, b in zip(cuts[:-1], cuts[1:])])
    # same loop, same numbers up to the floating-point summation order of partial blocks
    np.testing.assert_allclose(y1, y2, rtol=0, atol=1e-4)
    t2 = pll.pop_track()
    np.testing.assert_array_equal(t1["sample"], t2["sample"])
    np.testing.assert_array_equal(t1["locked"], t2["locked"])
    np.testing.assert_allclose(t1["phase_cycles"], t2["phase_cycles"], atol=1e-5)


def test_reacquires_after_a_dropout_at_a_new_frequency():
    rng = np.random.default_rng(5)
    # carrier at +2 Hz, gone from 2 s to 5 s, back 400 Hz higher (beyond the loop's pull-in)
    phase = lambda t: 2 * np.pi * (2.0 * t + 400.0 * np.maximum(t - 3.5, 0))  # noqa: E731
    x, _ = _signal(rng, 8.0, 38.0, phase, gap=(2.0, 5.0))
    pll = CarrierPll(FS, 2.0)
    for a in range(0, x.size, 40_000):
        pll.process(x[a : a + 40_000])
    tr = pll.pop_track()
    t = tr["sample"] / FS
    assert tr["locked"][(t > 0.5) & (t < 2.0)].all()
    assert not tr["locked"][(t > 3.0) & (t < 5.0)].any()
    assert (tr["state"][(t > 3.0) & (t < 5.0)] == 1).all()  # coasting, not integrating noise
    back = t > 6.5
    assert tr["locked"][back].all()
    assert tr["freq_hz"][-1] == pytest.approx(402.0, abs=1.0)
    assert any(a.detected for _, a in pll.acquisitions)


def test_acquires_by_itself_and_puts_data_in_the_imaginary_part():
    rng = np.random.default_rng(6)
    n = int(FS * 3)
    t = np.arange(n) / FS
    s, bits = pm_signal(rng, n, FS, RS, mod_index=M, sym_offset=0.25)
    x = (amplitude_for_cn0(40.0, FS, M) * s * np.exp(2j * np.pi * 1234.5 * t + 2.0j) + noise(rng, n)).astype(np.complex64)
    pll = CarrierPll(FS, None, acq_window_hz=5e3)
    y = pll.process(x)
    assert pll.locked and pll.freq_hz == pytest.approx(1234.5, abs=1.0)
    tail = slice(int(2 * FS), None)
    assert np.mean(y[tail].real) > 0  # carrier on the positive real axis
    d = manchester_chips(bits, t[tail] * RS + 0.25)
    assert np.corrcoef(y[tail].imag, d)[0, 1] > 0.3  # bit 0 -> chips (+1, -1) -> positive imaginary first


def test_bad_input():
    with pytest.raises(UserError):
        CarrierPll(FS, 0.0, order=4)
    with pytest.raises(UserError):
        CarrierPll(FS, 0.0).process(np.zeros((2, 10), np.complex64))


# ---------------------------------------------------------------- corrupt input (issue #11)


def _burst(x, a_s, b_s, level, rng):
    """Full-scale-like burst: samples of power `level` times the noise, random phases, over [a_s, b_s) s."""
    a, b = int(a_s * FS), int(b_s * FS)
    y = x.copy()
    y[a:b] = np.sqrt(level) * np.exp(2j * np.pi * rng.random(b - a))
    return y


@pytest.mark.parametrize("kind", ["nan", "burst"])
def test_corrupt_stretch_leaves_lock_frequency_and_cn0_intact(kind):
    rng = np.random.default_rng(31)
    clean, _ = _signal(rng, 3.0, 40.0, lambda t: 2 * np.pi * 1.5 * t)
    if kind == "nan":
        x = clean.copy()
        x[int(1.5 * FS) : int(1.55 * FS)] = np.nan + 1j * np.nan
    else:
        x = _burst(clean, 1.5, 1.55, 1000.0, rng)
    _, ref = track_carrier(clean, FS, 0.0)
    pll = CarrierPll(FS, 0.0)
    y = np.concatenate([pll.process(x[a : a + 7_000]) for a in range(0, x.size, 7_000)])
    tr = pll.pop_track()
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(tr["freq_hz"]))
    t = tr["sample"] / FS
    assert tr["locked"][t > 1.0].all()
    # the loop coasts through the stretch: its phase afterwards is that of the run on clean input
    dphase = tr["phase_cycles"] - ref["phase_cycles"]
    assert np.abs(dphase[t > 1.6]).max() < 0.05
    after = (t > 1.6) & (t < 2.0)  # right after the stretch: the C/N0 estimate has not been spoiled
    assert np.median(tr["cn0_dbhz"][after]) == pytest.approx(40.0, abs=1.5)
    n = int(0.05 * FS)
    assert (pll.n_nonfinite, pll.n_blanked) == ((n, 0) if kind == "nan" else (0, n))
    assert np.all(y[int(1.5 * FS) : int(1.55 * FS)] == 0)  # the stretch comes out as an erasure


def test_blanker_leaves_clean_input_alone():
    rng = np.random.default_rng(32)
    x, _ = _signal(rng, 1.0, 60.0, lambda t: 2 * np.pi * 3.0 * t)  # strong carrier: high per-sample SNR
    on, off = CarrierPll(FS, 0.0), CarrierPll(FS, 0.0, blank_factor=None)
    np.testing.assert_array_equal(on.process(x), off.process(x))
    assert on.n_blanked == 0
    with pytest.raises(UserError):
        CarrierPll(FS, 0.0, blank_factor=0.5)


def test_phase_and_amplitude_state_continue_the_stream():
    # phase_cycles is the NCO phase the next sample gets and amplitude the carrier amplitude per sample (what the
    # demodulator's look-back starts its backward loop from): derotating the next chunk by them leaves the carrier
    # on the positive real axis at the amplitude the signal has
    rng = np.random.default_rng(9)
    n = int(FS * 1.0)
    t = np.arange(n) / FS
    s, _ = pm_signal(rng, n, FS, RS, mod_index=M)
    amp = amplitude_for_cn0(45.0, FS, M)
    x = (amp * s * np.exp(2j * np.pi * (300.0 * t + 4.0 * t**2) + 1.0j) + noise(rng, n)).astype(np.complex64)
    pll = CarrierPll(FS, 300.0)
    cut = int(0.7 * FS) + 37  # not on a block boundary
    pll.process(x[:cut])
    assert pll.locked
    k = np.arange(int(0.01 * FS))
    ph = pll.phase_cycles + pll.freq_hz * k / FS + 0.5 * pll.rate_hz_s * (k / FS) ** 2
    c = np.mean(x[cut:cut + k.size] * np.exp(-2j * np.pi * ph))
    assert abs(np.angle(c)) < np.radians(5)
    assert abs(c) == pytest.approx(amp * np.cos(M), rel=0.1)
    assert pll.amplitude == pytest.approx(amp * np.cos(M), rel=0.1)

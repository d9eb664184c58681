"""NCO: exact, drift-free Doppler removal, phase-continuous across any chunk split."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import HERA_DOPPLER
from heradecode.dsp.nco import Nco, remove_doppler
from heradecode.errors import UserError
from heradecode.io.dopplerfile import DopplerProfile, read_doppler_profile

FS = 768e3
T0 = 1728318240.0


def _profile() -> DopplerProfile:
    t = T0 + np.arange(0.0, 40.0, 1.0)
    f = -1000.0 - 52.0 * (t - T0) + 0.09 * (t - T0) ** 2  # launch-day-like rate
    return DopplerProfile(t, f)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30000), max_size=8), st.floats(-2e4, 2e4))
def test_chunk_split_does_not_change_output(cuts, offset_hz):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((2, 30000)) + 1j * rng.standard_normal((2, 30000))).astype(np.complex64)
    whole = remove_doppler(x, FS, doppler=_profile(), offset_hz=offset_hz, start_unix_s=T0 + 3.0)
    nco = Nco(FS, doppler=_profile(), offset_hz=offset_hz, start_unix_s=T0 + 3.0)
    edges = [0, *sorted(cuts), x.shape[1]]
    parts = [nco.process(x[:, a:b]) for a, b in zip(edges[:-1], edges[1:])]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), whole, rtol=0, atol=2e-6 * np.abs(x).max())


def test_removes_doppler_tone_exactly():
    prof = _profile()
    n = int(FS * 2)
    t = T0 + 5.0 + np.arange(n) / FS
    # reference phase: integral of the piecewise-linear profile (fine trapezoid on the sample grid)
    f = prof.freq_at(t) + 250.0
    ph = np.concatenate(([0.0], np.cumsum(0.5 * (f[1:] + f[:-1])) / FS))
    x = np.exp(2j * np.pi * (ph + 0.123))
    y = Nco(FS, doppler=prof, offset_hz=250.0, start_unix_s=T0 + 5.0).process(x)
    resid = np.angle(y * np.conj(y[0]))
    assert np.max(np.abs(resid)) < 2e-4  # radians, over 2 s of a -52 Hz/s chirp


def test_phase_is_exact_hours_into_the_stream():
    # linear frequency law over 6 hours; exact rational reference phase
    f0, rate, off, fs = -28000.125, 1.25, 1234.5, 6.144e6
    prof = DopplerProfile(np.array([T0, T0 + 30000.0]), np.array([f0, f0 + rate * 30000.0]))
    nco = Nco(fs, doppler=prof, offset_hz=off, start_unix_s=T0)
    for n in (0, 12345, int(3 * 3600 * fs) + 17, int(6 * 3600 * fs) - 5):
        tau = Fraction(n) / Fraction(fs)
        exact = Fraction(f0) * tau + Fraction(rate) / 2 * tau * tau + Fraction(off) * tau
        frac = float(exact - (exact.numerator // exact.denominator))
        got = float(nco.phase_cycles(np.array([n]))[0])
        err = (got - frac + 0.5) % 1.0 - 0.5
        assert abs(err) < 1e-6, (n, err)
    # and the samples themselves, 5 h in
    nco.skip(int(5 * 3600 * fs))
    n0 = nco.n_processed
    k = np.arange(4096)
    tau = (n0 + k) / fs
    ph = f0 * tau + 0.5 * rate * tau**2 + off * tau
    x = np.exp(2j * np.pi * (ph - np.floor(ph)))
    y = nco.process(x)
    assert np.max(np.abs(np.angle(y))) < 2 * np.pi * 2e-6


def test_retune_keeps_phase_continuous():
    nco = Nco(FS, offset_hz=1000.0)
    x = np.ones(5000, np.complex64)
    a = nco.process(x)
    nco.retune(-3000.0)
    b = nco.process(x)
    step = np.angle(b[0] * np.conj(a[-1]))
    assert step == pytest.approx(-2 * np.pi * 1000.0 / FS, abs=1e-5)
    assert np.angle(b[1] * np.conj(b[0])) == pytest.approx(2 * np.pi * 3000.0 / FS, abs=1e-5)
    assert nco.freq_hz(np.array([nco.n_processed]))[0] == pytest.approx(-3000.0)


def test_real_profile_and_shapes():
    prof = read_doppler_profile(HERA_DOPPLER)
    nco = Nco(6.144e6, doppler=prof, start_unix_s=prof.start + 100)
    y = nco.process(np.ones(1000, np.complex64))
    assert y.shape == (1000,) and y.dtype == np.complex64
    assert nco.time == pytest.approx(prof.start + 100 + 1000 / 6.144e6)
    f = nco.freq_hz(np.array([0]))[0]
    assert f == pytest.approx(prof.freq_at(prof.start + 100), abs=1e-6)
    with pytest.raises(UserError):
        nco.process(np.ones((2, 3, 4), np.complex64))


def test_inplace_gives_the_same_output_and_counts():
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((2, 5000)) + 1j * rng.standard_normal((2, 5000))).astype(np.complex64)
    x[0, 10] = np.nan
    x[1, 4000] = complex(0.0, np.inf)
    x[1, 2000:2005] *= 100.0  # bursts, blanked
    plain = Nco(FS, doppler=_profile(), start_unix_s=T0, blank_factor=30.0)
    ref = np.concatenate([plain.process(x[:, a:a + 1700]) for a in range(0, 5000, 1700)], axis=1)
    inplace = Nco(FS, doppler=_profile(), start_unix_s=T0, blank_factor=30.0)
    parts = []
    for a in range(0, 5000, 1700):
        chunk = np.ascontiguousarray(x[:, a:a + 1700])
        out = inplace.process(chunk, inplace=True)
        assert out is chunk
        parts.append(out)
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), ref)
    assert (inplace.n_nonfinite, inplace.n_blanked) == (plain.n_nonfinite, plain.n_blanked) == (2, 5)

"""Polarization combiner: maximal-ratio weights from the carrier, tracking, noise-only channel, fades."""

import numpy as np
import pytest

from tests.dsp.dsp_synth import amplitude_for_cn0, noise, pm_signal
from heradecode.dsp.acquisition import acquire_carrier
from heradecode.dsp.polcombine import PolCombiner, combine_polarizations
from heradecode.errors import UserError

FS = 96e3
RS = 6e3
M = 1.1


def _make(rng, seconds, theta, phi=0.8, sig=(1.0, 1.0), cn0=40.0, f0=120.0, gap=None):
    n = int(FS * seconds)
    t = np.arange(n) / FS
    s, _ = pm_signal(rng, n, FS, RS, mod_index=M)
    s = amplitude_for_cn0(cn0, FS, M) * s * np.exp(2j * np.pi * f0 * t + 0.3j)
    if gap is not None:
        s[int(gap[0] * FS) : int(gap[1] * FS)] = 0
    th = theta(t) if callable(theta) else np.full(n, theta)
    gx, gy = np.cos(th), np.sin(th) * np.exp(1j * phi)
    x = np.stack((gx * s + noise(rng, n, sig[0] ** 2), gy * s + noise(rng, n, sig[1] ** 2))).astype(np.complex64)
    return x, s, gx, gy


def _loss_db(z, s, gx, gy, sig, start, win=int(0.5 * FS)):
    """Worst SNR loss against the MRC optimum over windows from `start` (samples)."""
    worst = 0.0
    for a in range(start, z.size - win + 1, win):
        sl = slice(a, a + win)
        g = np.vdot(s[sl], z[sl]) / np.vdot(s[sl], s[sl])
        snr = abs(g) ** 2 / np.mean(np.abs(z[sl] - g * s[sl]) ** 2)
        opt = np.mean(np.abs(gx[sl]) ** 2) / sig[0] ** 2 + np.mean(np.abs(gy[sl]) ** 2) / sig[1] ** 2
        worst = max(worst, -10 * np.log10(snr / (opt * np.mean(np.abs(s[sl]) ** 2))))
    return worst


def _run(x, chunk=7_777, **kw):
    pc = PolCombiner(FS, 125.0, **kw)
    z = np.concatenate([pc.process(x[:, a : a + chunk]) for a in range(0, x.shape[1], chunk)])
    return pc, z


@pytest.mark.parametrize("theta,phi,sig", [(np.pi / 4, 0.8, (1.0, 1.0)), (np.pi / 6, -2.5, (1.0, 2.0)), (1.2, 3.0, (0.5, 1.0))])
def test_static_gains_reach_mrc(theta, phi, sig):
    rng = np.random.default_rng(1)
    x, s, gx, gy = _make(rng, 6.0, theta, phi, sig)
    pc, z = _run(x)
    assert _loss_db(z, s, gx, gy, sig, int(2 * FS)) < 0.15
    w = pc.weights
    expect = np.array([np.conj(gx[0]) / sig[0] ** 2, np.conj(gy[0]) / sig[1] ** 2])
    ratio = w[1] / w[0]
    assert abs(ratio) == pytest.approx(abs(expect[1] / expect[0]), rel=0.1)
    assert np.angle(ratio / (expect[1] / expect[0])) == pytest.approx(0.0, abs=0.1)
    sl = slice(-int(FS), None)
    g = np.vdot(s[sl], z[sl]) / np.vdot(s[sl], s[sl])
    assert np.var(z[sl] - g * s[sl]) == pytest.approx(1.0, rel=0.1)  # unit output noise


@pytest.mark.parametrize("theta", [0.0, np.pi / 2])
def test_noise_only_channel_gets_no_weight(theta):
    rng = np.random.default_rng(2)
    x, s, gx, gy = _make(rng, 5.0, theta)
    pc, z = _run(x)
    w = np.abs(pc.weights)
    dead = 1 if theta == 0.0 else 0
    assert w[dead] < 0.1 * w[1 - dead]
    assert _loss_db(z, s, gx, gy, (1.0, 1.0), int(2 * FS)) < 0.15


def test_tracks_polarization_rotating_through_90_degrees():
    rng = np.random.default_rng(3)
    dur = 20.0
    x, s, gx, gy = _make(rng, dur, lambda t: np.pi / 2 * t / dur + 0.05, phi=1.3, f0=120.0)
    pc, z = _run(x, chunk=50_000)
    assert _loss_db(z, s, gx, gy, (1.0, 1.0), int(2 * FS)) < 0.25
    tr = pc.pop_track()
    w = tr["weight"]
    assert np.abs(w[len(w) // 10, 0]) > 3 * np.abs(w[len(w) // 10, 1])  # X first
    assert np.abs(w[-1, 1]) > 3 * np.abs(w[-1, 0])  # Y at the end


def test_follows_drifting_carrier_and_holds_weights_in_a_fade():
    rng = np.random.default_rng(4)
    n = int(FS * 8)
    x, s, gx, gy = _make(rng, 8.0, 0.6, gap=(3.0, 5.0))
    # carrier drifting at 20 Hz/s
    t = np.arange(n) / FS
    x = (x * np.exp(1j * np.pi * 20.0 * t**2)).astype(np.complex64)
    s = s * np.exp(1j * np.pi * 20.0 * t**2)
    pc = PolCombiner(FS, 125.0)
    held, weights, zs = [], [], []
    for a in range(0, n, int(0.25 * FS)):
        zs.append(pc.process(x[:, a : a + int(0.25 * FS)]))
        held.append(pc.held)
        weights.append(pc.weights)
    z = np.concatenate(zs)
    assert not held[10] and held[14] and held[18]  # held from ~0.5 s into the fade (3.75 s, 4.75 s)
    np.testing.assert_allclose(weights[19], weights[14], rtol=1e-9)  # frozen while absent
    r0, r1 = weights[11][1] / weights[11][0], weights[19][1] / weights[19][0]
    assert abs(r1) == pytest.approx(abs(r0), rel=0.1) and abs(np.angle(r1 / r0)) < 0.1
    assert not held[-1]
    assert pc.carrier_hz == pytest.approx(120.0 + 20.0 * 8.0, abs=15.0)
    assert _loss_db(z[int(6 * FS) :], s[int(6 * FS) :], gx[int(6 * FS) :], gy[int(6 * FS) :], (1.0, 1.0), 0) < 0.25


def test_prior_from_acquisition_combines_from_the_first_sample():
    rng = np.random.default_rng(5)
    x, s, gx, gy = _make(rng, 2.0, np.pi / 3, phi=2.5, cn0=33.0)
    acq = acquire_carrier(x[:, : int(0.5 * FS)], FS, bin_hz=10.0)
    z = combine_polarizations(x, FS, prior=acq)
    assert _loss_db(z, s, gx, gy, (1.0, 1.0), 0) < 0.4


def test_bad_input():
    with pytest.raises(UserError):
        PolCombiner(FS).process(np.zeros((3, 10), np.complex64))
    with pytest.raises(UserError):
        PolCombiner(FS, time_constant=0)


# ---------------------------------------------------------------- corrupt input (issue #11)


def _weights_ratio(pc):
    w = pc.weights
    return w[1] / w[0]


@pytest.mark.parametrize("kind", ["nan-x", "burst-x", "burst-both", "zero-y"])
def test_corrupt_stretch_does_not_move_the_weights(kind):
    rng = np.random.default_rng(41)
    x, s, gx, gy = _make(rng, 4.0, np.pi / 3, phi=1.0, sig=(1.0, 1.5))
    a, b = int(2.0 * FS), int(2.05 * FS)
    if kind == "nan-x":
        x[0, a:b] = np.nan
    elif kind == "zero-y":
        x[1, a:b] = 0
    else:
        rows = [0] if kind == "burst-x" else [0, 1]
        x[rows, a:b] = 40.0 * np.exp(2j * np.pi * rng.random((len(rows), b - a)))
    pc = PolCombiner(FS, 125.0)
    zs, ratios = [], []
    for c in range(0, x.shape[1], 4_800):
        zs.append(pc.process(x[:, c : c + 4_800]))
        ratios.append(_weights_ratio(pc))
    z = np.concatenate(zs)
    before, after = ratios[int(1.95 * FS) // 4_800], ratios[int(2.3 * FS) // 4_800]
    assert abs(after / before - 1) < 0.05  # gain ratio and relative phase held across the stretch
    assert np.all(np.isfinite(z))
    # the combined output keeps unit noise power through the stretch (one channel carries on alone)
    p_in = np.mean(np.abs(z[a:b]) ** 2)
    p_out = np.mean(np.abs(z[int(2.2 * FS) : int(2.6 * FS)]) ** 2)
    if kind == "burst-both":
        assert p_in == 0.0 and pc.n_blanked == 2 * (b - a)
    else:
        assert p_in == pytest.approx(p_out, rel=0.15)
    assert pc.n_nonfinite == (b - a if kind == "nan-x" else 0)
    late = slice(int(2.2 * FS), None)
    assert _loss_db(z[late], s[late], gx[late], gy[late], (1.0, 1.5), 0) < 0.3


def test_blanking_off_and_bad_factor():
    rng = np.random.default_rng(42)
    x, _, _, _ = _make(rng, 1.0, 0.5)
    on, off = PolCombiner(FS, 125.0), PolCombiner(FS, 125.0, blank_factor=None)
    np.testing.assert_array_equal(on.process(x), off.process(x))
    assert on.n_blanked == 0
    with pytest.raises(UserError):
        PolCombiner(FS, blank_factor=1.0)

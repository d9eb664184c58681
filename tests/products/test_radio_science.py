"""The phase-based Doppler observable, its cycle-slip flags and its Allan deviation."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.products import radio_science as rs
from heradecode.products.radio_science import (CYCLE_SLIP, GAP, GOOD, UNLOCKED, PhaseTrack, doppler_observable,
                                               overlapping_adev, phase_breaks, thermal_doppler_sigma_hz)
from tests.products.helpers import START_UNIX, decode_track, simulate_low, true_doppler_hz

F_DOWN = 8435.75e6


def synthetic_track(duration_s=30.0, step_s=0.01, f0=-27000.0, rate=2.0, t0=START_UNIX + 0.003, sigma=0.0,
                    seed=0):
    """A locked track of a linear Doppler ramp: exact phase plus white phase noise (cycles)."""
    rng = np.random.default_rng(seed)
    t = t0 + np.arange(int(duration_s / step_s)) * step_s
    u = np.arange(t.size) * step_s
    ph = f0 * u + 0.5 * rate * u * u + sigma * rng.standard_normal(t.size)
    f = np.empty_like(ph)
    f[1:] = np.diff(ph) / step_s
    f[0] = f0
    epoch = float(np.floor(t0))
    return PhaseTrack(epoch, (t0 - epoch) + np.arange(t.size) * step_s, ph, f, np.full(t.size, 40.0),
                      np.ones(t.size, bool))


def replace_track(tr, **kw):
    d = dict(epoch_unix_s=tr.epoch_unix_s, time_s=tr.time_s, carrier_phase_cycles=tr.carrier_phase_cycles,
             doppler_hz=tr.doppler_hz, cn0_dbhz=tr.cn0_dbhz, locked=tr.locked)
    d.update(kw)
    return PhaseTrack(**d)


# ---------------------------------------------------------------------- the observable on synthetic tracks

@pytest.mark.parametrize("interval", [1.0, 10.0])
def test_noiseless_ramp_gives_the_doppler_at_the_midpoint(interval):
    tr = synthetic_track(duration_s=40.0)
    obs = doppler_observable(tr, interval, F_DOWN)
    full = obs.good
    assert full.sum() >= 40 / interval - 2
    # a linear ramp: the mean frequency over the interval is the frequency at its midpoint
    f_true = -27000.0 + 2.0 * (obs.unix_time - tr.unix_time[0])
    assert np.max(np.abs(obs.doppler_hz[full] - f_true[full])) < 1e-4  # row interpolation: rate dt^2/8
    # tags on the UTC grid's midpoints
    assert np.allclose(obs.unix_time[full] % interval, interval / 2, atol=1e-6)
    # the first and last bins are partial: flagged as gaps, tagged at the middle of what they hold
    assert obs.quality[0] & GAP and obs.quality[-1] & GAP


@settings(max_examples=30, deadline=None)
@given(f0=st.floats(-1e5, 1e5), rate=st.floats(-50, 50), interval=st.sampled_from([1.0, 10.0]),
       offset=st.floats(0, 0.999))
def test_observable_is_exact_for_any_ramp(f0, rate, interval, offset):
    tr = synthetic_track(duration_s=25.0, f0=f0, rate=rate, t0=START_UNIX + offset)
    obs = doppler_observable(tr, interval, F_DOWN)
    f_true = f0 + rate * (obs.unix_time - tr.unix_time[0])
    err = np.abs(obs.doppler_hz - f_true)
    assert np.all(err[obs.good] < 1e-4 + 1e-9 * abs(f0))
    assert set(np.unique(obs.quality)) <= {GOOD, GAP}


def test_range_rate_sign_and_scale():
    tr = synthetic_track(duration_s=5.0, f0=8435.75, rate=0.0)  # +1e-6 fractional: approaching
    one = doppler_observable(tr, 1.0, F_DOWN)
    three = doppler_observable(tr, 1.0, F_DOWN, count_factor=2.0)
    g = one.good
    assert np.allclose(one.range_rate_m_s[g], -rs.C_M_S * 1e-6, rtol=1e-9)
    assert np.allclose(three.range_rate_m_s[g], -rs.C_M_S * 0.5e-6, rtol=1e-9)
    df = one.to_frame()
    assert list(df.columns) == ["unix_time", "doppler_hz", "range_rate_m_s", "cn0_dbhz", "quality"]
    assert str(df.index.tz) == "UTC"


def test_thermal_phase_noise_gives_the_predicted_point_scatter():
    # white phase noise of sigma cycles on rows that fall on the bin edges: a phase difference has std
    # sqrt(2) sigma / T
    sigma = 0.02
    tr = synthetic_track(duration_s=400.0, sigma=sigma, seed=5, t0=START_UNIX)
    obs = doppler_observable(tr, 1.0, F_DOWN)
    err = (obs.doppler_hz - (-27000.0 + 2.0 * (obs.unix_time - tr.unix_time[0])))[obs.good]
    assert err.size > 390
    assert np.std(err) == pytest.approx(np.sqrt(2) * sigma, rel=0.12)
    assert abs(np.mean(err)) < 4 * np.sqrt(2) * sigma / np.sqrt(err.size)


def test_a_cycle_slip_in_lock_flags_only_the_points_it_touches():
    tr = synthetic_track(duration_s=30.0, sigma=0.01, seed=1)
    ph = tr.carrier_phase_cycles.copy()
    k = np.searchsorted(tr.unix_time, START_UNIX + 12.4)
    ph[k:] += 1.0  # the loop slips one cycle at 12.4 s, still "locked"
    f = tr.doppler_hz.copy()
    f[k] += 1.0 / 0.01  # the loop frequency shows it as a spike
    slipped = replace_track(tr, carrier_phase_cycles=ph, doppler_hz=f)
    slips, breaks = phase_breaks(slipped)
    assert slips.any() and not breaks.any()
    assert np.all(np.abs(slipped.unix_time[slips] - (START_UNIX + 12.4)) < 0.3)
    obs = doppler_observable(slipped, 1.0, F_DOWN)
    flagged = obs.unix_time[(obs.quality & CYCLE_SLIP) > 0] - START_UNIX
    assert flagged.size >= 1 and np.all(np.abs(flagged - 12.5) <= 1.0)
    # the same track without the slip: nothing flagged inside
    clean = doppler_observable(tr, 1.0, F_DOWN)
    assert not np.any(clean.quality & CYCLE_SLIP)


def test_a_seam_between_receiver_runs_breaks_the_arc():
    tr = synthetic_track(duration_s=20.0)
    ph = tr.carrier_phase_cycles.copy()
    k = np.searchsorted(tr.unix_time, START_UNIX + 7.5)
    ph[k:] += 123.37  # a new receiver run: another phase origin, same frequency
    slips, breaks = phase_breaks(replace_track(tr, carrier_phase_cycles=ph))
    assert breaks.sum() == 1 and breaks[k]
    obs = doppler_observable(replace_track(tr, carrier_phase_cycles=ph), 1.0, F_DOWN)
    bad = obs.unix_time[obs.quality != GOOD] - START_UNIX
    assert 7.5 in np.round(bad, 1)
    assert np.sum(obs.quality & CYCLE_SLIP > 0) == 1


def test_unlocked_rows_flag_their_interval_and_the_guard_time():
    tr = synthetic_track(duration_s=20.0)
    lk = tr.locked.copy()
    u = tr.unix_time - START_UNIX
    lk[(u > 10.2) & (u < 10.6)] = False
    obs = doppler_observable(replace_track(tr, locked=lk), 1.0, F_DOWN, guard_s=0.5)
    unl = np.round(obs.unix_time[(obs.quality & UNLOCKED) > 0] - START_UNIX, 1)
    assert list(unl) == [9.5, 10.5, 11.5]


# ---------------------------------------------------------------------- Allan deviation

def test_oadev_of_white_frequency_noise():
    # white FM, variance s^2 at tau0 = 1 s: S_y = h0 = 2 s^2 tau0, ADEV(tau) = sqrt(h0 / (2 tau)) = s / sqrt(tau)
    rng = np.random.default_rng(7)
    s = 3e-13
    y = s * rng.standard_normal(20000)
    taus, dev, n = overlapping_adev(y, 1.0, (1.0, 10.0, 100.0))
    h0 = 2 * s * s
    assert np.allclose(dev, np.sqrt(h0 / (2 * taus)), rtol=0.15)
    assert list(taus) == [1.0, 10.0, 100.0] and n[0] > n[1] > n[2]


def test_oadev_of_white_phase_noise_falls_as_one_over_tau():
    # white PM: phase x (s) of variance sx^2; ADEV(tau) = sqrt(3) sx / tau
    rng = np.random.default_rng(8)
    sx = 1e-12
    x = sx * rng.standard_normal(20001)
    y = np.diff(x)  # fractional frequency at tau0 = 1 s
    taus, dev, _ = overlapping_adev(y, 1.0, (1.0, 10.0, 100.0))
    assert np.allclose(dev, np.sqrt(3) * sx / taus, rtol=0.15)


def test_oadev_rejects_short_or_non_finite_series():
    from heradecode.errors import UserError
    with pytest.raises(UserError):
        overlapping_adev(np.array([1.0, np.nan, 2.0, 3.0]))
    taus, dev, _ = overlapping_adev(np.ones(9) * 1e-13, 1.0, (1.0, 2.0, 5.0, 10.0))
    assert list(taus) == [1.0, 2.0]  # no tau beyond a third of the series


def test_noise_report_on_thermal_phase_noise_meets_the_thermal_limit():
    # rows with the PLL's thermal jitter at C/N0 = 40 dB-Hz and B_L = 15 Hz, sampled every 10 ms
    cn0 = 10 ** 4.0
    sigma_cycles = np.sqrt(15.0 / cn0) / (2 * np.pi)
    tr = synthetic_track(duration_s=600.0, sigma=sigma_cycles, seed=3)
    rep = rs.noise_report(doppler_observable(tr, 1.0, F_DOWN), loop_bandwidth_hz=15.0)
    for tau in (1.0, 10.0, 60.0):
        assert rep.adev_at(tau) == pytest.approx(float(rs.thermal_adev(40.0, tau, F_DOWN, 15.0)), rel=0.3)
    assert rep.range_rate_mm_s(60.0) < 0.01


# ---------------------------------------------------------------------- a simulated recording with a fade

@pytest.mark.slow
def test_fade_with_cycle_slips_is_flagged_and_the_rest_unbiased(tmp_path):
    fade = [(8.0, 0.0), (8.0001, float("-inf")), (9.0, float("-inf")), (9.0001, 0.0)]
    simulate_low(tmp_path / "rec", duration_s=24.0, fades=fade, seed=3)
    tr = decode_track(tmp_path / "rec.sigmf-meta")
    # the carrier phase really slips across the fade (not a whole-cycle-free re-lock)
    phase_err = tr.carrier_phase_cycles - np.cumsum(np.r_[0.0, np.diff(tr.unix_time) * 0.5 * (
        true_doppler_hz(tr.unix_time[1:]) + true_doppler_hz(tr.unix_time[:-1]))])
    u = tr.unix_time - START_UNIX
    before = np.median(phase_err[(u > 2) & (u < 7.5)])
    after = np.median(phase_err[(u > 10) & (u < 23)])
    assert abs(after - before) > 0.5
    obs = doppler_observable(tr, 1.0, F_DOWN)
    mid = obs.unix_time - START_UNIX
    err = obs.doppler_hz - true_doppler_hz(obs.unix_time)
    # every point whose interval touches the fade is flagged
    touches = (mid + 0.5 > 8.0) & (mid - 0.5 < 9.0)
    assert touches.sum() >= 1 and np.all(obs.quality[touches] != GOOD)
    # and the flagged points are around it (plus the first second, before lock, and the partial last bin)
    flagged = mid[obs.quality != GOOD]
    assert np.all((np.abs(flagged - 8.5) < 2.0) | (flagged < 1.0) | (flagged > 23.0))
    # the good points are unbiased and at the thermal noise
    good = obs.good
    assert good.sum() >= 18
    sigma = thermal_doppler_sigma_hz(float(np.nanmedian(obs.cn0_dbhz[good])), 1.0, 15.0)
    assert np.max(np.abs(err[good])) < 5 * sigma
    assert abs(np.mean(err[good])) < 4 * sigma / np.sqrt(good.sum()) + 1e-3
    # the flagged point across the fade holds the slip (so it would be wrong to use it)
    assert np.max(np.abs(err[touches])) > 10 * sigma


@pytest.mark.slow
def test_decode_folder_holds_the_radio_science_products(tmp_path):
    from heradecode.cli import main
    simulate_low(tmp_path / "rec", duration_s=12.0, seed=4)
    prof = tmp_path / "dop.txt"
    t = START_UNIX - 2 + np.arange(20.0)
    prof.write_text("".join(f"{a:.3f} {b:.4f}\n" for a, b in zip(t, true_doppler_hz(t))))
    out = tmp_path / "dec"
    assert main(["decode", str(tmp_path / "rec.sigmf-meta"), "--mode", "low", "--doppler", str(prof),
                 "--out", str(out), "--quiet", "--plots"]) == 0
    doc = json.loads((out / "radio_science.json").read_text())
    assert (out / "allan_deviation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert doc["schema"] == "heradecode.radio_science/1"
    assert doc["intervals"]["1s"]["good"] >= 10
    assert doc["allan"]["table"][0]["tau_s"] == 1.0
    track = rs.read_phase_csv(out / "carrier_phase.csv")
    assert track.size > 1000
    obs = np.genfromtxt(out / "doppler_1s.csv", delimiter=",", names=True)
    good = obs["quality"] == 0
    assert np.max(np.abs(obs["doppler_hz"][good] - true_doppler_hz(obs["unix_time"][good]))) < 0.1


def test_missing_rows_flag_a_gap_and_the_csv_keeps_the_phase_exact(tmp_path):
    tr = synthetic_track(duration_s=12.0, f0=-27000.0)
    keep = ~((tr.time_s > 5.2) & (tr.time_s < 5.7))  # half a second of rows lost
    holed = PhaseTrack(tr.epoch_unix_s, tr.time_s[keep], tr.carrier_phase_cycles[keep], tr.doppler_hz[keep],
                       tr.cn0_dbhz[keep], tr.locked[keep])
    obs = doppler_observable(holed, 1.0, F_DOWN)
    gaps = np.round(obs.unix_time[(obs.quality & GAP) > 0] - START_UNIX, 1)
    assert 5.5 in gaps
    rs.write_phase_csv(tmp_path / "p.csv", tr)
    back = rs.read_phase_csv(tmp_path / "p.csv")
    assert back.epoch_unix_s == tr.epoch_unix_s
    assert np.max(np.abs(back.time_s - tr.time_s)) < 1e-9  # ns, not the 0.24 us of a float64 UNIX time
    a = doppler_observable(back, 1.0, F_DOWN)
    b = doppler_observable(tr, 1.0, F_DOWN)
    assert np.max(np.abs(a.doppler_hz - b.doppler_hz)) < 1e-5


@pytest.mark.slow
def test_seam_between_parallel_workers_is_flagged_not_smeared(tmp_path):
    from heradecode.io import open_recording
    from heradecode.io.dopplerfile import DopplerProfile
    from heradecode.receiver import ReceiverConfig, decode_recording
    from tests.products.helpers import doppler_points, start_unix_ns

    simulate_low(tmp_path / "rec", duration_s=14.0, seed=8)
    rec = open_recording(tmp_path / "rec.sigmf-meta")
    pts = np.array(doppler_points(20.0))
    rows = [tk for _, tk in decode_recording(rec, ReceiverConfig(mode="low"), workers=2,
                                             doppler=DopplerProfile(pts[:, 0], pts[:, 1] + 3.0))]
    tr = PhaseTrack.from_rows(np.concatenate(rows), start_unix_ns=start_unix_ns(rec), samp_rate=rec.samp_rate)
    _, breaks = phase_breaks(tr)
    seam = tr.unix_time[breaks] - START_UNIX
    assert np.any(np.abs(seam - 7.0) < 0.1)  # the two workers' halves meet at 7 s
    obs = doppler_observable(tr, 1.0, F_DOWN)
    err = obs.doppler_hz - true_doppler_hz(obs.unix_time)
    mid = obs.unix_time - START_UNIX
    assert np.all(obs.quality[np.abs(mid - 7.0) < 0.6] != GOOD)
    good = obs.good
    assert good.sum() >= 10
    sigma = thermal_doppler_sigma_hz(float(np.nanmedian(obs.cn0_dbhz[good])), 1.0, 15.0)
    assert np.max(np.abs(err[good])) < 5 * sigma

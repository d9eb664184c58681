"""SPICE Doppler path: independent check against astropy, consistency, sign, bad input.

The independent check (test_three_way_matches_independent_astropy_computation) uses
nothing of heradecode's Doppler code: station positions and velocities come from
astropy (``EarthLocation.get_gcrs_posvel``: IAU 2006/2000A, IERS UT1 and polar motion),
the Earth's barycentric motion from astropy's built-in (ERFA) ephemeris, the spacecraft
from the analytic conic, and the Doppler is the numerical derivative dt1/dt3 of an
explicit fixed-point light-time solution.  heradecode's side uses NAIF's ITRF93 binary
PCK and DE440 through SPICE and analytic range rates.  The two Earth orientation sources
are independent (both built from IERS EOP data).
"""

from __future__ import annotations

import numpy as np
import pytest

from . import ephem_synthetic as syn
from .ephem_synthetic import START_UNIX
from heradecode.errors import UserError
from heradecode.ephem.doppler import C_M_S, X_BAND_TURNAROUND
from heradecode.ephem.predict import DopplerRequest, predict
from heradecode.ephem.spice import SpiceEphemeris, generic_kernels, unix_to_et
from heradecode.ephem.stations import get_station

F_DOWN = 8435.75e6


def _astropy_three_way(unix, rx, tx, f_down, *, relativistic, h=1.0):
    """Three-way Doppler from astropy station states and an explicit light-time iteration."""
    import astropy.units as u
    from astropy.coordinates import EarthLocation, get_body_barycentric_posvel
    from astropy.time import Time

    jd0 = 2451545.0
    t3 = Time(unix, format="unix", scale="utc").tdb
    et3 = (t3.jd1 - jd0) * 86400.0 + t3.jd2 * 86400.0
    et_ref = float(np.round(et3[0]))
    days = np.floor(et_ref / 86400.0)

    def tdb(tau):  # keep the sub-microsecond precision: small second part
        return Time(np.full(np.shape(tau), jd0 + days), (et_ref - days * 86400.0 + tau) / 86400.0,
                    format="jd", scale="tdb")

    mid = float(np.median(unix))
    locs = {s.name: EarthLocation.from_geocentric(*s.position_itrf_m(mid), unit=u.m) for s in (rx, tx)}
    # Earth's barycentric position relative to et_ref: integral of astropy's (smooth) velocity;
    # ERFA positions carry millimetre rounding noise that a numerical derivative would amplify
    tau3 = et3 - et_ref
    span = np.linspace(tau3.min() - 30.0, tau3.max() + 30.0, 64)
    vel = get_body_barycentric_posvel("earth", tdb(span), ephemeris="builtin")[1].xyz.to_value(u.m / u.s).T
    scale = max(float(np.abs(span).max()), 1.0)
    poly = np.polynomial.polynomial
    coef = [poly.polyfit(span / scale, vel[:, k], 8) for k in range(3)]
    icoef = [poly.polyint(c) * scale for c in coef]

    def earth(tau):
        x = tau / scale
        p = np.stack([poly.polyval(x, c) - poly.polyval(0.0, c) for c in icoef], 1)
        return p, np.stack([poly.polyval(x, c) for c in coef], 1)

    def station(name, tau):
        pe, ve = earth(tau)
        pg, vg = locs[name].get_gcrs_posvel(tdb(tau))
        return pe + pg.xyz.to_value(u.m).T, ve + vg.xyz.to_value(u.m / u.s).T, pg.xyz.to_value(u.m).T

    def spacecraft(tau):
        pe, ve = earth(tau)
        p, v = syn.state(tau, et_perigee=syn.ET_PERIGEE - et_ref)
        return pe + p, ve + v

    # the Sun relative to the Earth at et_ref (the origin used here), for the Shapiro delay
    t_ref = tdb(np.zeros(1))
    sun = (get_body_barycentric_posvel("sun", t_ref, ephemeris="builtin")[0].xyz.to_value(u.m).T
           - get_body_barycentric_posvel("earth", t_ref, ephemeris="builtin")[0].xyz.to_value(u.m).T)

    def delay(p_a, p_b):
        rho = np.linalg.norm(p_a - p_b, axis=1)
        if not relativistic:
            return rho / C_M_S
        r_sum = np.linalg.norm(p_a - sun, axis=1) + np.linalg.norm(p_b - sun, axis=1)
        return rho / C_M_S + 2 * 1.32712440041279419e20 / C_M_S**3 * np.log((r_sum + rho) / (r_sum - rho))

    def t1_of(tau_3):
        p_rx = station(rx.name, tau_3)[0]
        tau_2 = tau_3.copy()
        for _ in range(6):
            tau_2 = tau_3 - delay(p_rx, spacecraft(tau_2)[0])
        p_sc = spacecraft(tau_2)[0]
        tau_1 = tau_2.copy()
        for _ in range(6):
            tau_1 = tau_2 - delay(p_sc, station(tx.name, tau_1)[0])
        return tau_1

    ratio = (t1_of(tau3 + h) - t1_of(tau3 - h)) / (2.0 * h)
    if relativistic:
        def clock_rate(name, tau):
            p, v, pg = station(name, tau)
            sun = get_body_barycentric_posvel("sun", tdb(tau), ephemeris="builtin")[0].xyz.to_value(u.m).T
            e0 = get_body_barycentric_posvel("earth", tdb(np.zeros(1)), ephemeris="builtin")[0].xyz.to_value(u.m).T
            potential = 3.986004418e14 / np.linalg.norm(pg, axis=1) + \
                1.32712440041279419e20 / np.linalg.norm(p + e0 - sun, axis=1)
            return 1.0 - (0.5 * np.einsum("ij,ij->i", v, v) + potential) / C_M_S**2

        ratio = ratio * clock_rate(tx.name, t1_of(tau3)) / clock_rate(rx.name, tau3)
    return f_down * (ratio - 1.0)


@pytest.mark.parametrize("relativistic,tol_hz", [(False, 0.01), (True, 0.01)])
def test_three_way_matches_independent_astropy_computation(outbound_spk, relativistic, tol_hz):
    unix = START_UNIX + np.arange(0.0, 1200.0, 60.0)
    rx, tx = get_station("ATA"), get_station("DSS-24")
    expected = _astropy_three_way(unix, rx, tx, F_DOWN, relativistic=relativistic)
    pred = predict(DopplerRequest(rx="ATA", tx="DSS-24", kernels=(str(outbound_spk),),
                                  relativistic=relativistic), unix)
    assert pred.mode == "three-way"
    # a receding Hera-like arc: tens of kHz of Doppler, so this is a 1e-7 relative check
    assert np.all(pred.freq_hz < -200e3)
    np.testing.assert_allclose(pred.freq_hz, expected, rtol=0, atol=tol_hz)


def test_three_way_differs_from_two_way_by_the_baseline(outbound_spk):
    """The seed script's bug: a 'three-way' profile that is really two-way from the transmitter."""
    unix = START_UNIX + np.arange(0.0, 600.0, 30.0)
    three = predict(DopplerRequest(rx="ATA", tx="DSS-24", kernels=(str(outbound_spk),)), unix)
    two_tx = predict(DopplerRequest(rx="DSS-24", mode="two-way", kernels=(str(outbound_spk),)), unix)
    diff = np.abs(three.freq_hz - two_tx.freq_hz)
    assert diff.min() > 50.0  # the 729 km baseline is worth tens to hundreds of Hz here


def test_three_way_with_tx_equal_rx_is_two_way(outbound_spk):
    unix = START_UNIX + np.arange(0.0, 300.0, 10.0)
    kern = (str(outbound_spk),)
    three = predict(DopplerRequest(rx="DSS-24", tx="DSS-24", mode="three-way", kernels=kern), unix)
    two = predict(DopplerRequest(rx="DSS-24", mode="two-way", kernels=kern), unix)
    auto = predict(DopplerRequest(rx="DSS-24", tx="dss24", kernels=kern), unix)
    assert two.mode == auto.mode == "two-way"
    np.testing.assert_allclose(three.freq_hz, two.freq_hz, rtol=0, atol=1e-6)
    np.testing.assert_allclose(auto.freq_hz, two.freq_hz, rtol=0, atol=1e-6)


def test_two_way_is_twice_one_way_for_a_distant_target(distant_spk):
    unix = START_UNIX + np.arange(0.0, 1800.0, 60.0)
    kern = (str(distant_spk),)
    one = predict(DopplerRequest(rx="DSS-43", mode="one-way", kernels=kern), unix)
    two = predict(DopplerRequest(rx="DSS-43", mode="two-way", kernels=kern), unix)
    assert np.all(one.light_time_down_s > 9.0)  # ~0.02 au
    assert np.all(np.abs(one.freq_hz) > 80e3)
    np.testing.assert_allclose(two.range_rate_down_m_s, one.range_rate_down_m_s, rtol=0, atol=1e-9)
    # what separates them: the station's motion over the ~20 s round trip (~9 Hz here), the
    # product term (~1 Hz) and the spacecraft/station clock-rate difference of one-way (~10 Hz)
    assert np.max(np.abs(two.freq_hz - 2 * one.freq_hz)) < 1e-4 * np.min(np.abs(2 * one.freq_hz))
    # the product term is kept: f = f_D[(1 - up/c)(1 - down/c) - 1] (no clock terms in two-way)
    newton = predict(DopplerRequest(rx="DSS-43", mode="two-way", kernels=kern, relativistic=False), unix)
    exact = F_DOWN * ((1 - newton.range_rate_up_m_s / C_M_S) * (1 - newton.range_rate_down_m_s / C_M_S) - 1)
    np.testing.assert_allclose(newton.freq_hz, exact, rtol=0, atol=1e-5)
    without_product = -F_DOWN * (newton.range_rate_up_m_s + newton.range_rate_down_m_s) / C_M_S
    assert np.all(np.abs(newton.freq_hz - without_product) > 0.5)


@pytest.mark.parametrize("mode,tx", [("one-way", None), ("two-way", None), ("three-way", "DSS-24")])
def test_sign_convention_approaching_is_positive(inbound_spk, outbound_spk, mode, tx):
    unix = START_UNIX + np.arange(0.0, 300.0, 30.0)
    inbound = predict(DopplerRequest(rx="ATA", tx=tx, mode=mode, kernels=(str(inbound_spk),)), unix)
    outbound = predict(DopplerRequest(rx="ATA", tx=tx, mode=mode, kernels=(str(outbound_spk),)), unix)
    assert np.all(inbound.range_rate_down_m_s < -1e3) and np.all(inbound.freq_hz > 1e4)
    assert np.all(outbound.range_rate_down_m_s > 1e3) and np.all(outbound.freq_hz < -1e4)


def test_turnaround_and_uplink_frequency(outbound_spk):
    unix = START_UNIX + np.arange(0.0, 120.0, 30.0)
    kern = (str(outbound_spk),)
    nominal = predict(DopplerRequest(rx="DSS-24", mode="two-way", kernels=kern), unix)
    assert nominal.turnaround == pytest.approx(880 / 749) and nominal.uplink_hz == pytest.approx(F_DOWN / (880 / 749))
    up = 7164.1e6
    tuned = predict(DopplerRequest(rx="DSS-24", mode="two-way", kernels=kern, uplink_hz=up), unix)
    ratio = (nominal.freq_hz + F_DOWN) / F_DOWN  # f_R / (M f_T) of the nominal uplink
    np.testing.assert_allclose(tuned.freq_hz, X_BAND_TURNAROUND * up * ratio - F_DOWN, rtol=0, atol=1e-4)
    other = predict(DopplerRequest(rx="DSS-24", mode="two-way", kernels=kern, turnaround=240 / 221), unix)
    np.testing.assert_allclose(other.freq_hz, nominal.freq_hz, rtol=0, atol=1e-6)  # relative to f_D


def test_relativistic_clock_terms(outbound_spk):
    """Two-way: clock terms cancel.  Three-way: the stations' clocks differ by v_earth.(v_rx - v_tx)/c^2."""
    import astropy.units as u
    from astropy.coordinates import EarthLocation, get_body_barycentric_posvel
    from astropy.time import Time

    unix = START_UNIX + np.arange(0.0, 600.0, 60.0)
    kern = (str(outbound_spk),)
    two_rel = predict(DopplerRequest(rx="DSS-24", mode="two-way", kernels=kern), unix)
    two_newton = predict(DopplerRequest(rx="DSS-24", mode="two-way", kernels=kern, relativistic=False), unix)
    # what is left is the Sun's Shapiro delay rate: ~5 mHz at 1 au from the Sun for a near-Earth target
    assert np.max(np.abs(two_rel.freq_hz - two_newton.freq_hz)) < 0.01

    three_rel = predict(DopplerRequest(rx="ATA", tx="DSS-24", kernels=kern), unix)
    three_newton = predict(DopplerRequest(rx="ATA", tx="DSS-24", kernels=kern, relativistic=False), unix)
    t = Time(unix, format="unix")
    v_earth = get_body_barycentric_posvel("earth", t, ephemeris="builtin")[1].xyz.to_value(u.m / u.s).T
    v = {}
    for name in ("ATA", "DSS-24"):
        loc = EarthLocation.from_geocentric(*get_station(name).position_itrf_m(unix[0]), unit=u.m)
        v[name] = loc.get_gcrs_posvel(t)[1].xyz.to_value(u.m / u.s).T
    expected = F_DOWN * np.einsum("ij,ij->i", v_earth, v["ATA"] - v["DSS-24"]) / C_M_S**2
    assert np.max(np.abs(expected)) > 0.05  # tenths of a hertz: worth modelling
    np.testing.assert_allclose(three_rel.freq_hz - three_newton.freq_hz, expected, rtol=0, atol=0.015)


def test_unix_to_et_matches_str2et():
    import spiceypy

    with SpiceEphemeris([], spacecraft=-91):
        et = unix_to_et(np.array([START_UNIX]))[0]
        assert et == pytest.approx(spiceypy.str2et("2024-10-07T16:24:00"), abs=1e-6)


# --- bad input ------------------------------------------------------------------------------------

def test_unknown_station_is_a_user_error(outbound_spk):
    with pytest.raises(UserError, match="unknown station 'DSS-99'"):
        predict(DopplerRequest(rx="ATA", tx="DSS-99", kernels=(str(outbound_spk),)), [START_UNIX])


def test_kernels_not_covering_the_time(outbound_spk):
    with pytest.raises(UserError) as err:
        predict(DopplerRequest(rx="ATA", tx="DSS-24", kernels=(str(outbound_spk),)), [START_UNIX + 86400.0])
    msg = str(err.value)
    assert "HERA (NAIF ID -91)" in msg and "only over 2024-10-07T15:" in msg and "2024-10-08T16:24" in msg


def test_spacecraft_unknown_to_the_kernels(outbound_spk):
    with pytest.raises(UserError, match=r"no trajectory for -92 \(NAIF ID -92\)"):
        predict(DopplerRequest(rx="ATA", spacecraft="-92", kernels=(str(outbound_spk),)), [START_UNIX])
    with pytest.raises(UserError, match="unknown spacecraft 'JUICY'"):
        predict(DopplerRequest(rx="ATA", spacecraft="JUICY", kernels=(str(outbound_spk),)), [START_UNIX])


def _generic(name):
    return next(k for k in generic_kernels() if name in k)


def test_missing_earth_orientation_is_named(outbound_spk):
    kernels = (_generic("leapseconds"), _generic("de4"), str(outbound_spk))
    with pytest.raises(UserError, match=r"no Earth orientation data \(ITRF93 binary PCK\) covering 2024-10-07"):
        predict(DopplerRequest(rx="ATA", kernels=kernels, generic_kernels=False), [START_UNIX])


def test_missing_planetary_ephemeris_is_named(outbound_spk):
    kernels = (_generic("leapseconds"), _generic("high_prec"), str(outbound_spk))
    with pytest.raises(UserError, match="load a planetary ephemeris"):
        predict(DopplerRequest(rx="ATA", kernels=kernels, generic_kernels=False), [START_UNIX])


def test_missing_leapseconds_and_missing_files(outbound_spk, tmp_path):
    with pytest.raises(UserError, match="no leap-seconds kernel"):
        predict(DopplerRequest(rx="ATA", kernels=(str(outbound_spk),), generic_kernels=False), [START_UNIX])
    with pytest.raises(UserError, match="kernel not found"):
        predict(DopplerRequest(rx="ATA", kernels=(str(tmp_path / "nope.bsp"),)), [START_UNIX])
    with pytest.raises(UserError, match="no SPICE kernels"):
        predict(DopplerRequest(rx="ATA"), [START_UNIX])


def test_meta_kernel_with_relative_paths(outbound_spk, tmp_path):
    import shutil

    (tmp_path / "spk").mkdir()
    shutil.copy(outbound_spk, tmp_path / "spk" / "traj.bsp")
    mk = tmp_path / "mk"
    mk.mkdir()
    (mk / "test.tm").write_text("KPL/MK\n\\begindata\n  PATH_VALUES = ( '..' )\n  PATH_SYMBOLS = ( 'KERNELS' )\n"
                                "  KERNELS_TO_LOAD = ( '$KERNELS/spk/traj.bsp' )\n\\begintext\n")
    unix = START_UNIX + np.arange(0.0, 60.0, 30.0)
    a = predict(DopplerRequest(rx="ATA", kernels=(str(mk / "test.tm"),)), unix)
    b = predict(DopplerRequest(rx="ATA", kernels=(str(outbound_spk),)), unix)
    np.testing.assert_allclose(a.freq_hz, b.freq_hz, atol=1e-9)


def test_kernels_are_unloaded_after_prediction(outbound_spk):
    import spiceypy

    before = spiceypy.ktotal("ALL")
    predict(DopplerRequest(rx="ATA", kernels=(str(outbound_spk),)), [START_UNIX])
    assert spiceypy.ktotal("ALL") == before


def test_elevations_match_astropy_altaz(outbound_spk):
    import astropy.units as u
    from astropy.coordinates import GCRS, AltAz, CartesianRepresentation, EarthLocation, SkyCoord
    from astropy.time import Time

    unix = START_UNIX + np.arange(0.0, 5400.0, 900.0)
    pred = predict(DopplerRequest(rx="ATA", tx="DSS-43", kernels=(str(outbound_spk),)), unix)
    t = Time(unix, format="unix")
    pos = syn.state(unix + syn.UNIX_TO_ET)[0]
    sky = SkyCoord(CartesianRepresentation(pos.T * u.m), frame=GCRS(obstime=t))
    loc = EarthLocation.from_geocentric(*get_station("ATA").position_itrf_m(), unit=u.m)
    alt = sky.transform_to(AltAz(obstime=t, location=loc)).alt.deg
    # geocentric zenith: within the ~0.2 deg deflection of the vertical of the geodetic one
    np.testing.assert_allclose(pred.elevation_rx_deg, alt, atol=0.25)
    assert pred.elevation_tx_deg.shape == unix.shape and np.all(np.abs(pred.elevation_tx_deg) <= 90)

"""Light-time-corrected one-, two- and three-way Doppler, and Doppler residuals.

The computation is done in the Solar-System barycentric frame (BCRS, ICRF axes,
TDB), following the formulation of DSN 810-005 module 211 / Moyer (2000) to
first relativistic order:

* **Light time.**  For a receive time t3 at the receiver, the downlink leg is
  solved back to the spacecraft time t2 from
  ``t3 - t2 = |r_rx(t3) - r_sc(t2)|/c + S``, and the uplink leg back to the
  transmit time t1 from ``t2 - t1 = |r_sc(t2) - r_tx(t1)|/c + S`` (S: the
  Sun's Shapiro delay when ``relativistic``).
* **Range rates.**  Differentiating the light-time equations gives the exact
  coordinate-time ratios ``dt2/dt3 = (1 - n.v_rx/c - dS/dt3)/(1 - n.v_sc/c +
  dS/dt2)`` (n: unit vector from emitter to receiver) and likewise dt1/dt2.
  The range rates reported are the *light-time-solution* ones,
  ``rho_dot_down = c (1 - dt2/dt3)`` and ``rho_dot_up = c (1 - dt1/dt2)``, so
  that ``f_R = M f_T (1 - rho_dot_up/c)(1 - rho_dot_down/c)`` holds exactly,
  product term included.
* **Clocks.**  Frequencies are generated and measured in the proper time of
  the station (TAI rate) or spacecraft clocks.  With ``relativistic`` the
  ratio of proper-time rates ``dtau/dt = 1 - (U + v^2/2)/c^2`` at the
  transmitter (t1) and receiver (t3) is applied; for a station on the geoid
  ``U_earth + v_rot^2/2 = W0``, so what differs between two stations is the
  cross term ``v_earth . v_station/c^2`` (up to ~0.2 Hz at X band between
  Goldstone and Hat Creek).  One-way Doppler also gets the spacecraft clock
  rate (gravitational and velocity shift, several Hz near the Earth).

Sign convention: frequencies are *received minus nominal downlink*, so an
approaching spacecraft gives a positive Doppler.  For two- and three-way
Doppler the transmitter is by default tuned to ``downlink / M`` (M = 880/749
for X-up/X-down), i.e. the result is relative to the nominal downlink
frequency as radio amateurs give it; a known uplink frequency can be passed
instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, Sequence, get_args

import numpy as np

from heradecode.errors import UserError
from heradecode.ephem.stations import Station
from heradecode.io.dopplerfile import DopplerProfile

C_M_S = 299_792_458.0
"""Speed of light (m/s)."""
GM_SUN_M3_S2 = 1.32712440041279419e20
"""Sun GM (DE440)."""
GM_EARTH_M3_S2 = 3.986004418e14
"""Earth GM (IERS 2010)."""
GM_MOON_M3_S2 = 4.9028001184575496e12
"""Moon GM (DE440)."""
W0_M2_S2 = 62_636_856.0
"""Geoid potential W0 (IERS Conventions 2010); L_G = W0/c^2."""
X_BAND_TURNAROUND = 880.0 / 749.0
"""Coherent turnaround ratio for X-band up / X-band down."""

DopplerMode = Literal["one-way", "two-way", "three-way"]
"""A Doppler observable's link: one-way (downlink only), two-way or three-way (uplink from a station)."""
MODES: tuple[DopplerMode, ...] = get_args(DopplerMode)

_LT_TOL_S = 1e-10
_LT_MAX_ITER = 12


class EphemerisSource(Protocol):
    """What a backend (SPICE, HORIZONS) provides; positions in m, velocities in m/s, ICRF axes."""

    name: str

    def tdb_from_unix(self, unix_time: np.ndarray) -> np.ndarray:
        """TDB seconds past J2000 for UTC UNIX times."""

    def spacecraft(self, tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Barycentric (SSB) state of the spacecraft."""

    def earth(self, tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Barycentric state of the Earth's centre."""

    def station(self, station: Station, tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Geocentric state of a station (Earth orientation applied)."""

    def sun(self, tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Barycentric state of the Sun."""

    def moon(self, tdb: np.ndarray) -> np.ndarray:
        """Barycentric position of the Moon."""


@dataclass(frozen=True)
class DopplerPrediction:
    """Predicted received-carrier offset from the nominal downlink, on receive times (UTC UNIX s)."""

    unix_time: np.ndarray
    freq_hz: np.ndarray
    range_rate_down_m_s: np.ndarray
    range_rate_up_m_s: np.ndarray
    light_time_down_s: np.ndarray
    light_time_up_s: np.ndarray
    mode: str
    downlink_hz: float
    uplink_hz: float | None
    turnaround: float | None
    spacecraft: str
    rx: str
    tx: str | None
    backend: str
    relativistic: bool
    elevation_rx_deg: np.ndarray | None = None
    elevation_tx_deg: np.ndarray | None = None

    @property
    def received_hz(self) -> np.ndarray:
        """Absolute received carrier frequency (Hz)."""
        return self.downlink_hz + self.freq_hz

    def to_profile(self) -> DopplerProfile:
        """The ``unix_time hz`` profile that ``heradecode decode --doppler`` reads."""
        return DopplerProfile(self.unix_time, self.freq_hz)

    def freq_at(self, unix_time: np.ndarray | float) -> np.ndarray:
        """Doppler offset (Hz) interpolated at UNIX times."""
        return np.interp(unix_time, self.unix_time, self.freq_hz)


@dataclass
class _Leg:
    t_emit: np.ndarray   # TDB
    lt: np.ndarray       # s
    ratio: np.ndarray    # dt_emit/dt_receive
    rate: np.ndarray     # c (1 - ratio), m/s
    p_emit: np.ndarray
    v_emit: np.ndarray


def _norm(v: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->i", v, v))


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


def _shapiro(p_e, p_r, p_sun):
    """Sun's Shapiro delay (s) and the pieces needed for its partials."""
    re_vec = p_e - p_sun
    rr_vec = p_r - p_sun
    re = _norm(re_vec)
    rr = _norm(rr_vec)
    rho = _norm(p_r - p_e)
    a = re + rr
    k = 2.0 * GM_SUN_M3_S2 / C_M_S**3
    return k * np.log((a + rho) / (a - rho)), re_vec / re[:, None], rr_vec / rr[:, None], a, rho


def _solve_leg(t_r, p_r, v_r, emitter, sun_state, relativistic: bool) -> _Leg:
    """Solve t_r - t_e = |p_r - p_e(t_e)|/c (+ Shapiro) for t_e; return the leg with its rate ratio."""
    p_e, v_e = emitter(t_r)
    lt = _norm(p_r - p_e) / C_M_S
    p_sun = v_sun = None
    if relativistic:
        p_sun, v_sun = sun_state
    for _ in range(_LT_MAX_ITER):
        p_e, v_e = emitter(t_r - lt)
        d = p_r - p_e
        rho = _norm(d)
        n = d / rho[:, None]
        s = _shapiro(p_e, p_r, p_sun)[0] if relativistic else 0.0
        g = lt - rho / C_M_S - s
        step = g / (1.0 - _dot(n, v_e) / C_M_S)
        lt = lt - step
        if np.max(np.abs(step)) < _LT_TOL_S:
            break
    else:
        raise UserError("light-time iteration did not converge (is the trajectory continuous?)")
    t_e = t_r - lt
    p_e, v_e = emitter(t_e)
    d = p_r - p_e
    rho = _norm(d)
    n = d / rho[:, None]
    # dt_e/dt_r = (1 - a)/(1 - b),  a = n.v_r/c + dS/dt_r,  b = n.v_e/c - dS/dt_e
    a_term = _dot(n, v_r) / C_M_S
    b_term = _dot(n, v_e) / C_M_S
    if relativistic:
        _, uhat_e, uhat_r, a_sum, rho_s = _shapiro(p_e, p_r, p_sun)
        k = 2.0 * GM_SUN_M3_S2 / C_M_S**3
        adot_r = _dot(uhat_r, v_r - v_sun)
        adot_e = _dot(uhat_e, v_e - v_sun)
        rho_r = _dot(n, v_r)
        rho_e = -_dot(n, v_e)
        ds_dtr = k * ((adot_r + rho_r) / (a_sum + rho_s) - (adot_r - rho_r) / (a_sum - rho_s))
        ds_dte = k * ((adot_e + rho_e) / (a_sum + rho_s) - (adot_e - rho_e) / (a_sum - rho_s))
        a_term = a_term + ds_dtr
        b_term = b_term - ds_dte
    ratio = (1.0 - a_term) / (1.0 - b_term)
    rate = C_M_S * (a_term - b_term) / (1.0 - b_term)
    return _Leg(t_e, lt, ratio, rate, p_e, v_e)


def _station_rate(v_earth, v_geo, p_st, p_sun, p_moon) -> np.ndarray:
    """Proper-time rate dtau/dt of a station clock on the geoid (up to a common constant)."""
    u_ext = GM_SUN_M3_S2 / _norm(p_st - p_sun) + GM_MOON_M3_S2 / _norm(p_st - p_moon)
    return 1.0 - (W0_M2_S2 + 0.5 * _dot(v_earth, v_earth) + _dot(v_earth, v_geo) + u_ext) / C_M_S**2


def _spacecraft_rate(p_sc, v_sc, p_earth, p_sun, p_moon) -> np.ndarray:
    """Proper-time rate dtau/dt of a spacecraft clock (same common constant as stations)."""
    u = (GM_EARTH_M3_S2 / _norm(p_sc - p_earth) + GM_SUN_M3_S2 / _norm(p_sc - p_sun)
         + GM_MOON_M3_S2 / _norm(p_sc - p_moon))
    return 1.0 - (u + 0.5 * _dot(v_sc, v_sc)) / C_M_S**2


def _resolve_mode(mode: str | None, rx: Station, tx: Station | None) -> tuple[str, Station | None]:
    if mode is None:
        mode = "one-way" if tx is None else ("two-way" if tx == rx else "three-way")
    mode = str(mode).lower().replace("_", "-").replace(" ", "-")
    aliases = {"1-way": "one-way", "oneway": "one-way", "1": "one-way", "2-way": "two-way", "twoway": "two-way",
               "2": "two-way", "3-way": "three-way", "threeway": "three-way", "3": "three-way"}
    mode = aliases.get(mode, mode)
    if mode not in MODES:
        raise UserError(f"unknown Doppler mode {mode!r}; use one of {', '.join(MODES)}")
    if mode == "two-way":
        if tx is not None and tx != rx:
            raise UserError(f"two-way Doppler needs the transmitter to be the receiver ({rx.name}), "
                            f"not {tx.name}; use --mode three-way")
        tx = rx
    elif mode == "three-way":
        if tx is None:
            raise UserError("three-way Doppler needs a transmitting station (--tx)")
    else:
        tx = None
    return mode, tx


def predict_doppler(
    source: EphemerisSource,
    rx: Station,
    unix_time: np.ndarray | Sequence[float],
    *,
    mode: str | None = None,
    tx: Station | None = None,
    downlink_hz: float = 8435.75e6,
    uplink_hz: float | None = None,
    turnaround: float = X_BAND_TURNAROUND,
    relativistic: bool = True,
    spacecraft_name: str = "spacecraft",
) -> DopplerPrediction:
    """Doppler offset (Hz, received minus nominal downlink) at receive times ``unix_time`` (UTC s)."""
    t_unix = np.atleast_1d(np.asarray(unix_time, dtype=np.float64))
    if t_unix.ndim != 1 or t_unix.size == 0 or not np.all(np.isfinite(t_unix)):
        raise UserError("Doppler prediction needs a non-empty list of finite UNIX times")
    if not (downlink_hz > 0):
        raise UserError(f"downlink frequency must be positive, got {downlink_hz}")
    mode, tx = _resolve_mode(mode, rx, tx)
    if mode != "one-way" and not (turnaround > 0):
        raise UserError(f"turnaround ratio must be positive, got {turnaround}")

    t3 = source.tdb_from_unix(t_unix)
    pe3, ve3 = source.earth(t3)
    pg3, vg3 = source.station(rx, t3)
    p_rx, v_rx = pe3 + pg3, ve3 + vg3
    sun3 = source.sun(t3) if relativistic else None

    down = _solve_leg(t3, p_rx, v_rx, source.spacecraft, sun3, relativistic)
    ratio = down.ratio.copy()
    rate_up = np.full_like(t3, np.nan)
    lt_up = np.full_like(t3, np.nan)
    elev_rx = _elevation_deg(down.p_emit - p_rx, pg3)
    elev_tx = None

    if mode == "one-way":
        f_emit = downlink_hz
        if relativistic:
            t2 = down.t_emit
            pe2, _ = source.earth(t2)
            p_sun2, _ = source.sun(t2)
            r_sc = _spacecraft_rate(down.p_emit, down.v_emit, pe2, p_sun2, source.moon(t2))
            r_rx = _station_rate(ve3, vg3, p_rx, sun3[0], source.moon(t3))
            ratio = ratio * r_sc / r_rx
        uplink_used = None
        turnaround_used = None
    else:
        def tx_state(t):
            pe, ve = source.earth(t)
            pg, vg = source.station(tx, t)
            return pe + pg, ve + vg

        up = _solve_leg(down.t_emit, down.p_emit, down.v_emit, tx_state, sun3, relativistic)
        ratio = ratio * up.ratio
        rate_up = up.rate
        lt_up = up.lt
        t1 = up.t_emit
        pg1, vg1 = source.station(tx, t1)
        elev_tx = _elevation_deg(down.p_emit - up.p_emit, pg1)
        if relativistic:
            pe1, ve1 = source.earth(t1)
            p_sun1, _ = source.sun(t1)
            r_tx = _station_rate(ve1, vg1, up.p_emit, p_sun1, source.moon(t1))
            r_rx = _station_rate(ve3, vg3, p_rx, sun3[0], source.moon(t3))
            ratio = ratio * r_tx / r_rx
        uplink_used = float(uplink_hz) if uplink_hz is not None else downlink_hz / turnaround
        if not (uplink_used > 0):
            raise UserError(f"uplink frequency must be positive, got {uplink_hz}")
        f_emit = turnaround * uplink_used
        turnaround_used = float(turnaround)

    freq = f_emit * ratio - downlink_hz
    if mode == "one-way" or uplink_hz is None:
        # same value, computed without the cancellation of two 8.4 GHz numbers
        freq = downlink_hz * (ratio - 1.0)
    return DopplerPrediction(
        unix_time=t_unix,
        freq_hz=freq,
        range_rate_down_m_s=down.rate,
        range_rate_up_m_s=rate_up,
        light_time_down_s=down.lt,
        light_time_up_s=lt_up,
        mode=mode,
        downlink_hz=float(downlink_hz),
        uplink_hz=uplink_used,
        turnaround=turnaround_used,
        spacecraft=spacecraft_name,
        rx=rx.name,
        tx=tx.name if tx is not None else None,
        backend=getattr(source, "name", type(source).__name__),
        relativistic=bool(relativistic),
        elevation_rx_deg=elev_rx,
        elevation_tx_deg=elev_tx,
    )


def _elevation_deg(los: np.ndarray, station_geo: np.ndarray) -> np.ndarray:
    """Elevation (deg) of a line of sight above the station's geocentric horizon (within ~0.2 deg of geodetic)."""
    up = station_geo / _norm(station_geo)[:, None]
    return np.degrees(np.arcsin(np.clip(_dot(los, up) / _norm(los), -1.0, 1.0)))

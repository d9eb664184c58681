"""A synthetic Hera-like escape trajectory for the ephemeris tests (not a test module).

The spacecraft flies a geocentric hyperbola (perigee 6700 km at 2024-10-07
14:55 TDB, v_inf 2.2 km/s), so at 16:24 UTC it is ~40 000 km out and
receding at a few km/s, like Hera on its launch day.  ``state`` evaluates the
conic analytically; ``write_spk`` samples it into a type-13 (Hermite) SPK
segment relative to the Earth (399) in J2000.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

START_UNIX = 1728318240.0  # 2024-10-07T16:24:00 UTC, about 1.5 h after Hera's launch
UNIX_TO_ET = 69.1823446 - 946728000.0  # ET - UNIX around 2024-10-07 (37 leap s + 32.184 s + TDB-TT)
GM_EARTH = 3.986004418e14  # m^3/s^2
ET_PERIGEE = 781583769.184  # 2024-10-07T14:55:00 TDB, TDB seconds past J2000
R_PERIGEE = 6_700e3
V_INF = 2_200.0
INC, RAAN, ARGP = np.radians(29.0), np.radians(200.0), np.radians(150.0)
NAIF_ID = -91


def _rotation() -> np.ndarray:
    def r3(a):
        c, s = np.cos(a), np.sin(a)
        return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])

    def r1(a):
        c, s = np.cos(a), np.sin(a)
        return np.array([[1.0, 0, 0], [0, c, -s], [0, s, c]])

    return r3(RAAN) @ r1(INC) @ r3(ARGP)


def state(et: np.ndarray, et_perigee: float = ET_PERIGEE, direction: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Geocentric J2000 position (m) and velocity (m/s); direction=-1 flies the arc backwards (inbound)."""
    et = np.atleast_1d(np.asarray(et, dtype=np.float64))
    a = -GM_EARTH / V_INF**2
    e = 1.0 - R_PERIGEE / a
    n = np.sqrt(GM_EARTH / (-a) ** 3)
    m = direction * n * (et - et_perigee)
    h = np.arcsinh(m / e)
    for _ in range(50):
        f = e * np.sinh(h) - h - m
        step = f / (e * np.cosh(h) - 1.0)
        h -= step
        if np.max(np.abs(step)) < 1e-15:
            break
    hdot = direction * n / (e * np.cosh(h) - 1.0)
    b = -a * np.sqrt(e * e - 1.0)
    pf = np.stack([a * (np.cosh(h) - e), b * np.sinh(h), np.zeros_like(h)], axis=1)
    vf = np.stack([a * np.sinh(h) * hdot, b * np.cosh(h) * hdot, np.zeros_like(h)], axis=1)
    rot = _rotation()
    return pf @ rot.T, vf @ rot.T


def write_spk(path: str | Path, et_start: float, et_stop: float, *, step_s: float = 20.0,
              body: int = NAIF_ID, direction: float = 1.0, et_perigee: float = ET_PERIGEE) -> Path:
    """Write the conic, sampled every ``step_s``, as a type-13 SPK segment of ``body`` relative to the Earth."""
    import spiceypy

    path = Path(path)
    if path.exists():
        path.unlink()
    n = int(np.ceil((et_stop - et_start) / step_s)) + 1
    epochs = et_start + step_s * np.arange(n)
    pos, vel = state(epochs, et_perigee, direction)
    states = np.hstack([pos, vel]) / 1e3
    handle = spiceypy.spkopn(str(path), "heradecode test", 0)
    try:
        spiceypy.spkw13(handle, body, 399, "J2000", float(epochs[0]), float(epochs[-1]), "synthetic hyperbola",
                        7, n, states.tolist(), epochs.tolist())
    finally:
        spiceypy.spkcls(handle)
    return path


# --- HORIZONS responses -------------------------------------------------------------------------

AU_M = 149_597_870_700.0
DAY_S = 86_400.0
C_M_S = 299_792_458.0
DATA_DIR = Path(__file__).parent / "data" / "horizons"


def _strip(value) -> str:
    return str(value).strip().strip("'\"").strip()


def horizons_request_key(params: dict) -> str:
    """What identifies a HORIZONS VECTORS request (independent of astroquery's extra parameters)."""
    parts = [f"{k}={_strip(params.get(k, ''))}" for k in
             ("EPHEM_TYPE", "COMMAND", "CENTER", "SITE_COORD", "START_TIME", "STOP_TIME", "STEP_SIZE", "VEC_CORR",
              "REF_PLANE", "OUT_UNITS")]
    return "|".join(parts)


def synth_horizons_vectors(params: dict, *, et_perigee: float = ET_PERIGEE) -> str:
    """A HORIZONS VECTORS response (text API, CSV, AU-D, ICRF) for the synthetic Hera trajectory.

    Earth states come from the loaded planetary SPK and station states from the loaded
    ITRF93 PCK (spiceypy), so this stands in for HORIZONS' own ephemerides.
    """
    import spiceypy

    from heradecode.ephem.stations import geodetic_to_itrf

    assert _strip(params["EPHEM_TYPE"]) == "VECTORS" and _strip(params["OUT_UNITS"]) == "AU-D"
    assert _strip(params["VEC_CORR"]) == "NONE" and _strip(params["REF_PLANE"]) == "FRAME"
    target = _strip(params["COMMAND"])
    center = _strip(params["CENTER"])
    start, stop, step = (_strip(params[k]) for k in ("START_TIME", "STOP_TIME", "STEP_SIZE"))
    if target != str(NAIF_ID):
        return _no_match_text(target)
    assert step.endswith("m")
    step_s = 60.0 * int(step[:-1])
    et0 = spiceypy.str2et(start + " TDB")
    et1 = spiceypy.str2et(stop + " TDB")
    n = int(round((et1 - et0) / step_s)) + 1
    et = et0 + step_s * np.arange(n)
    p, v = state(et, et_perigee)
    site_line = "BODY CENTER"
    geod = "0.00000000,0.00000000,0.0000000"
    if center == "500@0":
        center_name = "Solar System Barycenter (0)"
        for i, t in enumerate(et):
            s = np.asarray(spiceypy.spkgeo(399, float(t), "J2000", 0)[0]) * 1e3
            p[i] += s[:3]
            v[i] += s[3:]
    elif center == "500@399":
        center_name = "Earth (399)"
    elif center == "coord@399":
        center_name = "Earth (399)"
        site_line = "(user defined site below)"
        lon, lat, alt_km = (float(x) for x in _strip(params["SITE_COORD"]).split(","))
        geod = f"{lon:.8f},{lat:.8f},{alt_km:.7f}"
        xyz = np.concatenate([geodetic_to_itrf(lat, lon, alt_km * 1e3), np.zeros(3)])
        for i, t in enumerate(et):
            s = np.asarray(spiceypy.sxform("ITRF93", "J2000", float(t))) @ xyz
            p[i] -= s[:3]
            v[i] -= s[3:]
    else:
        raise AssertionError(f"unexpected centre {center}")
    rows = []
    for t, pp, vv in zip(et, p, v):
        r = np.linalg.norm(pp)
        rr = float(pp @ vv) / r
        cal = spiceypy.timout(float(t), "YYYY-Mon-DD HR:MN:SC.#### ::TDB")
        vals = [*(pp / AU_M), *(vv * DAY_S / AU_M), r / C_M_S / DAY_S, r / AU_M, rr * DAY_S / AU_M]
        rows.append(f"{2451545.0 + t / DAY_S:.9f}, A.D. {cal}, " + ", ".join(f"{x: .15E}" for x in vals) + ",")
    cal0 = spiceypy.timout(float(et[0]), "YYYY-Mon-DD HR:MN:SC.#### ::TDB")
    cal1 = spiceypy.timout(float(et[-1]), "YYYY-Mon-DD HR:MN:SC.#### ::TDB")
    stars = "*" * 79
    header = ("            JDTDB,            Calendar Date (TDB),                      X,                      Y,"
              "                      Z,                     VX,                     VY,                     VZ,"
              "                     LT,                     RG,                     RR,")
    return "\n".join([
        "API VERSION: 1.2", "API SOURCE: NASA/JPL Horizons API", "", stars,
        " Revised: (synthetic)        Hera (spacecraft)                     -91", "",
        " Synthetic response: heradecode test trajectory (geocentric hyperbola), not JPL data.", stars,
        "", "", stars, "Ephemeris / API_USER (heradecode test data) / Horizons", stars,
        "Target body name: Hera (spacecraft) (-91)       {source: heradecode synthetic}",
        f"Center body name: {center_name:32s}{{source: DE440}}",
        f"Center-site name: {site_line}", stars,
        f"Start time      : A.D. {cal0} TDB", f"Stop  time      : A.D. {cal1} TDB",
        f"Step-size       : {int(step_s // 60)} minutes", stars,
        f"Center geodetic : {geod} {{E-lon(deg),Lat(deg),Alt(km)}}",
        "Center radii    : 6378.137 x 6378.137 x 6356.752 k{Equator, meridian, pole}",
        "Output units    : AU-D", "Output type     : GEOMETRIC cartesian states",
        "Output format   : 3 (position, velocity, LT, range, range-rate)",
        "Reference frame : ICRF", stars, header, "*" * 266, "$$SOE", *rows, "$$EOE", "*" * 266, " ",
        "TIME", "", "  Barycentric Dynamical Time (\"TDB\" or T_eph) output was requested.", "",
        "REFERENCE FRAME AND COORDINATES", "", "  International Celestial Reference Frame (ICRF)", "",
        "ABERRATIONS AND CORRECTIONS", "", " Geometric state vectors have NO corrections or aberrations applied.",
        stars, ""])


def _no_match_text(target: str) -> str:
    return "\n".join(["API VERSION: 1.2", "API SOURCE: NASA/JPL Horizons API", "",
                      f"No ephemeris for target \"{target}\" prior to A.D. 2024-OCT-07 15:00:00.0000 TDB", ""])

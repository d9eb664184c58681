"""JPL HORIZONS backend (astroquery.jplhorizons) with an on-disk cache.

HORIZONS is asked only for *geometric state vectors of the spacecraft*
(ICRF axes, TDB epochs, ``VEC_CORR=NONE``) on a regular grid, relative to

* the solar-system barycentre (``500@0``),
* the Earth's centre (``500@399``),
* each station, given as a topocentric site by WGS-84 geodetic coordinates
  (``coord@399``, ``SITE_COORD``).

Differences of these give the Earth's barycentric state and each station's
geocentric state (HORIZONS applies its own high-precision Earth orientation).
The light-time solution, range rates and clock corrections are then exactly
those of the SPICE path (:mod:`heradecode.ephem.doppler`); states between grid
points come from cubic Hermite interpolation of positions and velocities.  Sun
and Moon positions, which enter only the Shapiro delay and clock-rate terms,
come from astropy's built-in ephemeris.

Every response is stored verbatim in the cache directory
(``$HERADECODE_CACHE/horizons``, default ``~/.cache/heradecode/horizons``)
under a hash of the query, so a repeated run needs no network.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from heradecode.errors import UserError
from heradecode.ephem.stations import Station

AU_M = 149_597_870_700.0
DAY_S = 86_400.0
JD_J2000 = 2_451_545.0
KNOWN_SPACECRAFT = {"HERA": "-91", "HERA SPACECRAFT": "-91"}
"""Names HORIZONS would resolve to something else (asteroid 103 Hera) mapped to spacecraft IDs."""
CACHE_ENV = "HERADECODE_CACHE"

SSB = "500@0"
GEOCENTER = "500@399"


def default_cache_dir() -> Path:
    """``$HERADECODE_CACHE/horizons`` or ``$XDG_CACHE_HOME/heradecode/horizons`` (~/.cache)."""
    base = os.environ.get(CACHE_ENV)
    if base:
        return Path(base).expanduser() / "horizons"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "heradecode" / "horizons"


def horizons_id(spacecraft: str | int) -> str:
    """The HORIZONS COMMAND for a spacecraft name or NAIF ID."""
    text = str(spacecraft).strip()
    return KNOWN_SPACECRAFT.get(text.upper(), text)


def tdb_iso(et: float) -> str:
    """TDB seconds past J2000 as a ``YYYY-MM-DD hh:mm:ss.sss`` TDB calendar string."""
    from astropy.time import Time

    t = Time(JD_J2000, float(et) / DAY_S, format="jd", scale="tdb", precision=3)
    return t.iso


@dataclass(frozen=True)
class VectorTable:
    """Geometric states of a target relative to a centre on a regular TDB grid."""

    tdb: np.ndarray
    pos_m: np.ndarray
    vel_m_s: np.ndarray
    target_name: str
    center_name: str


def parse_vectors(text: str, query: str = "HORIZONS query") -> VectorTable:
    """Parse a HORIZONS VECTORS response (CSV, AU and AU/day) into a VectorTable in m and m/s."""
    lines = text.splitlines()
    try:
        soe = next(i for i, line in enumerate(lines) if line.strip() == "$$SOE")
        eoe = next(i for i, line in enumerate(lines) if line.strip() == "$$EOE")
    except StopIteration:
        raise UserError(f"HORIZONS gave no vectors for {query}: {_horizons_message(lines)}") from None
    header = None
    for line in reversed(lines[:soe]):
        if "JDTDB" in line and "," in line:
            header = [h.strip() for h in line.split(",")]
            break
    if header is None:
        raise UserError(f"HORIZONS response for {query} has no JDTDB header line")
    try:
        cols = [header.index(c) for c in ("JDTDB", "X", "Y", "Z", "VX", "VY", "VZ")]
    except ValueError:
        raise UserError(f"HORIZONS response for {query} lacks X,Y,Z,VX,VY,VZ columns") from None
    rows = []
    for line in lines[soe + 1:eoe]:
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < len(header) - 1:
            continue
        try:
            rows.append([float(parts[c]) for c in cols])
        except ValueError:
            continue
    if not rows:
        raise UserError(f"HORIZONS returned an empty table for {query}")
    arr = np.array(rows)
    target = _header_value(lines, "Target body name")
    center = _header_value(lines, "Center body name")
    tdb = (arr[:, 0] - JD_J2000) * DAY_S
    return VectorTable(tdb, arr[:, 1:4] * AU_M, arr[:, 4:7] * (AU_M / DAY_S), target, center)


def _header_value(lines: list[str], key: str) -> str:
    for line in lines:
        if line.startswith(key):
            return line.split(":", 1)[1].split("{")[0].strip()
    return ""


def _horizons_message(lines: list[str]) -> str:
    keys = ("no ephemeris", "cannot", "error", "no matches", "not found", "prior to", "after",
            "no site", "insufficient", "ambiguous", "multiple")
    msg = [ln.strip() for ln in lines if ln.strip() and any(k in ln.lower() for k in keys)]
    if not msg:
        msg = [ln.strip() for ln in lines if ln.strip()][-3:]
    return " / ".join(msg)[:500] or "empty response"


class HorizonsClient:
    """Cached HORIZONS VECTORS queries through astroquery."""

    def __init__(self, cache_dir: str | Path | None = None, *, offline: bool = False) -> None:
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self.offline = offline
        self.network_queries = 0

    @staticmethod
    def _location(center: str | Station, epoch_unix: float) -> tuple[str | dict, dict]:
        if isinstance(center, Station):
            lat, lon, h = center.geodetic(epoch_unix)
            lon = lon % 360.0
            key = {"site": center.name, "lon_deg": round(lon, 9), "lat_deg": round(lat, 9),
                   "elevation_km": round(h / 1000.0, 7)}
            import astropy.units as u

            loc = {"lon": key["lon_deg"] * u.deg, "lat": key["lat_deg"] * u.deg,
                   "elevation": key["elevation_km"] * u.km, "body": 399}
            return loc, {k: v for k, v in key.items() if k != "site"}
        return str(center), {"center": str(center)}

    def vectors(self, target: str, center: str | Station, et_start: float, et_stop: float,
                step_min: int, epoch_unix: float) -> VectorTable:
        """States of ``target`` relative to ``center`` (a HORIZONS centre code or a station)."""
        start, stop, step = tdb_iso(et_start), tdb_iso(et_stop), f"{int(step_min)}m"
        location, key_loc = self._location(center, epoch_unix)
        key = {"type": "vectors", "target": target, **key_loc, "start_tdb": start, "stop_tdb": stop,
               "step": step, "refplane": "FRAME", "ref_system": "ICRF", "vec_corr": "NONE"}
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
        path = self.cache_dir / f"vectors_{digest}.txt"
        label = f"{target} from {getattr(center, 'name', center)} {start}..{stop} TDB"
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            table = None
        else:
            if self.offline:
                raise UserError(f"HORIZONS response for {label} is not in the cache {self.cache_dir} "
                                "(offline); run once with network access")
            text = self._query(target, location, start, stop, step, label)
            table = parse_vectors(text, label)  # parse before caching: failures are not cached
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            path.with_suffix(".json").write_text(json.dumps(key, indent=1, sort_keys=True), encoding="utf-8")
        if table is None:
            table = parse_vectors(text, label)
        return _on_grid(table, et_start, et_stop, 60.0 * step_min, label)

    def _query(self, target: str, location, start: str, stop: str, step: str, label: str) -> str:
        try:
            from astroquery.jplhorizons import Horizons
        except ImportError:  # pragma: no cover
            raise UserError("the HORIZONS backend needs astroquery: pip install astroquery") from None
        import requests

        obj = Horizons(id=target, location=location, epochs={"start": start, "stop": stop, "step": step})
        self.network_queries += 1
        try:
            response = obj.vectors_async(refplane="earth", aberrations="geometric", cache=False)
            response.raise_for_status()
        except requests.exceptions.RequestException as exc:
            raise UserError(f"cannot reach JPL HORIZONS for {label}: {exc.__class__.__name__}; "
                            "use --kernels, or run once with network access to fill the cache") from None
        except OSError as exc:
            raise UserError(f"cannot reach JPL HORIZONS for {label}: {exc}") from None
        return response.text


class _HermiteTable:
    """Cubic Hermite interpolation of positions with their velocities."""

    def __init__(self, tdb: np.ndarray, pos: np.ndarray, vel: np.ndarray) -> None:
        from scipy.interpolate import CubicHermiteSpline

        self.t0 = float(tdb[0])
        self.t_end = float(tdb[-1])
        x = tdb - self.t0
        self.spline = CubicHermiteSpline(x, pos, vel, axis=0)
        self.dspline = self.spline.derivative()

    def __call__(self, tdb: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
        tdb = np.atleast_1d(np.asarray(tdb, dtype=np.float64))
        if tdb.min() < self.t0 - 1e-3 or tdb.max() > self.t_end + 1e-3:
            raise UserError(f"HORIZONS table for the {what} does not cover the requested times")
        x = tdb - self.t0
        return self.spline(x), self.dspline(x)


class HorizonsEphemeris:
    """States from JPL HORIZONS vectors (an EphemerisSource); call :meth:`prepare` first."""

    name = "horizons"

    def __init__(self, spacecraft: str | int = "HERA", *, step_s: float = 60.0,
                 cache_dir: str | Path | None = None, offline: bool = False) -> None:
        if step_s < 60.0 or abs(step_s / 60.0 - round(step_s / 60.0)) > 1e-9:
            raise UserError(f"HORIZONS step must be a whole number of minutes, got {step_s} s")
        self.spacecraft_name = str(spacecraft)
        self.target = horizons_id(spacecraft)
        self.step_min = int(round(step_s / 60.0))
        self.client = HorizonsClient(cache_dir, offline=offline)
        self._sc: _HermiteTable | None = None
        self._earth: _HermiteTable | None = None
        self._stations: dict[Station, _HermiteTable] = {}

    def tdb_from_unix(self, unix_time: np.ndarray) -> np.ndarray:
        """TDB seconds past J2000 for UTC UNIX times (astropy, IAU 2006 TDB-TT)."""
        from astropy.time import Time

        t = Time(np.atleast_1d(np.asarray(unix_time, dtype=np.float64)), format="unix", scale="utc").tdb
        return (t.jd1 - JD_J2000) * DAY_S + t.jd2 * DAY_S

    def prepare(self, unix_start: float, unix_stop: float, stations: Iterable[Station]) -> None:
        """Fetch (or read from cache) every table needed for receive times in [start, stop]."""
        step = 60.0 * self.step_min
        et0, et1 = self.tdb_from_unix(np.array([unix_start, unix_stop]))
        mid_unix = 0.5 * (unix_start + unix_stop)
        # probe the geocentric range for the light time, on the coarse grid
        g0 = np.floor(et0 / step) * step - step
        g1 = np.ceil(et1 / step) * step + step
        probe = self.client.vectors(self.target, GEOCENTER, g0, g1, self.step_min, mid_unix)
        lt_max = float(np.max(np.linalg.norm(probe.pos_m, axis=1))) / 299_792_458.0
        a, b = g0 - np.ceil((2.0 * lt_max + 60.0) / step) * step, g1
        geo = self.client.vectors(self.target, GEOCENTER, a, b, self.step_min, mid_unix)
        bary = self.client.vectors(self.target, SSB, a, b, self.step_min, mid_unix)
        _check_grid(geo, bary, "barycentric")
        self._sc = _HermiteTable(bary.tdb, bary.pos_m, bary.vel_m_s)
        self._earth = _HermiteTable(bary.tdb, bary.pos_m - geo.pos_m, bary.vel_m_s - geo.vel_m_s)
        for st in dict.fromkeys(stations):
            topo = self.client.vectors(self.target, st, a, b, self.step_min, mid_unix)
            _check_grid(geo, topo, f"station {st.name}")
            self._stations[st] = _HermiteTable(geo.tdb, geo.pos_m - topo.pos_m, geo.vel_m_s - topo.vel_m_s)

    def _need(self, table, what):
        if table is None:
            raise UserError(f"HORIZONS tables for the {what} were not fetched (call prepare first)")
        return table

    def spacecraft(self, tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Barycentric state of the spacecraft (m, m/s, ICRF)."""
        return self._need(self._sc, "spacecraft")(tdb, "spacecraft")

    def earth(self, tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Barycentric state of the Earth (m, m/s, ICRF)."""
        return self._need(self._earth, "Earth")(tdb, "Earth")

    def station(self, station: Station, tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Geocentric state of a station (m, m/s, ICRF) from HORIZONS' topocentric vectors."""
        return self._need(self._stations.get(station), f"station {station.name}")(tdb, f"station {station.name}")

    def _body(self, body: str, tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from astropy.coordinates import get_body_barycentric_posvel
        from astropy.time import Time

        tdb = np.atleast_1d(np.asarray(tdb, dtype=np.float64))
        t = Time(np.full(tdb.shape, JD_J2000), tdb / DAY_S, format="jd", scale="tdb")
        p, v = get_body_barycentric_posvel(body, t, ephemeris="builtin")
        return p.xyz.to_value("m").T, v.xyz.to_value("m/s").T

    def sun(self, tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Barycentric state of the Sun (astropy built-in ephemeris)."""
        return self._body("sun", tdb)

    def moon(self, tdb: np.ndarray) -> np.ndarray:
        """Barycentric position of the Moon (astropy built-in ephemeris)."""
        return self._body("moon", tdb)[0]

    @property
    def network_queries(self) -> int:
        """Number of queries that went to the network (not the cache)."""
        return self.client.network_queries


def _on_grid(table: VectorTable, et_start: float, et_stop: float, step_s: float, label: str) -> VectorTable:
    """Replace the printed JDTDB (9 decimals, ~40 us) by the exact grid that was asked for."""
    n = int(round((et_stop - et_start) / step_s)) + 1
    grid = et_start + step_s * np.arange(n)
    if table.tdb.shape != grid.shape or np.max(np.abs(table.tdb - grid)) > 1e-3:
        raise UserError(f"HORIZONS returned {table.tdb.size} epochs for {label}, expected {n} on a "
                        f"{step_s:.0f} s grid")
    return VectorTable(grid, table.pos_m, table.vel_m_s, table.target_name, table.center_name)


def _check_grid(a: VectorTable, b: VectorTable, what: str) -> None:
    if a.tdb.shape != b.tdb.shape or np.max(np.abs(a.tdb - b.tdb)) > 1e-3:
        raise UserError(f"HORIZONS tables for the {what} and the geocentre are on different time grids")

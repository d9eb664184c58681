"""Ground stations: ITRF coordinates of deep-space antennas and user-defined sites.

Every built-in station carries its source and epoch.  Positions are Earth-fixed
(ITRF; SPICE calls the frame ``ITRF93``) Cartesian coordinates in metres; DSN
positions move with the published plate-motion velocities from their epoch
(2003.0).  Names are matched forgivingly: ``DSS-24``, ``dss24``, ``DSS 24``,
``ATA``, ``Hat Creek``, ``Malargue`` all work.

Sources
-------
DSN
    "301 Coverage and Geometry", DSN No. 810-005, module 301, Rev. P
    (2026-05-22), Table 2 "Cartesian Coordinates for DSN Stations", epoch
    2003.0, with the plate-motion model of the same document (m/yr, reference
    epoch 2003-01-01).  Transcribed from NAIF's ``earth_topo_260717.tf``,
    which reproduces the table; identical to Rev. M (2020) except DSS-53,
    whose preliminary position was replaced by the surveyed one.
ESA ESTRACK deep-space antennas (New Norcia DSA-1, Cebreros DSA-2, Malargüe DSA-3)
    Geodetic latitude/longitude from ESA's ESTRACK frame kernel
    ``ESTRACK_V04.TF`` (ESA SPICE Service, 2021-04-07; coordinates improved
    2020-02-20 from ESA's ESTRACK web pages), heights from ESTRACK NOW
    (estracknow.esa.int).  Public values, good to about 1 m; ESA's own
    ``NEW_NORCIA.BSP`` is more precise.  Epoch about 2020.
Allen Telescope Array (Hat Creek Radio Observatory)
    Array reference position 40°49'02.75" N, 121°28'14.65" W, 1019.222 m
    above the WGS-84 ellipsoid (D. DeBoer, private communication to
    G. Keating, 2024, as published in pyuvdata's telescope list).  Epoch
    2024; no plate motion applied.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from heradecode.errors import UserError

WGS84_A_M = 6_378_137.0
"""WGS-84 equatorial radius (m)."""
WGS84_F = 1.0 / 298.257223563
"""WGS-84 flattening."""

_SECONDS_PER_YEAR = 365.25 * 86400.0
_UNIX_2003_0 = 1041379200.0  # 2003-01-01T00:00:00 UTC


def geodetic_to_itrf(lat_deg: float, lon_deg: float, height_m: float) -> np.ndarray:
    """WGS-84 geodetic latitude/longitude (deg) and ellipsoidal height (m) to ITRF XYZ (m)."""
    lat = np.radians(lat_deg)
    lon = np.radians(lon_deg)
    e2 = WGS84_F * (2.0 - WGS84_F)
    n = WGS84_A_M / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
    return np.array(
        [
            (n + height_m) * np.cos(lat) * np.cos(lon),
            (n + height_m) * np.cos(lat) * np.sin(lon),
            (n * (1.0 - e2) + height_m) * np.sin(lat),
        ]
    )


def itrf_to_geodetic(xyz_m: np.ndarray) -> tuple[float, float, float]:
    """ITRF XYZ (m) to WGS-84 geodetic (lat_deg, lon_deg, height_m)."""
    x, y, z = (float(v) for v in xyz_m)
    e2 = WGS84_F * (2.0 - WGS84_F)
    p = np.hypot(x, y)
    lon = np.arctan2(y, x)
    lat = np.arctan2(z, p * (1.0 - e2))
    height = 0.0
    for _ in range(10):
        n = WGS84_A_M / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
        height = p / np.cos(lat) - n if abs(lat) < np.radians(80) else z / np.sin(lat) - n * (1.0 - e2)
        lat_new = np.arctan2(z, p * (1.0 - e2 * n / (n + height)))
        if abs(lat_new - lat) < 1e-14:
            lat = lat_new
            break
        lat = lat_new
    n = WGS84_A_M / np.sqrt(1.0 - e2 * np.sin(lat) ** 2)
    height = p / np.cos(lat) - n if abs(lat) < np.radians(80) else z / np.sin(lat) - n * (1.0 - e2)
    return float(np.degrees(lat)), float(np.degrees(lon)), float(height)


@dataclass(frozen=True)
class Station:
    """An Earth-fixed antenna: ITRF position (m) at an epoch, plate velocity (m/yr), provenance."""

    name: str
    itrf_m: tuple[float, float, float]
    velocity_m_per_yr: tuple[float, float, float] = (0.0, 0.0, 0.0)
    epoch_unix: float = _UNIX_2003_0
    source: str = "user-defined"
    aliases: tuple[str, ...] = field(default=(), compare=False)
    description: str = field(default="", compare=False)

    def position_itrf_m(self, unix_time: float | None = None) -> np.ndarray:
        """ITRF position (m) at a UNIX time, plate motion applied; at the catalogue epoch if None."""
        pos = np.array(self.itrf_m, dtype=np.float64)
        if unix_time is None:
            return pos
        years = (float(unix_time) - self.epoch_unix) / _SECONDS_PER_YEAR
        return pos + years * np.array(self.velocity_m_per_yr, dtype=np.float64)

    def geodetic(self, unix_time: float | None = None) -> tuple[float, float, float]:
        """WGS-84 (lat_deg, lon_deg, height_m) at a UNIX time (plate motion applied)."""
        return itrf_to_geodetic(self.position_itrf_m(unix_time))

    @classmethod
    def from_geodetic(cls, name: str, lat_deg: float, lon_deg: float, height_m: float,
                      source: str = "user-defined (WGS-84 geodetic)") -> "Station":
        """A station from WGS-84 geodetic latitude/longitude (deg) and ellipsoidal height (m)."""
        if not (-90.0 <= lat_deg <= 90.0) or not (-360.0 <= lon_deg <= 360.0):
            raise UserError(f"station {name!r}: latitude must be within ±90° and longitude within ±360°")
        if not (-12_000.0 <= height_m <= 100_000.0):
            raise UserError(f"station {name!r}: height {height_m} m is not on the Earth's surface")
        xyz = geodetic_to_itrf(lat_deg, lon_deg, height_m)
        return cls(name, (float(xyz[0]), float(xyz[1]), float(xyz[2])), source=source)

    @classmethod
    def from_itrf(cls, name: str, x_m: float, y_m: float, z_m: float,
                  source: str = "user-defined (ITRF XYZ)") -> "Station":
        """A station from Earth-fixed ITRF Cartesian coordinates (m)."""
        r = float(np.sqrt(x_m * x_m + y_m * y_m + z_m * z_m))
        if not (6_340_000.0 <= r <= 6_480_000.0):
            raise UserError(
                f"station {name!r}: |XYZ| = {r / 1000:.1f} km is not on the Earth's surface "
                "(ITRF coordinates are in metres)"
            )
        return cls(name, (float(x_m), float(y_m), float(z_m)), source=source)

    def to_dict(self) -> dict:
        """JSON-friendly description (a catalogue name, or the coordinates of a user station)."""
        if STATIONS.get(self.name) == self:
            return {"name": self.name}
        return {"name": self.name, "itrf_m": list(self.itrf_m),
                "velocity_m_per_yr": list(self.velocity_m_per_yr), "epoch_unix": self.epoch_unix,
                "source": self.source}

    @classmethod
    def from_dict(cls, data: dict | str) -> "Station":
        """Inverse of :meth:`to_dict`; a bare string is looked up with :func:`get_station`."""
        if isinstance(data, str):
            return get_station(data)
        if "itrf_m" not in data:
            return get_station(str(data.get("name", "")))
        try:
            return cls(str(data["name"]), tuple(float(v) for v in data["itrf_m"]),
                       tuple(float(v) for v in data.get("velocity_m_per_yr", (0.0, 0.0, 0.0))),
                       float(data.get("epoch_unix", _UNIX_2003_0)), str(data.get("source", "user-defined")))
        except (TypeError, ValueError, KeyError) as exc:
            raise UserError(f"bad station description {data!r}: {exc}") from None


# --- DSN: 810-005 module 301 Rev. P, Table 2, ITRF, epoch 2003.0 --------------------------------
_DSN_SOURCE = "DSN 810-005 module 301 Rev. P (2026-05-22) Table 2, ITRF, epoch 2003.0, plate motion from 2003.0"
_GOLDSTONE_V = (-0.0180, 0.0065, -0.0038)
_CANBERRA_V = (-0.0335, -0.0041, 0.0392)
_MADRID_V = (-0.0100, 0.0242, 0.0156)

_DSN_TABLE = {
    # name: (x, y, z [m], plate velocity [m/yr], description)
    "DSS-14": (-2353621.420, -4641341.472, +3677052.318, _GOLDSTONE_V, "Goldstone 70 m"),
    "DSS-24": (-2354906.711, -4646840.095, +3669242.325, _GOLDSTONE_V, "Goldstone 34 m BWG"),
    "DSS-25": (-2355022.014, -4646953.204, +3669040.567, _GOLDSTONE_V, "Goldstone 34 m BWG"),
    "DSS-26": (-2354890.797, -4647166.328, +3668871.755, _GOLDSTONE_V, "Goldstone 34 m BWG"),
    "DSS-34": (-4461147.093, +2682439.239, -3674393.133, _CANBERRA_V, "Canberra 34 m BWG"),
    "DSS-35": (-4461273.090, +2682568.925, -3674152.093, _CANBERRA_V, "Canberra 34 m BWG"),
    "DSS-36": (-4461168.415, +2682814.657, -3674083.901, _CANBERRA_V, "Canberra 34 m BWG"),
    "DSS-43": (-4460894.917, +2682361.507, -3674748.152, _CANBERRA_V, "Canberra 70 m"),
    "DSS-53": (+4849338.209, -360657.812, +4114746.173, _MADRID_V, "Madrid 34 m BWG"),
    "DSS-54": (+4849434.488, -360723.8999, +4114618.835, _MADRID_V, "Madrid 34 m BWG"),
    "DSS-55": (+4849525.256, -360606.0932, +4114495.084, _MADRID_V, "Madrid 34 m BWG"),
    "DSS-56": (+4849421.679, -360549.659, +4114646.987, _MADRID_V, "Madrid 34 m BWG"),
    "DSS-63": (+4849092.518, -360180.3480, +4115109.251, _MADRID_V, "Madrid 70 m"),
    "DSS-65": (+4849339.634, -360427.6637, +4114750.733, _MADRID_V, "Madrid 34 m HEF"),
}

_UNIX_2020_0 = 1577836800.0
_UNIX_2024_0 = 1704067200.0
_ESA_SOURCE = ("ESA ESTRACK_V04.TF (ESA SPICE Service, 2021; coordinates of 2020-02-20) lat/lon, "
               "ESTRACK NOW heights; WGS-84 geodetic, ~1 m")
_ATA_SOURCE = ("ATA array reference 40d49m02.75s N, 121d28m14.65s W, 1019.222 m WGS-84 "
               "(D. DeBoer to G. Keating 2024, pyuvdata telescope list)")


def _build_catalogue() -> dict[str, Station]:
    cat: dict[str, Station] = {}
    for name, (x, y, z, vel, desc) in _DSN_TABLE.items():
        number = name.split("-")[1]
        cat[name] = Station(name, (x, y, z), vel, _UNIX_2003_0, _DSN_SOURCE,
                            aliases=(f"DSS{number}", f"DSS {number}"), description=desc)

    def geodetic_station(name, lat, lon, h, epoch, source, aliases, desc):
        xyz = geodetic_to_itrf(lat, lon, h)
        return Station(name, (float(xyz[0]), float(xyz[1]), float(xyz[2])), (0.0, 0.0, 0.0), epoch, source,
                       aliases=aliases, description=desc)

    cat["New Norcia"] = geodetic_station("New Norcia", -31.0482254, 116.1914978, 252.26, _UNIX_2020_0,
                                         _ESA_SOURCE, ("NNO", "NNO-1", "DSA-1", "DSA1", "NNORCIA"),
                                         "ESA DSA-1 35 m, Western Australia")
    cat["Cebreros"] = geodetic_station("Cebreros", 40.4526901, -4.3675499, 794.09, _UNIX_2020_0,
                                       _ESA_SOURCE, ("CEB", "DSA-2", "DSA2"), "ESA DSA-2 35 m, Spain")
    cat["Malargüe"] = geodetic_station("Malargüe", -35.7760086, -69.3981934, 1550.0, _UNIX_2020_0,
                                       _ESA_SOURCE, ("Malargue", "MLG", "DSA-3", "DSA3"),
                                       "ESA DSA-3 35 m, Argentina")
    lat = 40.0 + 49.0 / 60.0 + 2.75 / 3600.0
    lon = -(121.0 + 28.0 / 60.0 + 14.65 / 3600.0)
    cat["ATA"] = geodetic_station("ATA", lat, lon, 1019.222, _UNIX_2024_0, _ATA_SOURCE,
                                  ("Allen Telescope Array", "Hat Creek", "HCRO", "Hat Creek Radio Observatory",
                                   "Allen"), "Allen Telescope Array, Hat Creek Radio Observatory, California")
    return cat


STATIONS: dict[str, Station] = _build_catalogue()
"""Built-in stations by canonical name."""


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[^a-z0-9]", "", text)
    m = re.fullmatch(r"(dss|dsa|nno)0*(\d+)", text)
    if m:
        text = m.group(1) + m.group(2)
    return text


def _index() -> dict[str, str]:
    idx: dict[str, str] = {}
    for name, st in STATIONS.items():
        for alias in (name, *st.aliases):
            idx[_key(alias)] = name
    return idx


_INDEX = _index()


def list_stations() -> list[Station]:
    """All built-in stations."""
    return list(STATIONS.values())


def get_station(name: str | Station) -> Station:
    """Look a station up by forgiving name, or parse ``geodetic:LAT,LON,H_M`` / ``itrf:X,Y,Z``."""
    if isinstance(name, Station):
        return name
    text = str(name).strip()
    if not text:
        raise UserError("empty station name")
    low = text.lower()
    for prefix in ("geodetic:", "itrf:", "xyz:"):
        if low.startswith(prefix):
            return _parse_coordinates(text, prefix)
    if re.fullmatch(r"\s*[-+0-9.eE]+\s*(,\s*[-+0-9.eE]+\s*){2}", text):
        return _parse_coordinates("geodetic:" + text, "geodetic:")
    canonical = _INDEX.get(_key(text))
    if canonical is not None:
        return STATIONS[canonical]
    close = difflib.get_close_matches(_key(text), list(_INDEX), n=6, cutoff=0.5)
    suggestions = list(dict.fromkeys(_INDEX[k] for k in close))
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    raise UserError(
        f"unknown station {text!r}{hint} Known: {', '.join(STATIONS)}; "
        "or give 'geodetic:LAT,LON,HEIGHT_M' or 'itrf:X,Y,Z' (metres)"
    )


def _parse_coordinates(text: str, prefix: str) -> Station:
    body = text[len(prefix):]
    try:
        values = [float(v) for v in body.replace(";", ",").split(",")]
    except ValueError:
        values = []
    if len(values) != 3:
        raise UserError(f"bad station coordinates {text!r}: expected three numbers after {prefix!r}")
    if prefix == "geodetic:":
        return Station.from_geodetic(text, *values)
    return Station.from_itrf(text, *values)

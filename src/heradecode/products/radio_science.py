"""Radio science: the carrier phase as a Doppler observable, its cycle slips and its noise figures.

**Phase track.**  The receiver records, every ~10 ms, the received carrier phase minus the
phase of the nominal downlink, unwrapped (cycles): the Doppler NCO's phase plus the PLL's,
plus the fixed tuning offsets (``carrier_phase.csv`` in a decode folder).  The phase is
continuous while the loop stays locked; a loss of lock, a cycle slip or a seam between two
receiver runs (parallel workers) breaks it.

**Observable.**  On a UTC grid of integration intervals T (1, 10 or 60 s; bins
``[kT, (k+1)T)``), the Doppler is the phase difference over the interval,

    f_D = (phi(t_k + T) - phi(t_k)) / T   (Hz, received minus nominal downlink),

with phi interpolated linearly between track rows at the bin edges and the time tag at the
interval's midpoint (INTEGRATION_REF = MIDDLE).  A bin the data start or end in is computed
over the part held, tagged at its middle and flagged as a gap.  A loop-frequency average would smear a slip
over the interval; a phase difference keeps it exactly on the points whose interval it
falls in, which are flagged.  Range rate (m/s): ``-c f_D / (k f_down)``, k = 1 one-way,
2 for two- and three-way.

**Quality flags** (bit mask per point, 0 = good): :data:`UNLOCKED` (a row of the interval,
or within ``guard_s`` of it, is out of lock), :data:`CYCLE_SLIP` (the phase is not continuous
inside the interval or at its edges), :data:`GAP` (the rows do not cover the whole interval).

**Cycle-slip detector.**  Besides loss of lock, a slip is a step in phase.  With a lag of
``w`` (0.2 s) the second difference ``d2_i = phi_{i+w} - 2 phi_i + phi_{i-w}`` is the
Doppler rate times w² (a smooth baseline, removed by a running median over 5 s) plus
±1 cycle for every row within w of a one-cycle step; rows where ``|d2 - baseline|`` exceeds
``slip_threshold_cycles`` (0.4) are slips.  Bookkeeping breaks (the phase increment between
rows differs from the recorded frequency times the row spacing by more than 0.25 cycle)
also start a new arc.  Thermal phase jitter, ``sqrt(B_L / (C/N0))`` rad (0.011 cycle at
35 dB-Hz and B_L = 15 Hz), stays far below the threshold.

**Allan deviation.**  Overlapping Allan deviation (``allantools.oadev``) of the fractional
frequency ``y = (f_D - trend) / f_down`` of the good 1 s points over their longest
continuous run; the trend is a polynomial (Chebyshev, degree 5 at most) fitted to that run,
which removes the orbit and station motion (and, for a short run, some of the slowest
noise: read the largest tau with that in mind).

**Thermal-noise limit.**  The PLL phase carries white phase noise of one-sided density
N0/C (rad²/Hz) within the loop bandwidth B_L; for an observable made of phase differences

    ADEV(tau) = sqrt(3 B_L / (C/N0)) / (2 pi f_down tau),
    sigma_fD(T) = sqrt(2 B_L / (C/N0)) / (2 pi T)  (Hz, one point).

The Hera radio-science budget is drawn beside it: ADEV 1.67e-13 at 60 s (0.1 mm/s with a
safety factor of 2).

**Open-loop check.**  :mod:`heradecode.products.open_loop` estimates the carrier frequency,
block by block, from the decimated recording (an FFT peak refined by a phase-slope fit), i.e.
without a loop; :func:`compare_open_loop` differences it with the closed-loop observable.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from heradecode.errors import UserError
from heradecode.products.carrier import column_indices

C_M_S = 299_792_458.0
"""Speed of light (m/s)."""
HERA_RSE_ADEV_60S = 1.67e-13
"""Hera radio-science budget: Allan deviation of the Earth-based Doppler at 60 s."""
HERA_RSE_RANGE_RATE_MM_S = 0.1
"""Hera radio-science budget: Doppler noise at 60 s (mm/s), with a safety factor of 2."""
INTERVALS_S = (1.0, 10.0, 60.0)
"""Integration intervals offered (s)."""
ADEV_TAUS_S = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 100.0, 200.0, 300.0)
"""Averaging times of the Allan deviation table (s)."""

GOOD = 0
UNLOCKED = 1
"""Quality bit: the loop was out of lock in (or within the guard time of) the interval."""
CYCLE_SLIP = 2
"""Quality bit: the carrier phase is not continuous over the interval (slip or break)."""
GAP = 4
"""Quality bit: the track rows do not cover the whole interval."""

PHASE_COLUMNS = ("unix_time", "time_s", "carrier_phase_cycles", "doppler_hz", "cn0_dbhz", "locked")


# ---------------------------------------------------------------------- the phase track


@dataclass(frozen=True)
class PhaseTrack:
    """The receiver's carrier track rows (~10 ms): time, unwrapped carrier phase, frequency, C/N0, lock.

    Times are seconds since ``epoch_unix_s`` (a whole UTC second): a UNIX time in float64 is
    only good to 0.24 us, which at 27 kHz of Doppler would be 0.006 cycle of phase.
    """

    epoch_unix_s: float  #: whole UNIX second (UTC) the times count from
    time_s: np.ndarray  #: seconds since ``epoch_unix_s`` of each row
    carrier_phase_cycles: np.ndarray  #: received minus nominal-downlink phase (cycles, unwrapped)
    doppler_hz: np.ndarray  #: mean received-minus-nominal frequency since the previous row (Hz)
    cn0_dbhz: np.ndarray  #: carrier C/N0 (dB-Hz, NaN before an estimate)
    locked: np.ndarray  #: loop lock flag

    @classmethod
    def from_rows(cls, rows: np.ndarray, *, start_unix_ns: int | None = None,
                  samp_rate: float | None = None) -> "PhaseTrack":
        """From receiver track rows (:data:`heradecode.products.decodelog.CARRIER_DTYPE`), sorted by time.

        With the recording's start (integer UNIX ns) and sample rate the times come exactly from the
        rows' sample indices; otherwise from their float64 UNIX times.
        """
        order = np.argsort(rows["sample"] if start_unix_ns is not None else rows["unix_time"], kind="stable")
        r = rows[order]
        if start_unix_ns is not None and samp_rate:
            epoch, frac_ns = divmod(int(start_unix_ns), 1_000_000_000)
            t = frac_ns / 1e9 + np.asarray(r["sample"], np.float64) / float(samp_rate)
        else:
            epoch = math.floor(float(r["unix_time"][0])) if r.size else 0
            t = np.asarray(r["unix_time"], np.float64) - epoch
        return cls(float(epoch), t, np.asarray(r["carrier_phase_cycles"], np.float64),
                   np.asarray(r["doppler_hz"], np.float64), np.asarray(r["cn0_dbhz"], np.float64),
                   np.asarray(r["locked"], bool))

    @property
    def unix_time(self) -> np.ndarray:
        """UNIX time (UTC s) of each row (float64: 0.24 us resolution)."""
        return self.epoch_unix_s + self.time_s

    @property
    def size(self) -> int:
        """Number of rows."""
        return int(self.time_s.size)


def write_phase_csv(path: str | Path, track: PhaseTrack) -> None:
    """Write ``carrier_phase.csv``: ``unix_time,time_s,carrier_phase_cycles,doppler_hz,cn0_dbhz,locked``.

    ``time_s`` counts from the whole second ``floor(unix_time[0])`` (ns digits), for the phase differences.
    """
    with open(path, "w", encoding="ascii", newline="") as fh:
        fh.write(",".join(PHASE_COLUMNS) + "\n")
        for t, ph, f, c, lk in zip(track.time_s, track.carrier_phase_cycles, track.doppler_hz, track.cn0_dbhz,
                                   track.locked):
            fh.write(f"{track.epoch_unix_s + t:.6f},{t:.9f},{ph:.6f},{f:.6f},{c:.3f},{int(bool(lk))}\n")


def read_phase_csv(path: str | Path) -> PhaseTrack:
    """Read ``carrier_phase.csv``; malformed rows are skipped."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"carrier phase file not found: {path} (decode again with this version of heradecode)")
    rows: list[tuple[float, float, float, float, float, bool]] = []
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        idx = column_indices(path, next(reader, []), PHASE_COLUMNS)
        for row in reader:
            try:
                u, t, ph, f, c = (float(row[i]) for i in idx[:5])
                lk = row[idx[5]].strip().lower() in ("1", "true", "t", "yes")
            except (ValueError, IndexError):
                continue
            if math.isfinite(t) and math.isfinite(ph) and math.isfinite(u):
                rows.append((u, t, ph, f, c, lk))
    if not rows:
        raise UserError(f"{path}: no carrier phase rows")
    a = np.array([r[:5] for r in rows], dtype=np.float64)
    epochs = np.round(a[:, 0] - a[:, 1])
    epoch = float(np.median(epochs))
    ok = epochs == epoch  # rows written against another epoch are corrupt: skipped
    order = np.argsort(a[ok, 1], kind="stable")
    lk = np.array([r[5] for r in rows], bool)[ok][order]
    a = a[ok][order]
    return PhaseTrack(epoch, a[:, 1], a[:, 2], a[:, 3], a[:, 4], lk)


# ---------------------------------------------------------------------- cycle slips


def _running_median(x: np.ndarray, half: int) -> np.ndarray:
    """Running median over ±``half`` samples (NaN ignored); edges use the available window."""
    if x.size == 0:
        return x.copy()
    from scipy.ndimage import median_filter

    filled = np.where(np.isfinite(x), x, np.nanmedian(x) if np.isfinite(x).any() else 0.0)
    return median_filter(filled, size=2 * half + 1, mode="nearest")


def phase_breaks(track: PhaseTrack, *, lag_s: float = 0.2, baseline_s: float = 5.0,
                 slip_threshold_cycles: float = 0.4, break_cycles: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Rows where the carrier phase is not continuous: (slip rows, arc-break rows).

    Slip rows: the second-difference statistic exceeds the threshold (a step of the phase
    near the row).  Arc-break rows: the phase increment from the previous row disagrees with
    the recorded frequency (a bookkeeping break, e.g. a seam between receiver runs), or the
    row follows a loss of lock.  Unlocked rows are reported through the track's lock flag.
    """
    n = track.size
    slip = np.zeros(n, bool)
    brk = np.zeros(n, bool)
    if n < 3:
        return slip, brk
    t = track.time_s
    ph = track.carrier_phase_cycles
    dt = np.diff(t)
    inc_err = np.diff(ph) - track.doppler_hz[1:] * dt
    brk[1:] |= np.abs(inc_err - np.median(inc_err)) > break_cycles
    brk[1:] |= track.locked[1:] & ~track.locked[:-1]  # re-lock: phase ambiguous w.r.t. before
    step = float(np.median(dt)) if dt.size else 0.01
    w = max(1, int(round(lag_s / step)))
    if n > 2 * w:
        d2 = np.full(n, np.nan)
        d2[w:n - w] = ph[2 * w:] - 2.0 * ph[w:n - w] + ph[:n - 2 * w]
        # only rows locked throughout the lag window: the statistic is meaningless over a fade
        lk = track.locked.astype(np.int64)
        cs = np.concatenate(([0], np.cumsum(lk)))
        i = np.arange(w, n - w)
        all_locked = np.zeros(n, bool)
        all_locked[w:n - w] = (cs[i + w + 1] - cs[i - w]) == 2 * w + 1
        d2[~all_locked] = np.nan
        base = _running_median(d2, max(1, int(round(baseline_s / step / 2))))
        with np.errstate(invalid="ignore"):
            slip = np.abs(d2 - base) > slip_threshold_cycles
        slip &= np.isfinite(d2)
    return slip, brk


# ---------------------------------------------------------------------- the observable


@dataclass(frozen=True)
class DopplerObservable:
    """Phase-based Doppler points of one integration interval."""

    interval_s: float  #: integration interval T (s)
    unix_time: np.ndarray  #: interval midpoint (UTC UNIX s)
    doppler_hz: np.ndarray  #: received minus nominal downlink (Hz), phase difference over T
    cn0_dbhz: np.ndarray  #: mean carrier C/N0 over the interval (dB-Hz)
    quality: np.ndarray  #: bit mask: 0 good, UNLOCKED 1, CYCLE_SLIP 2, GAP 4
    downlink_hz: float  #: nominal downlink frequency (Hz)
    count_factor: float = 1.0  #: 1 one-way, 2 two- and three-way (range-rate scale)

    @property
    def good(self) -> np.ndarray:
        """Points with no quality flag."""
        return self.quality == GOOD

    @property
    def range_rate_m_s(self) -> np.ndarray:
        """Range rate (m/s; positive receding): ``-c f_D / (k f_down)``."""
        return -C_M_S * self.doppler_hz / (self.count_factor * self.downlink_hz)

    def to_frame(self):
        """A pandas DataFrame (``time_utc`` index) with the columns of :meth:`write_csv`."""
        import pandas as pd

        df = pd.DataFrame({"unix_time": self.unix_time, "doppler_hz": self.doppler_hz,
                           "range_rate_m_s": self.range_rate_m_s, "cn0_dbhz": self.cn0_dbhz,
                           "quality": self.quality})
        df.index = pd.to_datetime(self.unix_time, unit="s", utc=True).rename("time_utc")
        return df

    def write_csv(self, path: str | Path) -> None:
        """``unix_time,doppler_hz,range_rate_m_s,cn0_dbhz,quality`` (midpoint tags)."""
        with open(path, "w", encoding="ascii", newline="") as fh:
            fh.write("unix_time,doppler_hz,range_rate_m_s,cn0_dbhz,quality\n")
            for t, f, v, c, q in zip(self.unix_time, self.doppler_hz, self.range_rate_m_s, self.cn0_dbhz,
                                     self.quality):
                fh.write(f"{t:.6f},{f:.6f},{v:.7f},{c:.3f},{int(q)}\n")


def count_factor(mode: str) -> float:
    """Range-rate count factor of a Doppler mode: 1 one-way, 2 two- or three-way (the range is travelled twice)."""
    return 1.0 if mode == "one-way" else 2.0


def doppler_observable(track: PhaseTrack, interval_s: float, downlink_hz: float, *, count_factor: float = 1.0,
                       guard_s: float = 0.25, **slip_options: float) -> DopplerObservable:
    """Phase-difference Doppler on a UTC grid of ``interval_s`` bins, flagged per point (see module doc)."""
    if not interval_s > 0:
        raise UserError(f"integration interval must be positive, got {interval_s}")
    T = float(interval_s)
    empty = np.zeros(0)
    if track.size < 2:
        return DopplerObservable(T, empty, empty, empty, np.zeros(0, np.uint8), float(downlink_hz), count_factor)
    t = track.time_s
    ph = track.carrier_phase_cycles
    slip, brk = phase_breaks(track, **slip_options)
    arc = np.cumsum(brk)
    bad_lock = ~track.locked
    if guard_s > 0 and bad_lock.any():  # widen each unlocked stretch by the guard time (settling, early slips)
        tb = t[bad_lock]
        j = np.searchsorted(tb, t)
        near_next = np.abs(tb[np.minimum(j, tb.size - 1)] - t) <= guard_s
        near_prev = np.abs(tb[np.maximum(j - 1, 0)] - t) <= guard_s
        bad_lock = bad_lock | near_next | near_prev
    cs_lock = np.concatenate(([0], np.cumsum(bad_lock)))
    cs_slip = np.concatenate(([0], np.cumsum(slip)))
    step = float(np.median(np.diff(t)))
    # UTC grid edges k T, relative to the epoch, in exact rational arithmetic (T = num / den)
    grid = Fraction(T).limit_denominator(1_000_000)
    num, den = grid.numerator, grid.denominator
    epoch = int(track.epoch_unix_s)
    k0 = math.floor((epoch + t[0]) * den / num) - 1
    k1 = math.floor((epoch + t[-1]) * den / num) + 1
    ks = np.arange(k0, k1 + 1)
    edges = np.array([(int(k) * num - epoch * den) / den for k in ks])
    first = max(0, int(np.searchsorted(edges, t[0], side="right")) - 1)
    last = int(np.searchsorted(edges, t[-1], side="left"))
    edges = edges[first:last + 1]
    lo = edges[:-1]
    hi = edges[1:]
    # rows used: the bracket of each edge (or the first/last row inside the bin when the data start/end there)
    a = np.searchsorted(t, lo, side="left")  # first row >= lo
    b = np.searchsorted(t, hi, side="right") - 1  # last row <= hi
    have = b > a
    a_ = np.clip(a, 0, t.size - 1)
    b_ = np.clip(b, 0, t.size - 1)
    start_t = np.where(a > 0, lo, t[a_])
    stop_t = np.where(b < t.size - 1, hi, t[b_])
    start_t = np.maximum(start_t, t[0])
    stop_t = np.minimum(stop_t, t[-1])
    # the bracketing row before the start edge, and after the stop edge
    ia = np.clip(np.where(a > 0, a - 1, a), 0, t.size - 1)
    ib = np.clip(np.where(b < t.size - 1, b + 1, b), 0, t.size - 1)
    span = stop_t - start_t
    have &= span > 0.5 * T
    gap = (a == 0) | (b >= t.size - 1)  # an edge not bracketed by rows: the data start or end inside the bin
    # big holes inside the bin (dropped rows) are gaps too
    dt = np.diff(t)
    cs_hole = np.concatenate(([0, 0], np.cumsum(dt > 3 * step)))
    gap |= (cs_hole[ib + 1] - cs_hole[ia + 1]) > 0
    phi0 = np.interp(start_t, t, ph)
    phi1 = np.interp(stop_t, t, ph)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = (phi1 - phi0) / span
    q = np.zeros(lo.size, np.uint8)
    q |= np.where((cs_lock[ib + 1] - cs_lock[ia]) > 0, UNLOCKED, 0).astype(np.uint8)
    q |= np.where(((cs_slip[ib + 1] - cs_slip[ia]) > 0) | (arc[ib] != arc[ia]), CYCLE_SLIP, 0).astype(np.uint8)
    q |= np.where(gap, GAP, 0).astype(np.uint8)
    lin = np.where(np.isfinite(track.cn0_dbhz), 10 ** (track.cn0_dbhz / 10), 0.0)
    ok = np.isfinite(track.cn0_dbhz).astype(float)
    cs_c = np.concatenate(([0.0], np.cumsum(lin)))
    cs_n = np.concatenate(([0.0], np.cumsum(ok)))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_lin = (cs_c[ib + 1] - cs_c[ia]) / (cs_n[ib + 1] - cs_n[ia])
        cn0 = np.where(mean_lin > 0, 10 * np.log10(mean_lin), np.nan)
    mid = track.epoch_unix_s + 0.5 * (start_t + stop_t)
    return DopplerObservable(T, mid[have], f[have], cn0[have], q[have], float(downlink_hz), float(count_factor))


# ---------------------------------------------------------------------- noise figures


def thermal_adev(cn0_dbhz: float, tau_s: np.ndarray | float, downlink_hz: float,
                 loop_bandwidth_hz: float) -> np.ndarray:
    """Thermal-noise Allan deviation of a phase-difference observable: sqrt(3 B_L/(C/N0)) / (2 pi f tau)."""
    cn0 = 10 ** (float(cn0_dbhz) / 10)
    return np.sqrt(3.0 * loop_bandwidth_hz / cn0) / (2 * np.pi * downlink_hz * np.asarray(tau_s, dtype=float))


def thermal_doppler_sigma_hz(cn0_dbhz: float, interval_s: float, loop_bandwidth_hz: float) -> float:
    """Thermal-noise standard deviation (Hz) of one phase-difference Doppler point of ``interval_s``."""
    cn0 = 10 ** (float(cn0_dbhz) / 10)
    return math.sqrt(2.0 * loop_bandwidth_hz / cn0) / (2 * math.pi * float(interval_s))


def overlapping_adev(y: np.ndarray, rate_hz: float = 1.0, taus_s: tuple[float, ...] | np.ndarray = ADEV_TAUS_S,
                     max_fraction: float = 1.0 / 3.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlapping Allan deviation of fractional-frequency samples ``y``: (tau_s, adev, n_terms).

    Uses ``allantools.oadev``; averaging times longer than ``max_fraction`` of the series are dropped.
    """
    import allantools

    y = np.asarray(y, dtype=np.float64)
    if y.size < 3 or not np.all(np.isfinite(y)):
        raise UserError("the Allan deviation needs at least 3 finite frequency samples")
    tau0 = 1.0 / rate_hz
    taus = np.array([t for t in taus_s if tau0 <= t <= y.size * tau0 * min(max_fraction, 0.5) + 1e-9],
                    dtype=float)
    if taus.size == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
    t_out, dev, _, n = allantools.oadev(y, rate=rate_hz, data_type="freq", taus=taus)
    return np.asarray(t_out, float), np.asarray(dev, float), np.asarray(n, np.int64)


def _longest_run(good: np.ndarray, consecutive: np.ndarray) -> slice:
    """The longest stretch of ``good`` points each ``consecutive`` with the previous one."""
    best = slice(0, 0)
    start = None
    for i in range(good.size + 1):
        if i < good.size and good[i] and start is not None and consecutive[i]:
            continue
        if start is not None and i - start > best.stop - best.start:
            best = slice(start, i)
        start = i if i < good.size and good[i] else None
    return best


def detrended_fraction(obs: DopplerObservable, max_degree: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(times, fractional-frequency residuals) of the longest run of consecutive good points, trend removed."""
    good = obs.good & np.isfinite(obs.doppler_hz)
    consecutive = np.ones(obs.unix_time.size, bool)
    consecutive[1:] = np.abs(np.diff(obs.unix_time) - obs.interval_s) < 0.01 * obs.interval_s
    sl = _longest_run(good, consecutive)
    t = obs.unix_time[sl]
    f = obs.doppler_hz[sl]
    if t.size < 3:
        return t, np.zeros(t.size)
    deg = int(min(max_degree, t.size // 10))
    x = (t - t.mean()) / max(np.ptp(t) / 2, 1e-9)
    trend = np.polynomial.chebyshev.Chebyshev.fit(x, f, deg)(x) if deg > 0 else np.full(f.size, f.mean())
    return t, (f - trend) / obs.downlink_hz


@dataclass(frozen=True)
class NoiseReport:
    """Noise figures of a decode's carrier observable."""

    tau_s: np.ndarray  #: averaging times (s)
    adev: np.ndarray  #: overlapping Allan deviation of the fractional frequency
    n_terms: np.ndarray  #: terms averaged per tau
    thermal_adev: np.ndarray  #: thermal-noise limit at the same taus (measured C/N0, loop bandwidth)
    cn0_dbhz: float  #: median C/N0 of the good points (dB-Hz)
    loop_bandwidth_hz: float
    downlink_hz: float
    count_factor: float
    n_points: int  #: good 1 s points in the run analysed
    run_s: float  #: length of that run (s)

    def adev_at(self, tau_s: float) -> float:
        """ADEV at one of the table's taus (NaN when absent)."""
        hit = np.isclose(self.tau_s, tau_s)
        return float(self.adev[hit][0]) if hit.any() else float("nan")

    def range_rate_mm_s(self, tau_s: float = 60.0) -> float:
        """Range-rate noise (mm/s) at ``tau_s``: c ADEV / k."""
        return 1e3 * C_M_S * self.adev_at(tau_s) / self.count_factor

    def thermal_range_rate_mm_s(self, tau_s: float = 60.0) -> float:
        """Thermal-noise limit of the range rate (mm/s) at ``tau_s``."""
        th = thermal_adev(self.cn0_dbhz, tau_s, self.downlink_hz, self.loop_bandwidth_hz)
        return float(1e3 * C_M_S * th / self.count_factor)


def noise_report(obs_1s: DopplerObservable, loop_bandwidth_hz: float = 15.0) -> NoiseReport:
    """Allan deviation table of the 1 s observable and its thermal-noise limit."""
    t, y = detrended_fraction(obs_1s)
    cn0 = float(np.nanmedian(obs_1s.cn0_dbhz[obs_1s.good])) if obs_1s.good.any() else float("nan")
    if y.size >= 3:
        taus, dev, n = overlapping_adev(y, 1.0 / obs_1s.interval_s)
    else:
        taus, dev, n = np.zeros(0), np.zeros(0), np.zeros(0, np.int64)
    th = thermal_adev(cn0, taus, obs_1s.downlink_hz, loop_bandwidth_hz) if taus.size else np.zeros(0)
    return NoiseReport(taus, dev, n, th, cn0, float(loop_bandwidth_hz), obs_1s.downlink_hz, obs_1s.count_factor,
                       int(y.size), float(t[-1] - t[0] + obs_1s.interval_s) if t.size else 0.0)


# ---------------------------------------------------------------------- open-loop check


def compare_open_loop(obs: DopplerObservable, times: np.ndarray, freq_hz: np.ndarray) -> dict[str, float]:
    """Closed-loop (phase) minus open-loop Doppler on common points: mean, rms, count.

    The open-loop series is interpolated (linearly, from its two nearest blocks) to each good
    closed-loop point's time: block midpoints differ by a fraction of a sample spacing, which
    at 50 Hz/s of Doppler rate is already tens of mHz.
    """
    good = obs.good & np.isfinite(obs.doppler_hz)
    nothing = {"n": 0, "mean_hz": float("nan"), "rms_hz": float("nan")}
    times = np.asarray(times, float)
    freq_hz = np.asarray(freq_hz, float)
    if not good.any() or times.size == 0:
        return nothing
    tg = obs.unix_time[good]
    right = np.clip(np.searchsorted(times, tg), 0, times.size - 1)
    left = np.clip(right - 1, 0, times.size - 1)
    near = np.where(np.abs(times[left] - tg) < np.abs(times[right] - tg), left, right)
    close = np.abs(times[near] - tg) < 0.25 * obs.interval_s
    if times.size >= 2:
        i1 = np.clip(np.searchsorted(times, tg), 1, times.size - 1)
        t0, t1 = times[i1 - 1], times[i1]
        f_ol = freq_hz[i1 - 1] + (freq_hz[i1] - freq_hz[i1 - 1]) * (tg - t0) / (t1 - t0)
    else:
        f_ol = freq_hz[near]
    d = (obs.doppler_hz[good] - f_ol)[close]
    if d.size == 0:
        return nothing
    return {"n": int(d.size), "mean_hz": float(d.mean()), "rms_hz": float(np.sqrt(np.mean(d * d)))}


# ---------------------------------------------------------------------- radio_science.json


def _f(x: float, nd: int = 6) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(f"{float(x):.{nd}g}")


def radio_science_doc(track: PhaseTrack, downlink_hz: float, *, loop_bandwidth_hz: float = 15.0,
                      count_factor: float = 1.0, mode: str = "one-way",
                      ) -> tuple[dict[str, Any], dict[float, DopplerObservable], NoiseReport]:
    """The radio_science.json document, the observables at 1, 10 and 60 s and the noise report."""
    obs = {T: doppler_observable(track, T, downlink_hz, count_factor=count_factor) for T in INTERVALS_S}
    rep = noise_report(obs[1.0], loop_bandwidth_hz)
    intervals = {}
    for T, o in obs.items():
        intervals[f"{int(T)}s"] = {
            "interval_s": T, "points": int(o.unix_time.size), "good": int(o.good.sum()),
            "unlocked": int(np.count_nonzero(o.quality & UNLOCKED)),
            "cycle_slip": int(np.count_nonzero(o.quality & CYCLE_SLIP)),
            "gap": int(np.count_nonzero(o.quality & GAP)),
            "thermal_sigma_hz": _f(thermal_doppler_sigma_hz(rep.cn0_dbhz, T, loop_bandwidth_hz))
            if math.isfinite(rep.cn0_dbhz) else None,
            "file": f"doppler_{int(T)}s.csv",
        }
    table = [{"tau_s": _f(t), "adev": _f(a), "n_terms": int(n), "thermal_adev": _f(th),
              "range_rate_mm_s": _f(1e3 * C_M_S * a / count_factor)}
             for t, a, n, th in zip(rep.tau_s, rep.adev, rep.n_terms, rep.thermal_adev)]
    doc = {
        "schema": "heradecode.radio_science/1",
        "mode": mode,
        "downlink_hz": downlink_hz,
        "count_factor": count_factor,
        "loop_bandwidth_hz": loop_bandwidth_hz,
        "cn0_dbhz": _f(rep.cn0_dbhz, 4),
        "quality_bits": {"unlocked": UNLOCKED, "cycle_slip": CYCLE_SLIP, "gap": GAP},
        "intervals": intervals,
        "allan": {
            "definition": "overlapping Allan deviation of (f_D - polynomial trend) / downlink_hz, 1 s good points, "
                          "longest continuous run",
            "run_s": _f(rep.run_s), "points": rep.n_points, "table": table,
        },
        "range_rate_noise_mm_s_60s": _f(rep.range_rate_mm_s(60.0)),
        "thermal_range_rate_mm_s_60s": _f(rep.thermal_range_rate_mm_s(60.0)) if math.isfinite(rep.cn0_dbhz)
        else None,
        "hera_rse_budget": {"adev_60s": HERA_RSE_ADEV_60S, "range_rate_mm_s": HERA_RSE_RANGE_RATE_MM_S},
    }
    return doc, obs, rep


def write_radio_science(out_dir: str | Path, track: PhaseTrack, downlink_hz: float, *,
                        loop_bandwidth_hz: float = 15.0, count_factor: float = 1.0,
                        mode: str = "one-way") -> dict[str, Any]:
    """Write ``radio_science.json`` and ``doppler_{1,10,60}s.csv`` into ``out_dir``; returns the document."""
    out_dir = Path(out_dir)
    doc, obs, _ = radio_science_doc(track, downlink_hz, loop_bandwidth_hz=loop_bandwidth_hz,
                                    count_factor=count_factor, mode=mode)
    for T, o in obs.items():
        o.write_csv(out_dir / f"doppler_{int(T)}s.csv")
    (out_dir / "radio_science.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="ascii")
    return doc

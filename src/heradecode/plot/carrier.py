"""The tracked carrier against time: PLL frequency, lock, C/N0, and Doppler used or predicted vs tracked."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heradecode.errors import UserError
from heradecode.ephem.doppler import DopplerPrediction
from heradecode.products.carrier import CarrierObservable, DopplerResiduals
from heradecode.io.dopplerfile import DopplerProfile
from heradecode.plot._style import datenum, finish, new_figure, span_text, unix_to_datetime64, utc_axis

_OBS = "tab:blue"
_USED = "tab:orange"
_PRED = "tab:green"
_UNLOCKED = "0.6"


def _reference(ref: DopplerProfile | DopplerPrediction, unix_time: np.ndarray) -> np.ndarray:
    """The reference Doppler (Hz) at ``unix_time``; NaN outside the times it covers."""
    out = np.asarray(ref.freq_at(unix_time), dtype=np.float64).copy()
    out[(unix_time < ref.unix_time[0] - 1e-6) | (unix_time > ref.unix_time[-1] + 1e-6)] = np.nan
    return out


def _cell_edges(x: np.ndarray, half_width: float = 0.5 / 86400.0) -> np.ndarray:
    """Boundaries half-way between points (n + 1 values), the ends half a spacing (or half_width) out."""
    if x.size == 1:
        return np.array([x[0] - half_width, x[0] + half_width])
    mid = 0.5 * (x[1:] + x[:-1])
    return np.concatenate([[x[0] - (mid[0] - x[0])], mid, [x[-1] + (x[-1] - mid[-1])]])


def _freq_unit(values: list[np.ndarray]) -> tuple[float, str]:
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([])
    if finite.size and (np.max(np.abs(finite)) >= 20e3):
        return 1e3, "kHz"
    return 1.0, "Hz"


def plot_carrier_track(
    carrier: CarrierObservable,
    *,
    doppler_profile: DopplerProfile | None = None,
    prediction: DopplerPrediction | None = None,
    title: str | None = None,
    path: str | Path | None = None,
):
    """PLL carrier frequency (Hz from nominal downlink), C/N0 (dB-Hz) and lock vs UTC; residuals vs a reference.

    With ``doppler_profile`` (the Doppler used to tune) and/or ``prediction``
    (an ephemeris prediction) the reference curves are overlaid and a panel
    shows observed − reference (Hz) for the locked points (reference: the
    prediction if given, else the profile).  Returns the Figure; saves a PNG to
    ``path`` if given.
    """
    t_unix = np.asarray(carrier.unix_time, dtype=np.float64)
    if t_unix.size == 0:
        raise UserError("the carrier track holds no points")
    t = unix_to_datetime64(t_unix)
    f_obs = np.asarray(carrier.doppler_hz, dtype=np.float64)
    cn0 = np.asarray(carrier.cn0_dbhz, dtype=np.float64)
    locked = np.asarray(carrier.locked, dtype=bool)
    used = _reference(doppler_profile, t_unix) if doppler_profile is not None else None
    pred = _reference(prediction, t_unix) if prediction is not None else None
    ref, ref_name = (pred, "prediction") if pred is not None else (used, "Doppler used")

    panels = ["freq"] + (["resid"] if ref is not None else []) + ["cn0", "lock"]
    ratios = {"freq": 2.0, "resid": 1.4, "cn0": 1.2, "lock": 0.45}
    fig = new_figure(10.0, 8.2 if ref is not None else 6.6)
    axes = fig.subplots(len(panels), 1, sharex=True, gridspec_kw={"height_ratios": [ratios[p] for p in panels]})
    ax_of = dict(zip(panels, axes))

    div, unit = _freq_unit([f_obs] + [r for r in (used, pred) if r is not None])
    ms = 5.0 if t.size < 60 else 3.0
    edges_unix = _cell_edges(t_unix, half_width=0.5)
    # reference curves on a dense grid over the whole plotted span (also with a single carrier point)
    grid_unix = np.linspace(edges_unix[0], edges_unix[-1], 400)
    grid_t = unix_to_datetime64(grid_unix)
    ax = ax_of["freq"]
    if doppler_profile is not None:
        ax.plot(grid_t, _reference(doppler_profile, grid_unix) / div, color=_USED, lw=1.6,
                label="Doppler used (profile)")
    if prediction is not None:
        ax.plot(grid_t, _reference(prediction, grid_unix) / div, color=_PRED, lw=1.4, ls="--",
                label=f"Doppler predicted ({prediction.backend})")
    obs_locked = np.where(locked, f_obs, np.nan)
    obs_unlocked = np.where(~locked, f_obs, np.nan)
    ax.plot(t, obs_locked / div, ".", color=_OBS, ms=ms, label="carrier tracked (PLL locked)")
    if np.any(~locked):
        ax.plot(t, obs_unlocked / div, ".", color=_UNLOCKED, ms=ms, label="carrier tracked (unlocked)")
    ax.set_ylabel(f"carrier offset from\nnominal downlink ({unit})")
    ax.legend(loc="best", fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.set_title("PLL carrier frequency (observed Doppler)", fontsize=10)

    if ref is not None:
        ax = ax_of["resid"]
        res = f_obs - ref
        good = locked & np.isfinite(res)
        rms = float(np.sqrt(np.mean(res[good] ** 2))) if good.any() else float("nan")
        mean = float(np.mean(res[good])) if good.any() else float("nan")
        ax.plot(t, np.where(good, res, np.nan), ".", color="tab:red", ms=ms,
                label=f"observed − {ref_name} (locked): mean {mean:+.2f} Hz, rms {rms:.2f} Hz")
        if np.any(~locked & np.isfinite(res)):
            ax.plot(t, np.where(~locked, res, np.nan), ".", color=_UNLOCKED, ms=ms, label="unlocked points")
            if good.any():  # keep the locked residuals readable when unlocked points stray far
                lo, hi = np.percentile(res[good], [0.5, 99.5])
                pad = max(0.15 * (hi - lo), 1.0)
                ax.set_ylim(lo - pad, hi + pad)
        ax.axhline(0.0, color="k", lw=0.6)
        ax.set_ylabel("residual (Hz)")
        ax.legend(loc="best", fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.set_title(f"tracked carrier minus {ref_name}", fontsize=10)

    ax = ax_of["cn0"]
    ax.plot(t, np.where(locked, cn0, np.nan), ".-", color="tab:purple", ms=ms, lw=0.8, label="C/N0 (locked)")
    if np.any(~locked):
        ax.plot(t, np.where(~locked, cn0, np.nan), ".", color=_UNLOCKED, ms=ms, label="C/N0 (unlocked)")
        ax.legend(loc="best", fontsize=8)
    ax.set_ylabel("C/N0 (dB-Hz)")
    ax.grid(True, alpha=0.3)

    ax = ax_of["lock"]
    edges = datenum(unix_to_datetime64(edges_unix))
    change = np.flatnonzero(np.diff(locked.astype(np.int8))) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [locked.size]])
    for state, color, name in ((True, "tab:green", "locked"), (False, "tab:red", "unlocked")):
        runs = [(edges[a], edges[b] - edges[a]) for a, b in zip(starts, stops) if locked[a] == state]
        if runs:
            ax.broken_barh(runs, (0.0, 1.0), facecolors=color, alpha=0.6, label=f"PLL {name}")
    ax.set_ylim(0.0, 1.0)
    ax.set_yticks([])
    ax.set_ylabel("lock")
    ax.legend(loc="center left", bbox_to_anchor=(1.005, 0.5), fontsize=8, borderaxespad=0.0)
    utc_axis(ax, t[0], t[-1])

    n_lock = int(np.count_nonzero(locked))
    fig.suptitle(title or (f"Carrier track {span_text(t[0], t[-1])}: locked {n_lock}/{locked.size} points "
                           f"({100.0 * n_lock / max(1, locked.size):.0f} %)"))
    return finish(fig, path)


def plot_residuals(residuals: DopplerResiduals, *, title: str = "", path: str | Path | None = None):
    """Observed and predicted Doppler (kHz) and observed − predicted (Hz) of the locked points vs UTC."""
    res = residuals
    t = unix_to_datetime64(res.unix_time)
    lk = res.locked & np.isfinite(res.residual_hz)
    fig = new_figure(10.0, 7.0)
    ax1, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 1.4]})
    ax1.plot(t, res.predicted_hz / 1e3, lw=1.2, color=_PRED, label="predicted")
    ax1.plot(t[lk], res.observed_hz[lk] / 1e3, ".", ms=2, color=_OBS, label="observed (locked)")
    ax1.set_ylabel("Doppler offset (kHz)")
    ax1.legend(loc="best", fontsize=8)
    ax1.grid(True, alpha=0.3)
    ax1.set_title(title or "Carrier Doppler")
    ax2.plot(t[lk], res.residual_hz[lk], ".", ms=2.5, color="tab:red", label="observed − predicted (locked)")
    if lk.any() and np.min(res.residual_hz[lk]) <= 0.0 <= np.max(res.residual_hz[lk]):
        ax2.axhline(0.0, color="k", lw=0.6)
    ax2.set_ylabel("observed − predicted (Hz)")
    ax2.set_title(f"Doppler residuals: rms {res.rms_hz():.3f} Hz, mean {res.mean_hz():+.3f} Hz, "
                  f"std {res.std_hz():.3f} Hz over {res.n_locked} locked points", fontsize=10)
    ax2.grid(True, alpha=0.3)
    if t.size:
        utc_axis(ax2, t[0], t[-1])
    return finish(fig, path)

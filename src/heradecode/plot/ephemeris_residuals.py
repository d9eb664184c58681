"""Residuals of one Doppler observable against several ephemerides, on one figure.

Each ephemeris (a SPICE kernel set, a HORIZONS solution, a Doppler file) gives one curve of
observed minus predicted Doppler (Hz) of the good points against UTC, labelled with its mean
and rms; the one that is right is the flat curve near zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heradecode.products.carrier import DopplerResiduals
from heradecode.errors import UserError
from heradecode.plot._style import finish, new_figure, unix_to_datetime64, utc_axis


def plot_ephemeris_residuals(residuals: dict[str, DopplerResiduals], *, title: str = "",
                             path: str | Path | None = None):
    """One panel: observed − predicted (Hz) per ephemeris (label → residuals) vs UTC; returns the Figure."""
    if not residuals:
        raise UserError("no ephemeris to plot residuals against")
    fig = new_figure(10.0, 5.5)
    ax = fig.add_subplot(1, 1, 1)
    t_all = []
    for i, (label, res) in enumerate(residuals.items()):
        ok = res.locked & np.isfinite(res.residual_hz)
        if not ok.any():
            continue
        t = unix_to_datetime64(res.unix_time[ok])
        t_all.append(t)
        ax.plot(t, res.residual_hz[ok], "o-", ms=3, lw=1, color=f"C{i}",
                label=f"{label}: mean {res.mean_hz():+.3f} Hz, rms {res.rms_hz():.3f} Hz ({res.n_locked} points)")
    if not t_all:
        raise UserError("no locked points to plot residuals of")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_ylabel("observed − predicted Doppler (Hz)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(title or "Doppler residuals against each ephemeris")
    t_cat = np.concatenate(t_all)
    utc_axis(ax, t_cat.min(), t_cat.max())
    return finish(fig, path)

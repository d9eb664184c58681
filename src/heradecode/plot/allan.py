"""Allan deviation of the carrier Doppler observable (log-log), with the thermal-noise limit and the Hera budget.

The thermal limit is ``sqrt(3 B_L / (C/N0)) / (2 pi f_down tau)`` at the measured C/N0
(:func:`heradecode.products.radio_science.thermal_adev`); the Hera radio-science budget is
ADEV 1.67e-13 at 60 s (0.1 mm/s).  A right-hand axis gives the range-rate equivalent
``c ADEV / k`` (mm/s; k = 1 one-way, 2 two-/three-way).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from heradecode.errors import UserError
from heradecode.plot._style import finish, new_figure
from heradecode.products.radio_science import C_M_S, HERA_RSE_ADEV_60S, thermal_adev


def plot_allan_deviation(doc: dict[str, Any], *, extra: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                         title: str | None = None, path: str | Path | None = None):
    """Log-log ADEV of a ``radio_science.json`` document (plus ``extra`` labelled curves); returns the Figure."""
    table = doc.get("allan", {}).get("table", [])
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if table:
        curves["measured (phase-based, 1 s points)"] = (np.array([r["tau_s"] for r in table], float),
                                                      np.array([r["adev"] for r in table], float))
    curves.update(extra or {})
    curves = {k: v for k, v in curves.items() if len(v[0])}
    if not curves:
        raise UserError("no Allan deviation to plot: the observable has fewer than 3 good 1 s points")
    fig = new_figure(7.5, 5.0)
    ax = fig.add_subplot(1, 1, 1)
    for i, (label, (tau, dev)) in enumerate(curves.items()):
        ax.loglog(tau, dev, "o-", ms=4, label=label, color=f"C{i}")
    tau_all = np.concatenate([v[0] for v in curves.values()])
    grid = np.logspace(np.log10(max(tau_all.min(), 0.5)), np.log10(max(tau_all.max(), 300.0)), 50)
    cn0 = doc.get("cn0_dbhz")
    f_down = float(doc.get("downlink_hz", 8435.75e6))
    bw = float(doc.get("loop_bandwidth_hz", 15.0))
    if cn0 is not None:
        ax.loglog(grid, thermal_adev(float(cn0), grid, f_down, bw), "k--", lw=1,
                  label=f"thermal limit, C/N0 {float(cn0):.1f} dB-Hz, B_L {bw:g} Hz")
    ax.loglog([60.0], [HERA_RSE_ADEV_60S], "r*", ms=12, label="Hera RSE budget: 1.67e-13 at 60 s (0.1 mm/s)")
    ax.axhline(HERA_RSE_ADEV_60S, color="r", lw=0.8, ls=":")
    ax.set_xlabel("averaging time τ (s)")
    ax.set_ylabel("overlapping Allan deviation σ_y(τ)")
    ax.grid(True, which="both", alpha=0.3)
    k = float(doc.get("count_factor", 1.0))
    right = ax.secondary_yaxis("right", functions=(lambda y: y * C_M_S * 1e3 / k, lambda v: v * k / (C_M_S * 1e3)))
    right.set_ylabel("range-rate equivalent (mm/s)")
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(title or f"Carrier Doppler stability ({doc.get('mode', 'one-way')})")
    return finish(fig, path)

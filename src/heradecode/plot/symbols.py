"""Soft symbols: histogram with a two-Gaussian fit (Es/N0 estimate) and a scatter or I/Q constellation.

Soft values follow the project convention: positive means bit 0 (BPSK +1).
The fit is a symmetric mixture ``½N(+μ, σ²) + ½N(−μ, σ²)`` found by
expectation-maximisation; for BPSK in white Gaussian noise Es/N0 = μ²/(2σ²),
whatever the scale of the values (symbols or LLRs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heradecode.errors import UserError
from heradecode.plot._style import decimate_indices, finish, new_figure


@dataclass(frozen=True)
class BpskFit:
    """A symmetric two-Gaussian fit of soft symbols."""

    mean: float  # lobe centre μ (input units, ≥ 0)
    sigma: float  # standard deviation of each lobe (input units)
    esn0_db: float  # 10 log10(μ² / (2σ²))
    num_points: int  # values used

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """Probability density of the fitted mixture at ``x``."""
        s = max(self.sigma, 1e-300)
        norm = 0.5 / (s * np.sqrt(2.0 * np.pi))
        return norm * (np.exp(-0.5 * ((x - self.mean) / s) ** 2) + np.exp(-0.5 * ((x + self.mean) / s) ** 2))


def fit_bpsk(soft: np.ndarray, *, max_points: int = 200_000, iterations: int = 200) -> BpskFit:
    """Fit ±μ Gaussians of common σ to real soft symbols (EM); Es/N0 (dB) = 10 log10(μ²/2σ²)."""
    x = np.asarray(soft)
    if np.iscomplexobj(x):
        raise UserError("fit_bpsk takes real soft symbols; project complex samples first")
    x = x.astype(np.float64, copy=False).ravel()
    x = x[np.isfinite(x)]
    if x.size < 2:
        raise UserError("need at least two finite soft symbols to fit")
    x = x[decimate_indices(x.size, max_points)]
    m2 = float(np.mean(x * x))
    if m2 <= 0.0:
        return BpskFit(0.0, 0.0, float("nan"), int(x.size))
    mu = float(np.mean(np.abs(x)))
    var = max(m2 - mu * mu, 1e-12 * m2)
    for _ in range(iterations):
        new_mu = abs(float(np.mean(x * np.tanh(mu * x / var))))
        new_var = max(m2 - new_mu * new_mu, 1e-12 * m2)
        done = abs(new_mu - mu) <= 1e-9 * np.sqrt(m2)
        mu, var = new_mu, new_var
        if done:
            break
    sigma = float(np.sqrt(var))
    esn0 = 10.0 * np.log10(mu * mu / (2.0 * var)) if mu > 0 else float("-inf")
    return BpskFit(mu, sigma, float(esn0), int(x.size))


def _data_axis(z: np.ndarray) -> tuple[complex, complex]:
    """Mean (residual carrier) and unit direction of largest variance of complex samples."""
    mean = complex(np.mean(z))
    d = z - mean
    cov = np.cov(np.vstack([d.real, d.imag]))
    w, v = np.linalg.eigh(cov)
    u = v[:, int(np.argmax(w))]
    direction = complex(u[0], u[1])
    if abs(direction.real) >= abs(direction.imag):  # keep a stable sign: +I or +Q
        direction = direction if direction.real >= 0 else -direction
    else:
        direction = direction if direction.imag >= 0 else -direction
    return mean, direction


def plot_soft_symbols(
    soft: np.ndarray,
    *,
    esn0_db: float | None = None,
    max_points: int = 20_000,
    bins: int = 121,
    title: str | None = None,
    path: str | Path | None = None,
):
    """Histogram with Gaussian fit (Es/N0 in the legend) and scatter vs index, or I/Q constellation if complex.

    ``soft`` holds real soft symbols / LLRs (positive = bit 0) or complex
    carrier-corrected samples; ``esn0_db`` (dB) is another estimate to quote
    beside the fit (e.g. the receiver's).  Returns the Figure; saves a PNG to
    ``path`` if given.
    """
    arr = np.asarray(soft) if not isinstance(soft, np.ndarray) else soft
    arr = arr.reshape(-1)  # a view for contiguous arrays and memory maps: nothing is read yet
    if arr.size == 0:
        raise UserError("no soft symbols to plot")
    is_complex = np.iscomplexobj(arr)
    # read only evenly spread subsets: one for the histogram and fit, one for the scatter
    sel_h = decimate_indices(arr.size, 400_000)
    z = np.asarray(arr[sel_h])
    z = z[np.isfinite(z)]
    if z.size < 2:
        raise UserError("need at least two finite soft symbols to plot")
    if is_complex:
        carrier, direction = _data_axis(z.astype(np.complex128))
        x = ((z - carrier) * np.conj(direction)).real
    else:
        x = z.astype(np.float64)
    fit = fit_bpsk(x)
    sel = decimate_indices(arr.size, max_points)
    zs = np.asarray(arr[sel])
    keep = np.isfinite(zs)
    sel, zs = sel[keep], zs[keep]

    fig = new_figure(11.0, 4.6)
    ax_h, ax_s = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1.0]})
    lim = float(np.percentile(np.abs(x), 99.9)) * 1.15 or 1.0
    edges = np.linspace(-lim, lim, bins + 1)
    ax_h.hist(x, bins=edges, density=True, color="tab:blue", alpha=0.55,
              label=f"{'projected samples' if is_complex else 'soft symbols'} (N = {x.size:,}"
                    + (f" of {arr.size:,})" if x.size < arr.size else ")"))
    xs = np.linspace(-lim, lim, 600)
    ax_h.plot(xs, fit.pdf(xs), color="k", lw=1.4,
              label=f"Gaussian fit ±{fit.mean:.3g}, σ {fit.sigma:.3g}: Es/N0 ≈ {fit.esn0_db:.2f} dB")
    if esn0_db is not None and np.isfinite(esn0_db):
        ax_h.plot([], [], " ", label=f"receiver estimate: Es/N0 = {esn0_db:.2f} dB")
    ax_h.axvline(0.0, color="0.4", lw=0.7, ls=":")
    if not is_complex and fit.mean > 0:
        top = float(fit.pdf(np.array([fit.mean]))[0])
        for sign, text in ((1, "bit 0"), (-1, "bit 1")):
            ax_h.annotate(text, (sign * fit.mean, top), xytext=(0, 4), textcoords="offset points",
                          ha="center", va="bottom", fontsize=8)
    ax_h.set_ylim(0, ax_h.get_ylim()[1] * 1.18)
    ax_h.set_xlim(-lim, lim)
    ax_h.set_xlabel("data-axis projection (a.u.)" if is_complex else "soft symbol value (a.u., + = bit 0)")
    ax_h.set_ylabel("probability density (1/a.u.)")
    ax_h.legend(loc="upper center", fontsize=8)
    ax_h.grid(True, alpha=0.3)
    ax_h.set_title("histogram and two-Gaussian fit", fontsize=10)

    if is_complex:
        ax_s.scatter(zs.real, zs.imag, s=2, alpha=0.35, color="tab:blue", lw=0)
        ax_s.plot([], [], "o", ms=4, color="tab:blue", alpha=0.6, label=f"samples ({sel.size:,} shown)")
        ax_s.plot([carrier.real], [carrier.imag], "x", color="tab:red", ms=9, mew=2,
                  label="mean (residual carrier)")
        ax_s.axhline(0, color="0.4", lw=0.6)
        ax_s.axvline(0, color="0.4", lw=0.6)
        ax_s.set_aspect("equal", adjustable="datalim")
        ax_s.set_xlabel("I (a.u.)")
        ax_s.set_ylabel("Q (a.u.)")
        ax_s.set_title("I/Q constellation", fontsize=10)
        ax_s.legend(loc="best", fontsize=8)
    else:
        ax_s.scatter(sel, zs, s=2, alpha=0.35, color="tab:blue", lw=0)
        ax_s.plot([], [], "o", ms=4, color="tab:blue", alpha=0.6, label=f"symbols ({sel.size:,} of {arr.size:,} shown)")
        for sign in (1, -1):
            ax_s.axhline(sign * fit.mean, color="k", lw=0.8, ls="--",
                         label="fitted lobe centres ±μ" if sign == 1 else None)
        ax_s.set_ylim(-lim, lim * 1.4)  # room for the legend above the upper lobe
        ax_s.set_xlabel("symbol index")
        ax_s.set_ylabel("soft symbol value (a.u.)")
        ax_s.set_title("soft symbols vs time", fontsize=10)
        ax_s.legend(loc="upper right", fontsize=8)
    ax_s.grid(True, alpha=0.3)
    fig.suptitle(title or (f"Soft symbols: Es/N0 ≈ {fit.esn0_db:.2f} dB from the fit"
                           + (f", {esn0_db:.2f} dB from the receiver" if esn0_db is not None
                              and np.isfinite(esn0_db) else "")))
    return finish(fig, path)

"""Shared figure helpers: Agg figures outside pyplot, UTC time axes, saving."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import dates as mdates
from matplotlib import ticker as mticker
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 110
"""Resolution of saved PNGs (dots per inch)."""

VC_COLORS = {1: "tab:blue", 3: "tab:green", 7: "tab:gray"}
OTHER_COLORS = ("tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")
OK_COLOR = "tab:green"
FAIL_COLOR = "tab:red"

_EPOCH_NUM = None


def new_figure(width_in: float, height_in: float) -> Figure:
    """A constrained-layout Figure with an Agg canvas, not registered with pyplot."""
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def finish(fig: Figure, path: str | Path | None) -> Figure:
    """Save ``fig`` as PNG when a path is given; return it."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=DPI, format="png")
    return fig


def unix_to_datetime64(unix_time: Any) -> np.ndarray:
    """UNIX seconds (float) to datetime64[ns] UTC, rounded to the microsecond."""
    t = np.asarray(unix_time, dtype=np.float64)
    us = np.rint(t * 1e6).astype(np.int64)
    return us.astype("datetime64[us]").astype("datetime64[ns]")


def _epoch_num() -> float:
    global _EPOCH_NUM
    if _EPOCH_NUM is None:
        _EPOCH_NUM = float(mdates.date2num(np.datetime64("1970-01-01T00:00:00", "ns")))
    return _EPOCH_NUM


def datenum(t: Any) -> np.ndarray:
    """datetime64 values to matplotlib date numbers."""
    return np.asarray(mdates.date2num(np.asarray(t, dtype="datetime64[ns]")), dtype=np.float64)


class UtcTimeFormatter(mticker.Formatter):
    """Ticks as HH:MM:SS, with as many decimals of a second as the tick spacing needs."""

    def __init__(self) -> None:
        self._digits = 0

    @staticmethod
    def _text(x: float, digits: int) -> str:
        seconds = (x - _epoch_num()) * 86400.0
        scale = 10**digits
        q = int(round(seconds * scale))
        whole, frac = divmod(q, scale)
        text = time.strftime("%H:%M:%S", time.gmtime(whole))
        return f"{text}.{frac:0{digits}d}" if digits else text

    def format_ticks(self, values):  # noqa: D102 - matplotlib API
        values = list(values)
        if len(values) > 1:
            step_s = float(np.min(np.abs(np.diff(values)))) * 86400.0
            if step_s >= 0.999 or step_s <= 0:
                self._digits = 0
            else:
                self._digits = int(min(6, np.ceil(-np.log10(step_s) - 1e-6)))
        return [self._text(v, self._digits) for v in values]

    def __call__(self, x, pos=None):  # noqa: D102 - matplotlib API
        return self._text(x, max(self._digits, 3) if pos is None else self._digits)


def utc_label(t_first: Any, t_last: Any) -> str:
    """Axis label ``time (UTC) on YYYY-MM-DD`` (a range when the span crosses midnight)."""
    d0 = str(np.datetime64(t_first, "D"))
    d1 = str(np.datetime64(t_last, "D"))
    return f"time (UTC) on {d0}" if d0 == d1 else f"time (UTC), {d0} to {d1}"


def utc_axis(ax, t_first: Any, t_last: Any, *, axis: str = "x", label: bool = True) -> None:
    """Format the x (or y) axis of datetime64 data as UTC HH:MM:SS with the date in the label."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    # finer steps than matplotlib's default so that spans of a few minutes or seconds get 4-8 ticks
    locator.intervald[mdates.HOURLY] = [1, 2, 3, 4, 6, 12]
    locator.intervald[mdates.MINUTELY] = [1, 2, 5, 10, 15, 20, 30]
    locator.intervald[mdates.SECONDLY] = [1, 2, 5, 10, 15, 20, 30]
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(locator)
    target.set_major_formatter(UtcTimeFormatter())
    if label:
        (ax.set_xlabel if axis == "x" else ax.set_ylabel)(utc_label(t_first, t_last))


def span_text(t_first: Any, t_last: Any) -> str:
    """``YYYY-MM-DD HH:MM:SS–HH:MM:SS UTC`` for a title (milliseconds for spans under a minute)."""
    span_s = (np.datetime64(t_last, "ns") - np.datetime64(t_first, "ns")) / np.timedelta64(1, "s")
    unit = "ms" if abs(span_s) < 60 else "s"
    a = np.datetime_as_string(np.datetime64(t_first, "ns"), unit=unit).replace("T", " ")
    b = np.datetime_as_string(np.datetime64(t_last, "ns"), unit=unit)
    b = b.split("T")[1] if b[:10] == a[:10] else b.replace("T", " ")
    return f"{a}–{b} UTC"


def freq_scale(span_hz: float) -> tuple[float, str]:
    """Divisor and unit name for a frequency axis covering ``span_hz``."""
    if span_hz >= 2e6:
        return 1e6, "MHz"
    if span_hz >= 5e3:
        return 1e3, "kHz"
    return 1.0, "Hz"


def vc_color(vcid: int) -> str:
    """Fixed colour of a virtual channel (VC1, VC3, VC7 fixed; others cycle)."""
    if vcid in VC_COLORS:
        return VC_COLORS[vcid]
    return OTHER_COLORS[int(vcid) % len(OTHER_COLORS)]


def decimate_indices(n: int, max_points: int) -> np.ndarray:
    """At most ``max_points`` evenly spread indices of ``range(n)``."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).astype(np.int64))

"""``heradecode doppler``: predict the received carrier Doppler from SPICE kernels or JPL HORIZONS.

Example::

    heradecode doppler --spacecraft HERA --rx ATA --tx DSS-24 \\
        --start 2024-10-07T16:24:00 --duration 5300 --step 1 --downlink-mhz 8435.75 \\
        --kernels hera.tm --mode three-way -o doppler.txt --plot doppler.png

The output is the ``unix_time hz`` text format (received carrier minus the
nominal downlink, positive when approaching) that gr-satellites' Doppler
correction and ``heradecode decode --doppler`` read.

Other commands reuse the ephemeris options: :func:`add_ephemeris_arguments`
adds them to a parser, :func:`request_from_args` turns parsed arguments into a
:class:`~heradecode.ephem.predict.DopplerRequest`, :func:`profile_from_args`
into a :class:`~heradecode.io.dopplerfile.DopplerProfile`, and
:func:`save_request` / :func:`load_request` write and read ``doppler.json``
(schema in :mod:`heradecode.cli.residuals`).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from heradecode.cli._mission import add_mission_argument
from heradecode.errors import UserError
from heradecode.ephem.doppler import MODES, DopplerPrediction
from heradecode.ephem.predict import DopplerRequest, parse_turnaround, predict
from heradecode.io.dopplerfile import DopplerProfile

DEFAULT_DOWNLINK_MHZ = DopplerRequest.downlink_hz / 1e6
"""Hera's X-band downlink as recorded at the ATA (MHz)."""


def parse_utc(text: str | float) -> float:
    """UNIX seconds from an ISO-8601 UTC time (``2024-10-07T16:24:00``, ``Z`` optional) or a number."""
    if isinstance(text, (int, float)):
        return float(text)
    s = str(text).strip()
    try:
        return float(s)
    except ValueError:
        pass
    iso = s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s
    try:
        dt = datetime.fromisoformat(iso.replace(" ", "T", 1))
    except ValueError:
        raise UserError(f"bad time {text!r}: use ISO-8601 UTC like 2024-10-07T16:24:00") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def add_ephemeris_arguments(parser: argparse.ArgumentParser, *, rx_default: str | None = None,
                            mode_flag: str = "--mode") -> None:
    """Add the Doppler-prediction options (stations, frequencies, --kernels/--horizons) to a parser.

    Every option defaults to None so that callers can tell what was given; the
    defaults are applied by :func:`request_from_args`.  A command that already
    has a ``--mode`` option can pass e.g. ``mode_flag="--doppler-mode"`` (the
    destination is always ``doppler_mode``).
    """
    g = parser.add_argument_group("Doppler prediction (ephemeris)")
    g.add_argument("--spacecraft", help="spacecraft name or NAIF ID (default: the mission's, HERA = -91)")
    rx_help = ("receiving station: DSS-14..65, New Norcia, Cebreros, Malargue, ATA, or "
               "'geodetic:LAT,LON,HEIGHT_M' / 'itrf:X,Y,Z'")
    g.add_argument("--rx", default=rx_default,
                   help=rx_help + (f" (default {rx_default})" if rx_default else ""))
    g.add_argument("--tx", help="transmitting (uplink) station for two/three-way Doppler")
    g.add_argument(mode_flag, dest="doppler_mode", choices=MODES,
                   help="default: three-way if --tx differs from --rx, two-way if equal, else one-way")
    g.add_argument("--downlink-mhz", type=float,
                   help=f"nominal downlink frequency, MHz (default: the mission's, {DEFAULT_DOWNLINK_MHZ} for Hera)")
    g.add_argument("--uplink-mhz", type=float,
                   help="uplink frequency, MHz (default: downlink / turnaround, i.e. Doppler relative to "
                        "the nominal downlink)")
    g.add_argument("--turnaround", help="coherent turnaround ratio (default 880/749, X up / X down)")
    src = g.add_mutually_exclusive_group()
    src.add_argument("--kernels", nargs="+", metavar="KERNEL",
                     help="SPICE kernels or meta-kernel (*.tm) with the spacecraft trajectory; generic kernels "
                          "(leap seconds, Earth orientation, DE440) come from the naif-* packages")
    src.add_argument("--horizons", dest="backend", action="store_const", const="horizons",
                     help="use JPL HORIZONS (network once, then the on-disk cache)")
    g.add_argument("--no-generic-kernels", dest="generic_kernels", action="store_const", const=False,
                   help="do not load the packaged generic kernels (give them all with --kernels)")
    g.add_argument("--horizons-step", type=float, metavar="S",
                   help="HORIZONS table step in seconds, whole minutes (default 60)")
    g.add_argument("--horizons-cache", metavar="DIR", help="HORIZONS cache directory "
                   "(default $HERADECODE_CACHE/horizons or ~/.cache/heradecode/horizons)")
    g.add_argument("--offline", action="store_const", const=True, help="HORIZONS: use only the cache")
    g.add_argument("--no-relativity", dest="relativistic", action="store_const", const=False,
                   help="leave out clock-rate and Shapiro terms (first-order Newtonian Doppler)")


def has_ephemeris_source(args: argparse.Namespace) -> bool:
    """True when the arguments name a backend (--kernels or --horizons)."""
    return bool(getattr(args, "kernels", None)) or getattr(args, "backend", None) == "horizons"


_PREDICTION_OPTIONS = {
    "spacecraft": "--spacecraft", "rx": "--rx", "tx": "--tx", "doppler_mode": "--doppler-mode",
    "uplink_mhz": "--uplink-mhz", "turnaround": "--turnaround", "horizons_step": "--horizons-step",
    "horizons_cache": "--horizons-cache", "offline": "--offline", "relativistic": "--no-relativity",
    "generic_kernels": "--no-generic-kernels",
}


def ephemeris_requested(args: argparse.Namespace) -> list[str]:
    """The Doppler-prediction options given on the command line (stations, spacecraft, …), by flag."""
    return [flag for dest, flag in _PREDICTION_OPTIONS.items() if getattr(args, dest, None) is not None]


def require_ephemeris_source(args: argparse.Namespace) -> None:
    """Refuse, in one line, a Doppler prediction asked for with no kernels, no HORIZONS and no default kernels."""
    if has_ephemeris_source(args):
        return
    from heradecode.ephem.spice import default_kernels

    if not default_kernels():
        given = " ".join(ephemeris_requested(args)) or "a Doppler prediction"
        raise UserError(f"{given} asks for a Doppler prediction: give --kernels (the spacecraft SPK or a "
                        f"meta-kernel, see kernels/README.md) or --horizons, or a --doppler FILE")


def request_from_args(args: argparse.Namespace, base: DopplerRequest | None = None) -> DopplerRequest:
    """A DopplerRequest from parsed arguments; given options override ``base`` (e.g. doppler.json)."""
    changes: dict = {}
    if getattr(args, "spacecraft", None):
        changes["spacecraft"] = args.spacecraft
    if getattr(args, "rx", None):
        changes["rx"] = args.rx
    if getattr(args, "tx", None):
        changes["tx"] = args.tx
    if getattr(args, "doppler_mode", None):
        changes["mode"] = args.doppler_mode
    if getattr(args, "downlink_mhz", None) is not None:
        changes["downlink_hz"] = float(args.downlink_mhz) * 1e6
    if getattr(args, "uplink_mhz", None) is not None:
        changes["uplink_hz"] = float(args.uplink_mhz) * 1e6
    if getattr(args, "turnaround", None) is not None:
        changes["turnaround"] = parse_turnaround(args.turnaround)
    if getattr(args, "kernels", None):
        changes["kernels"] = tuple(str(Path(k).expanduser()) for k in args.kernels)
        changes["backend"] = "spice"
    if getattr(args, "backend", None):
        changes["backend"] = args.backend
    if getattr(args, "generic_kernels", None) is not None:
        changes["generic_kernels"] = bool(args.generic_kernels)
    if getattr(args, "horizons_step", None) is not None:
        changes["horizons_step_s"] = float(args.horizons_step)
    if getattr(args, "horizons_cache", None):
        changes["horizons_cache_dir"] = str(args.horizons_cache)
    if getattr(args, "offline", None) is not None:
        changes["offline"] = bool(args.offline)
    if getattr(args, "relativistic", None) is not None:
        changes["relativistic"] = bool(args.relativistic)
    if base is None:
        changes = {**_mission_defaults(args, changes), **changes}
        if "rx" not in changes:
            raise UserError("give the receiving station with --rx (e.g. --rx ATA)")
        return DopplerRequest(**changes).validated()
    if ("tx" in changes or "rx" in changes) and "mode" not in changes:
        changes["mode"] = None  # new stations: let them decide the mode again
    return DopplerRequest(**{**_request_fields(base), **changes}).validated()


def _mission_defaults(args: argparse.Namespace, given: dict) -> dict:
    """Spacecraft, downlink frequency and receiving station from ``--mission`` (for what was not given)."""
    if not getattr(args, "mission", None):
        return {}
    from heradecode.missions import load_mission

    profile = load_mission(args.mission)
    out: dict = {}
    if "spacecraft" not in given:
        if profile.ephemeris.target is None:
            raise UserError(f"{profile.name}'s profile has no NAIF ID: give --spacecraft")
        out["spacecraft"] = profile.ephemeris.target
    if "downlink_hz" not in given:
        if profile.downlink_freq_hz is None:
            raise UserError(f"{profile.name}'s downlink frequency is not in its profile: give --downlink-mhz")
        out["downlink_hz"] = profile.downlink_freq_hz
    if "rx" not in given and profile.ephemeris.default_stations:
        out["rx"] = profile.ephemeris.default_stations[0]
    return out


def _request_fields(req: DopplerRequest) -> dict:
    return {name: getattr(req, name) for name in req.__dataclass_fields__}


def receive_times(start_unix: float, duration_s: float, step_s: float = 1.0) -> np.ndarray:
    """Receive times start, start+step, ..., start+duration (UNIX s)."""
    if not (duration_s > 0) or not (step_s > 0):
        raise UserError("duration and step must be positive")
    n = int(np.floor(duration_s / step_s + 1e-9)) + 1
    if n > 10_000_000:
        raise UserError(f"{n} points is too many; use a larger --step")
    t = start_unix + step_s * np.arange(n)
    if t[-1] < start_unix + duration_s - 1e-9:
        t = np.append(t, start_unix + duration_s)
    return t


def prediction_from_args(args: argparse.Namespace, start_unix: float, duration_s: float,
                         step_s: float = 1.0, base: DopplerRequest | None = None) -> DopplerPrediction:
    """Predict the Doppler over [start, start+duration] from parsed ephemeris arguments."""
    return predict(request_from_args(args, base), receive_times(start_unix, duration_s, step_s))


def profile_from_args(args: argparse.Namespace, start_unix: float, duration_s: float,
                      step_s: float = 1.0, base: DopplerRequest | None = None) -> DopplerProfile:
    """The DopplerProfile (what ``--doppler FILE`` would give) from parsed ephemeris arguments."""
    return prediction_from_args(args, start_unix, duration_s, step_s, base).to_profile()


def save_request(path: str | Path, request: DopplerRequest | None, *, doppler_file: str | None = None) -> None:
    """Write ``doppler.json``: the ephemeris options of a decode (and/or the Doppler file it used)."""
    data: dict = request.to_dict() if request is not None else {"schema": "heradecode.doppler/1"}
    if doppler_file is not None:
        data["doppler_file"] = str(doppler_file)
    Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def load_request(path: str | Path) -> tuple[DopplerRequest | None, str | None]:
    """Read ``doppler.json``: (request or None, Doppler file or None)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object")
    doppler_file = data.get("doppler_file")
    request = DopplerRequest.from_dict(data) if data.get("rx") else None
    return request, (str(doppler_file) if doppler_file else None)


# --- plotting ------------------------------------------------------------------------------------

def unix_to_datetime64(unix_time: np.ndarray) -> np.ndarray:
    """UNIX seconds to numpy datetime64[ns] (UTC)."""
    return (np.asarray(unix_time, dtype=np.float64) * 1e9).astype("int64").astype("datetime64[ns]")


def utc_axis(ax) -> None:
    """Format a matplotlib x axis of datetime64 values as UTC time."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("time (UTC)")
    ax.grid(True, alpha=0.3)


def plot_prediction(pred: DopplerPrediction, path: str | Path) -> None:
    """Plot the Doppler (kHz) and its rate (Hz/s) against UTC time into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = unix_to_datetime64(pred.unix_time)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True, constrained_layout=True)
    ax1.plot(t, pred.freq_hz / 1e3, lw=1.2)
    ax1.set_ylabel("Doppler offset (kHz)")
    link = pred.rx if pred.tx is None else f"{pred.tx} → {pred.rx}"
    ax1.set_title(f"{pred.spacecraft} {pred.mode} Doppler, {link}, downlink {pred.downlink_hz / 1e6:.6f} MHz "
                  f"({pred.backend})")
    ax1.grid(True, alpha=0.3)
    if pred.unix_time.size > 2:
        rate = np.gradient(pred.freq_hz, pred.unix_time)
        ax2.plot(t, rate, lw=1.0, color="tab:orange")
    ax2.set_ylabel("Doppler rate (Hz/s)")
    utc_axis(ax2)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_table(pred: DopplerPrediction, path: str | Path) -> None:
    """Write a CSV with the Doppler, range rates and light times per receive time."""
    with open(path, "w", encoding="ascii") as fh:
        fh.write("unix_time,freq_hz,range_rate_down_m_s,range_rate_up_m_s,light_time_down_s,light_time_up_s\n")
        for row in zip(pred.unix_time, pred.freq_hz, pred.range_rate_down_m_s, pred.range_rate_up_m_s,
                       pred.light_time_down_s, pred.light_time_up_s):
            fh.write(",".join(f"{v:.9f}" if np.isfinite(v) else "" for v in row) + "\n")


def warn_below_horizon(pred: DopplerPrediction) -> None:
    """Print a warning on stderr when the spacecraft is below a station's horizon for part of the span."""
    import sys

    for name, elev in ((pred.rx, pred.elevation_rx_deg), (pred.tx, pred.elevation_tx_deg)):
        if name is None or elev is None or elev.size == 0:
            continue
        below = float(np.mean(elev < 0.0))
        if below > 0:
            print(f"warning: {pred.spacecraft} is below the horizon of {name} for {100 * below:.0f}% of the "
                  f"span (elevation {elev.min():+.1f}..{elev.max():+.1f} deg)", file=sys.stderr)


# --- command -------------------------------------------------------------------------------------

def register(subparsers) -> None:
    """Add ``heradecode doppler``."""
    p = subparsers.add_parser(
        "doppler",
        help="predict the carrier Doppler (one-, two-, three-way) from SPICE kernels or HORIZONS",
        description="Predict the received carrier offset from the nominal downlink (Hz, positive when "
                    "approaching) and write it as 'unix_time hz' lines.",
    )
    p.add_argument("--start", required=True, help="first receive time, ISO-8601 UTC (or UNIX seconds)")
    p.add_argument("--duration", type=float, required=True, help="seconds")
    p.add_argument("--step", type=float, default=1.0, help="seconds between points (default 1)")
    p.add_argument("-o", "--output", required=True, help="output 'unix_time hz' file")
    p.add_argument("--plot", help="also plot the Doppler into this PNG")
    p.add_argument("--table", help="also write a CSV with range rates and light times")
    add_ephemeris_arguments(p)
    add_mission_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``heradecode doppler``."""
    request = request_from_args(args)
    if request.backend == "spice" and not request.kernels:
        require_ephemeris_source(args)
    start = parse_utc(args.start)
    pred = predict(request, receive_times(start, args.duration, args.step))
    out = Path(args.output)
    pred.to_profile().write(out)
    if args.table:
        write_table(pred, args.table)
    if args.plot:
        plot_prediction(pred, args.plot)
    warn_below_horizon(pred)
    f = pred.freq_hz
    link = pred.rx if pred.tx is None else f"{pred.tx} -> {pred.rx}"
    print(f"{pred.spacecraft} {pred.mode} Doppler {link} ({pred.backend}): {f.size} points, "
          f"{f[0]:+.1f} Hz .. {f[-1]:+.1f} Hz (min {f.min():+.1f}, max {f.max():+.1f}), "
          f"one-way light time {pred.light_time_down_s[0]:.4f} s -> {out}")
    return 0

"""``heradecode residuals DECODE_DIR``: observed minus predicted carrier Doppler.

A decode leaves in its output directory

``carrier.csv``
    The carrier the PLL tracked, averaged to 1 s points.  Header
    ``unix_time,doppler_hz,cn0_dbhz,locked``: UNIX time (UTC s) of the
    point's centre; ``doppler_hz`` the observed received carrier frequency
    minus the nominal downlink frequency (Hz; positive when approaching);
    ``cn0_dbhz`` the carrier-to-noise density (dB-Hz); ``locked`` 1 when the
    loop was locked over the whole second, else 0.

``doppler.json`` (optional)
    The ephemeris options the decode predicted its Doppler with, so that the
    same prediction can be recomputed.  A JSON object:

    ==================== ======================================================================
    key                  meaning
    ==================== ======================================================================
    ``schema``           ``"heradecode.doppler/1"``
    ``rx``               receiving station: a catalogue name (``"ATA"``) or an object
                         ``{"name": ..., "itrf_m": [x, y, z], "velocity_m_per_yr": [...],
                         "epoch_unix": ..., "source": ...}`` for a user-defined station
    ``tx``               transmitting station (same forms) or ``null``
    ``spacecraft``       name or NAIF ID (``"HERA"``)
    ``mode``             ``"one-way"``, ``"two-way"``, ``"three-way"`` or ``null`` (from the stations)
    ``downlink_hz``      nominal downlink frequency (Hz)
    ``uplink_hz``        uplink frequency (Hz) or ``null`` (= downlink / turnaround)
    ``turnaround``       coherent turnaround ratio (880/749)
    ``relativistic``     clock-rate and Shapiro terms included (bool)
    ``backend``          ``"spice"`` or ``"horizons"``
    ``kernels``          list of SPICE kernel paths (spice backend)
    ``generic_kernels``  load the packaged generic kernels (bool)
    ``horizons_step_s``  HORIZONS table step (s)
    ``horizons_cache_dir`` HORIZONS cache directory or ``null``
    ``offline``          HORIZONS from the cache only (bool)
    ``doppler_file``     optional: a ``unix_time hz`` file the decode used instead (relative to
                         DECODE_DIR or absolute); used when no ephemeris options are present
    ==================== ======================================================================

    Only ``rx`` is required for a prediction; missing keys take the defaults
    of :class:`heradecode.ephem.predict.DopplerRequest`.  Written and read by
    :func:`heradecode.cli.doppler.save_request` / :func:`~heradecode.cli.doppler.load_request`.

Options on the command line override ``doppler.json``; this is how a user
checks a decode against another ephemeris (``--kernels new.bsp``) and finds
that a kernel is off.  Writes ``residuals.csv`` (``unix_time, observed_hz,
predicted_hz, residual_hz, cn0_dbhz, locked``) and ``doppler_residuals.png``
(observed minus predicted for the locked points against UTC, rms in the title).

Several ephemerides on one figure: ``--ephemeris [LABEL=]SOURCE`` (repeated; SOURCE is
``horizons``, comma-separated SPICE kernels or ``doppler:FILE``) writes
``residuals_<LABEL>.csv`` per ephemeris and ``doppler_residuals_compare.png``, and names the
one with the smallest rms.  ``--interval-s 60`` takes the phase-based observable
(``carrier_phase.csv``, :mod:`heradecode.products.radio_science`) instead of the 1 s loop
averages, with the prediction averaged over each interval.
"""

from __future__ import annotations

import math

import argparse
from pathlib import Path

import numpy as np

from heradecode.errors import UserError
from heradecode.products.carrier import CarrierObservable, compute_residuals, read_carrier_csv
from heradecode.ephem.predict import predict
from heradecode.cli.doppler import (add_ephemeris_arguments, has_ephemeris_source, load_request,
                                    request_from_args)
from heradecode.io.dopplerfile import DopplerProfile, read_doppler_profile


def register(subparsers) -> None:
    """Add ``heradecode residuals``."""
    p = subparsers.add_parser(
        "residuals",
        help="observed minus predicted carrier Doppler of a decode (residuals.csv and plot)",
        description="Compare the carrier a decode tracked (DECODE_DIR/carrier.csv) with a Doppler "
                    "prediction (DECODE_DIR/doppler.json, overridden by the options below). "
                    "Give DECODE_DIR before --kernels, which takes several values.",
    )
    p.add_argument("decode_dir", metavar="DECODE_DIR", help="output directory of heradecode decode")
    p.add_argument("-o", "--output-dir", help="where to write residuals.csv and the plot (default DECODE_DIR)")
    p.add_argument("--doppler", metavar="FILE", help="use this 'unix_time hz' prediction instead of an ephemeris")
    p.add_argument("--ephemeris", action="append", metavar="[LABEL=]SOURCE",
                   help="compare several ephemerides on one figure (repeat the option): SOURCE is 'horizons', "
                        "comma-separated SPICE kernels, or doppler:FILE; the stations and options are the "
                        "decode's (doppler.json) or those given; writes residuals_<LABEL>.csv and "
                        "doppler_residuals_compare.png")
    p.add_argument("--interval-s", type=float, metavar="S",
                   help="residuals of the phase-based Doppler observable at this integration interval "
                        "(carrier_phase.csv; e.g. 60), the prediction averaged over each interval; default: "
                        "the 1 s loop averages of carrier.csv")
    add_ephemeris_arguments(p)
    p.set_defaults(func=run)


_AVERAGE_POINTS = 11  # prediction samples averaged over an integration interval (Simpson-like, exact to f'')


def _observable(decode_dir: Path, interval_s: float | None) -> CarrierObservable:
    """carrier.csv, or the phase-based observable at ``interval_s`` (good points marked locked)."""
    if interval_s is None:
        return read_carrier_csv(decode_dir / "carrier.csv")
    from heradecode.products import radio_science as rs

    if not interval_s > 0:
        raise UserError(f"--interval-s must be positive, got {interval_s:g}")
    obs = rs.doppler_observable(rs.read_phase_csv(decode_dir / "carrier_phase.csv"), interval_s,
                                _downlink_hz(decode_dir))
    if obs.unix_time.size == 0:
        raise UserError(f"no {interval_s:g} s Doppler points in {decode_dir}")
    return CarrierObservable(obs.unix_time, obs.doppler_hz, obs.cn0_dbhz, obs.good)


def _downlink_hz(decode_dir: Path) -> float:
    """The nominal downlink the decode's Doppler is relative to: decode.json's, else Hera's."""
    from heradecode.ccsds.mission import HERA
    from heradecode.products.decodelog import read_decode_header

    hz = read_decode_header(decode_dir).downlink_freq_hz if (decode_dir / "decode.json").is_file() else math.nan
    return hz if math.isfinite(hz) else HERA.link.downlink_freq_hz


def _sub_times(t: np.ndarray, interval_s: float | None) -> np.ndarray:
    if not interval_s:
        return t[:, None]
    u = (np.arange(_AVERAGE_POINTS) + 0.5) / _AVERAGE_POINTS - 0.5
    return t[:, None] + interval_s * u[None, :]


def _predicted(source, request, carrier: CarrierObservable, interval_s: float | None) -> tuple[np.ndarray, str]:
    """Prediction (Hz) on the carrier points, averaged over each interval; and a label."""
    sub = _sub_times(carrier.unix_time, interval_s)
    if isinstance(source, DopplerProfile):
        if sub.min() < source.unix_time[0] - 1e-6 or sub.max() > source.unix_time[-1] + 1e-6:
            raise UserError("the prediction does not cover the carrier measurement times")
        return np.asarray(source.freq_at(sub.ravel())).reshape(sub.shape).mean(axis=1), "file"
    pred = predict(request, sub.ravel())
    link = pred.rx if pred.tx is None else f"{pred.tx} → {pred.rx}"
    return pred.freq_hz.reshape(sub.shape).mean(axis=1), f"{pred.spacecraft} {pred.mode} {link}, {pred.backend}"


def _parse_ephemeris(text: str, index: int) -> tuple[str, str]:
    label, sep, source = text.partition("=")
    if not sep:
        label, source = "", text
    source = source.strip()
    if not source:
        raise UserError(f"--ephemeris {text!r}: give a source (horizons, kernels or doppler:FILE)")
    if not label:
        label = "horizons" if source.lower() == "horizons" else Path(source.split(",")[0].removeprefix("doppler:")).stem
    return label.strip() or f"ephemeris{index + 1}", source


def _compare(args, decode_dir: Path, carrier: CarrierObservable, base) -> int:
    """Residuals against every --ephemeris on one figure."""
    out_dir = Path(args.output_dir) if args.output_dir else decode_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for i, text in enumerate(args.ephemeris):
        label, source = _parse_ephemeris(text, i)
        if label in results:
            raise UserError(f"two ephemerides are labelled {label!r}; name them LABEL=SOURCE")
        if source.lower().startswith("doppler:"):
            pred, _ = _predicted(read_doppler_profile(source[len("doppler:"):]), None, carrier, args.interval_s)
        else:
            sub_args = argparse.Namespace(**vars(args))
            if source.lower() == "horizons":
                sub_args.kernels, sub_args.backend = None, "horizons"
            else:
                sub_args.kernels, sub_args.backend = [k for k in source.split(",") if k], None
            pred, _ = _predicted(None, request_from_args(sub_args, base), carrier, args.interval_s)
        res = compute_residuals(carrier, pred)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)
        res.write_csv(out_dir / f"residuals_{safe}.csv")
        results[label] = res
    from heradecode.plot.ephemeris_residuals import plot_ephemeris_residuals

    what = f"{args.interval_s:g} s phase-based Doppler" if args.interval_s else "1 s carrier points"
    plot_ephemeris_residuals(results, title=f"Doppler residuals ({what}) against {len(results)} ephemerides",
                             path=out_dir / "doppler_residuals_compare.png")
    for label, res in results.items():
        print(f"{label}: {res.n_locked} points, residual mean {res.mean_hz():+.4f} Hz, rms {res.rms_hz():.4f} Hz, "
              f"std {res.std_hz():.4f} Hz")
    best = min(results, key=lambda k: results[k].rms_hz() if results[k].n_locked else float("inf"))
    print(f"smallest rms: {best} -> {out_dir / 'doppler_residuals_compare.png'}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``heradecode residuals``."""
    decode_dir = Path(args.decode_dir)
    if not decode_dir.is_dir():
        raise UserError(f"decode directory not found: {decode_dir}")
    carrier = _observable(decode_dir, getattr(args, "interval_s", None))
    base, doppler_file = (None, None)
    if (decode_dir / "doppler.json").is_file():
        base, doppler_file = load_request(decode_dir / "doppler.json")
    if getattr(args, "ephemeris", None):
        return _compare(args, decode_dir, carrier, base)
    interval = getattr(args, "interval_s", None)

    if args.doppler:
        profile = read_doppler_profile(args.doppler)
        res = compute_residuals(carrier, _predicted(profile, None, carrier, interval)[0] if interval else profile)
        label = f"file {args.doppler}"
    elif has_ephemeris_source(args) or base is not None or getattr(args, "rx", None):
        request = request_from_args(args, base)
        pred, label = _predicted(None, request, carrier, interval)
        res = compute_residuals(carrier, pred)
    elif doppler_file is not None:
        path = Path(doppler_file)
        path = path if path.is_absolute() else decode_dir / path
        profile = read_doppler_profile(path)
        res = compute_residuals(carrier, _predicted(profile, None, carrier, interval)[0] if interval else profile)
        label = f"file {path.name}"
    else:
        raise UserError(f"no prediction: {decode_dir} has no doppler.json; give --kernels/--horizons "
                        "with --rx (and --tx), or --doppler FILE")

    out_dir = Path(args.output_dir) if args.output_dir else decode_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    res.write_csv(out_dir / "residuals.csv")
    from heradecode.plot import plot_residuals  # matplotlib only when plotting

    plot_residuals(res, title=f"Carrier Doppler vs prediction ({label})", path=out_dir / "doppler_residuals.png")
    print(f"{res.n_locked} locked of {res.unix_time.size} points; residual rms {res.rms_hz():.3f} Hz, "
          f"mean {res.mean_hz():+.3f} Hz, std {res.std_hz():.3f} Hz -> {out_dir / 'residuals.csv'}, "
          f"{out_dir / 'doppler_residuals.png'}")
    return 0

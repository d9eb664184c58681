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
"""

from __future__ import annotations

import argparse
from pathlib import Path

from heradecode.errors import UserError
from heradecode.ephem.doppler import compute_residuals, read_carrier_csv
from heradecode.ephem.predict import predict
from heradecode.cli.doppler import (add_ephemeris_arguments, has_ephemeris_source, load_request,
                                    request_from_args)
from heradecode.io.dopplerfile import read_doppler_profile


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
    add_ephemeris_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``heradecode residuals``."""
    decode_dir = Path(args.decode_dir)
    if not decode_dir.is_dir():
        raise UserError(f"decode directory not found: {decode_dir}")
    carrier = read_carrier_csv(decode_dir / "carrier.csv")
    base, doppler_file = (None, None)
    if (decode_dir / "doppler.json").is_file():
        base, doppler_file = load_request(decode_dir / "doppler.json")

    if args.doppler:
        profile = read_doppler_profile(args.doppler)
        res = compute_residuals(carrier, profile)
        label = f"file {args.doppler}"
    elif has_ephemeris_source(args) or base is not None or getattr(args, "rx", None):
        request = request_from_args(args, base)
        pred = predict(request, carrier.unix_time)
        res = compute_residuals(carrier, pred)
        link = pred.rx if pred.tx is None else f"{pred.tx} → {pred.rx}"
        label = f"{pred.spacecraft} {pred.mode} {link}, {pred.backend}"
    elif doppler_file is not None:
        path = Path(doppler_file)
        path = path if path.is_absolute() else decode_dir / path
        res = compute_residuals(carrier, read_doppler_profile(path))
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

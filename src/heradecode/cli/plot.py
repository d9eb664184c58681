"""``heradecode plot [RECORDING…] [--decode-dir DIR]``: PNG plots of a recording and of a decode.

Writes into ``--out`` (default: the decode directory, else the current
directory) any of ``spectrum.png`` (waterfall and averaged PSD of the
recording), ``carrier.png`` (PLL frequency, C/N0 and lock; Doppler used vs
tracked), ``soft_symbols.png``, ``codeblocks.png`` (Eb/N0 and iterations per
codeblock) and ``frames_timeline.png`` (frames per virtual channel), and
prints the paths written.

A truncated recording (data file shorter than its metadata says) is plotted
up to its last whole sample with a warning, as ``heradecode decode`` reads it;
a recording of one polarization is plotted with a warning saying so.
"""

from __future__ import annotations

import argparse
import math

from heradecode.errors import UserError


def _positive(text: str | float | None, option: str) -> float | None:
    """A positive finite number from an option value, or UserError naming the option."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"{option} must be a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise UserError(f"{option} must be a positive number, got {text!r}")
    return value


def register(subparsers) -> None:
    """Add ``heradecode plot``."""
    p = subparsers.add_parser(
        "plot",
        help="PNG plots: spectrum of a recording; carrier, soft symbols, codeblocks, frames of a decode",
        description="Plot a recording (waterfall and averaged PSD, both polarizations) and/or the output "
                    "directory of heradecode decode (carrier track, soft symbols, Eb/N0 per codeblock, frames "
                    "per virtual channel). Prints the PNG paths written.",
    )
    p.add_argument("recording", nargs="*", metavar="RECORDING",
                   help="SigMF recording (meta, data or base name; an X/Y pair or collection) or raw I/Q files")
    p.add_argument("--decode-dir", metavar="DIR", help="output directory of heradecode decode (holds decode.json)")
    p.add_argument("--out", metavar="DIR", help="where to write the PNGs (default: the decode directory, else .)")
    p.add_argument("--start", default="0", metavar="S", help="spectrum: seconds from the start (0)")
    p.add_argument("--duration", metavar="S", help="spectrum: seconds to analyse (all)")
    p.add_argument("--doppler", metavar="FILE", help="'unix_time hz' Doppler profile to overlay")
    p.add_argument("--which", metavar="LIST",
                   help="comma-separated plots among spectrum,carrier,symbols,codeblocks,frames (default: all "
                        "whose inputs are given)")
    p.add_argument("--zoom", metavar="HZ", help="spectrum: show ±HZ around the carrier")
    p.add_argument("--carrier-offset", metavar="HZ",
                   help="spectrum: expected carrier, Hz from the centre frequency (default: from --doppler)")
    p.add_argument("--symbol-rate", metavar="BAUD",
                   help="spectrum: mark the bi-phase-L sidebands of this symbol rate (or 'low'/'high'; "
                        "default: from decode.json)")
    p.add_argument("--fft-size", metavar="N", help="spectrum: FFT length (default 4096, finer when zoomed)")
    p.add_argument("--samp-rate", type=float, help="raw recordings: sample rate (samples/s)")
    p.add_argument("--center-freq", type=float, metavar="HZ", help="raw recordings: centre frequency (Hz)")
    p.add_argument("--start-time", metavar="UTC", help="raw recordings: time of the first sample (ISO-8601 UTC)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``heradecode plot``."""
    from pathlib import Path

    from heradecode.io import open_recording
    from heradecode.plot.writer import MODE_SYMBOL_RATES, parse_which, write_plots

    which = parse_which(args.which)
    if not args.recording and not args.decode_dir:
        raise UserError("nothing to plot: give a RECORDING and/or --decode-dir DIR")
    try:
        start_s = float(args.start)
    except ValueError:
        raise UserError(f"--start must be a number of seconds, got {args.start!r}") from None
    if start_s < 0 or not math.isfinite(start_s):
        raise UserError(f"--start must be a non-negative number of seconds, got {args.start}")
    duration_s = _positive(args.duration, "--duration")
    zoom_hz = _positive(args.zoom, "--zoom")
    fft_size = _positive(args.fft_size, "--fft-size")
    if fft_size is not None and (fft_size != int(fft_size) or fft_size < 16):
        raise UserError(f"--fft-size must be a whole number of at least 16, got {args.fft_size}")
    symbol_rate = args.symbol_rate
    if symbol_rate is not None:
        symbol_rate = MODE_SYMBOL_RATES.get(symbol_rate.lower()) or _positive(symbol_rate, "--symbol-rate")
    carrier_offset_hz = None
    if args.carrier_offset is not None:
        try:
            carrier_offset_hz = float(args.carrier_offset)
        except ValueError:
            raise UserError(f"--carrier-offset must be a number of Hz, got {args.carrier_offset!r}") from None
        if not math.isfinite(carrier_offset_hz):
            raise UserError(f"--carrier-offset must be finite, got {args.carrier_offset!r}")
    recording = None
    if args.recording:
        # as decode does: a truncated recording is read up to its last whole sample, with a warning
        recording = open_recording(args.recording, samp_rate=args.samp_rate, center_freq_hz=args.center_freq,
                                   start_time=args.start_time, allow_truncated=True)
    out = Path(args.out) if args.out else (Path(args.decode_dir) if args.decode_dir else Path.cwd())
    written = write_plots(
        out, recording=recording, decode_dir=args.decode_dir, doppler_profile=args.doppler, which=which,
        start_s=start_s, duration_s=duration_s, fft_size=None if fft_size is None else int(fft_size),
        zoom_hz=zoom_hz, carrier_offset_hz=carrier_offset_hz, symbol_rate=symbol_rate,
    )
    if not written:
        raise UserError("no plot written: the decode directory lists no codeblocks and has no carrier.csv")
    for path in written:
        print(path)
    return 0

"""Write the standard PNG set of a recording and/or a decode directory (``heradecode plot``, ``decode --plots``).

A decode directory holds ``decode.json`` (see :mod:`heradecode.products.decodelog`),
and optionally ``carrier.csv`` (``unix_time,doppler_hz,cn0_dbhz,locked``),
``soft_symbols.npy`` (float32 soft symbols) and ``doppler.json`` (whose
``doppler_file`` names the Doppler profile the decode used).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from heradecode.ccsds.mission import HERA
from heradecode.missions import load_mission
from heradecode.products.carrier import read_carrier_csv
from heradecode.errors import UserError
from heradecode.io import Recording, open_recording
from heradecode.io.dopplerfile import DopplerProfile, read_doppler_profile
from heradecode.plot.carrier import plot_carrier_track
from heradecode.products.decodelog import DecodeLog, read_decode_log
from heradecode.plot.frames import plot_codeblocks, plot_frames_timeline
from heradecode.plot.spectrum import plot_spectrum
from heradecode.plot.symbols import plot_soft_symbols

PLOT_FILES = {
    "spectrum": "spectrum.png",
    "carrier": "carrier.png",
    "symbols": "soft_symbols.png",
    "codeblocks": "codeblocks.png",
    "frames": "frames_timeline.png",
}
"""Plot name → PNG file name."""

MODE_SYMBOL_RATES = {m.name: m.symbol_rate_baud for m in HERA.link.modes}
"""Hera telemetry symbol rates (baud) by mode, from its mission profile (for decode.json files without a rate)."""

PathLike = str | os.PathLike


def _as_recording(recording: Recording | PathLike | Sequence[PathLike] | None) -> Recording | None:
    if recording is None or isinstance(recording, Recording):
        return recording
    return open_recording(recording, allow_truncated=True)  # whole samples, with a warning


def _doppler_from_decode_dir(decode_dir: Path) -> DopplerProfile | None:
    """The profile named by ``doppler.json``'s ``doppler_file``, or None (a bad file is reported, not fatal)."""
    meta = decode_dir / "doppler.json"
    if not meta.is_file():
        return None
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        name = data.get("doppler_file") if isinstance(data, dict) else None
        if not name:
            return None
        p = Path(name)
        return read_doppler_profile(p if p.is_absolute() else decode_dir / p)
    except (json.JSONDecodeError, UnicodeDecodeError, UserError, OSError) as exc:
        warnings.warn(f"{meta}: Doppler profile not used ({exc})", stacklevel=3)
        return None


def _check_decode_dir(decode_dir: PathLike) -> Path:
    d = Path(decode_dir)
    if not d.is_dir():
        raise UserError(f"decode directory not found: {d}")
    if not (d / "decode.json").is_file():
        raise UserError(f"{d} has no decode.json: give the output directory of heradecode decode")
    return d


def parse_which(text: str | None) -> list[str] | None:
    """``"spectrum,carrier"`` → ``["spectrum", "carrier"]``; None or "all" → None (everything available)."""
    if text is None or text.strip().lower() in ("", "all"):
        return None
    names = [w.strip().lower() for w in text.split(",") if w.strip()]
    aliases = {"soft_symbols": "symbols", "frames_timeline": "frames", "timeline": "frames"}
    names = [aliases.get(n, n) for n in names]
    bad = [n for n in names if n not in PLOT_FILES]
    if bad:
        raise UserError(f"unknown plot {', '.join(bad)}: choose from {', '.join(PLOT_FILES)}")
    return list(dict.fromkeys(names))


def write_plots(
    out_dir: PathLike,
    *,
    recording: Recording | PathLike | Sequence[PathLike] | None = None,
    decode_dir: PathLike | None = None,
    doppler_profile: DopplerProfile | PathLike | None = None,
    which: Sequence[str] | None = None,
    start_s: float = 0.0,
    duration_s: float | None = None,
    fft_size: int | None = None,
    zoom_hz: float | None = None,
    carrier_offset_hz: float | None = None,
    symbol_rate: float | None = None,
    downlink_hz: float | None = None,
) -> list[Path]:
    """Write the PNGs of ``which`` (default: all whose inputs exist) into ``out_dir``; return their paths.

    Inputs: a recording (spectrum), a decode directory (carrier, soft symbols,
    codeblocks, frames timeline) and a Doppler profile (overlaid on the
    spectrum and the carrier track; default: the one named in the decode
    directory's doppler.json).  Asking for a plot whose input is missing is a
    UserError.  ``downlink_hz`` (the nominal downlink the Doppler profile is
    relative to) defaults to decode.json's ``downlink_freq_hz``, else the mission's (decode.json's
    ``mission``, else Hera).
    """
    rec = _as_recording(recording)
    ddir = _check_decode_dir(decode_dir) if decode_dir is not None else None
    if rec is None and ddir is None:
        raise UserError("nothing to plot: give a recording and/or a decode directory")
    if doppler_profile is not None and not isinstance(doppler_profile, DopplerProfile):
        doppler_profile = read_doppler_profile(doppler_profile)
    if doppler_profile is None and ddir is not None:
        doppler_profile = _doppler_from_decode_dir(ddir)

    available = {
        "spectrum": rec is not None,
        "carrier": ddir is not None and (ddir / "carrier.csv").is_file(),
        "symbols": ddir is not None and (ddir / "soft_symbols.npy").is_file(),
        "codeblocks": ddir is not None,
        "frames": ddir is not None,
    }
    why = {
        "spectrum": "needs a recording",
        "carrier": "needs carrier.csv in the decode directory",
        "symbols": "needs soft_symbols.npy in the decode directory",
        "codeblocks": "needs a decode directory",
        "frames": "needs a decode directory",
    }
    if which is None:
        wanted = [n for n in PLOT_FILES if available[n]]
    else:
        wanted = list(which)
        missing = [n for n in wanted if n not in PLOT_FILES or not available[n]]
        if missing:
            n = missing[0]
            raise UserError(f"cannot plot {n}: it {why.get(n, 'is not a known plot')}")

    log: DecodeLog | None = read_decode_log(ddir / "decode.json") if ddir is not None else None
    if log is not None and log.skipped:
        warnings.warn(f"{ddir / 'decode.json'}: skipped {log.skipped} unreadable codeblock entries", stacklevel=2)
    mission = load_mission(log.mission) if log is not None and log.mission else HERA
    if downlink_hz is None:
        ok_log = log is not None and np.isfinite(log.downlink_freq_hz)
        fallback = rec.center_freq_hz if rec is not None else float("nan")  # the mission's is not known
        downlink_hz = log.downlink_freq_hz if ok_log else (mission.downlink_freq_hz or fallback)
    if symbol_rate is None and log is not None and np.isfinite(log.symbol_rate_baud):
        symbol_rate = log.symbol_rate_baud
    if symbol_rate is None and log is not None and log.mode in MODE_SYMBOL_RATES:
        symbol_rate = MODE_SYMBOL_RATES[log.mode]

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in wanted:
        path = out / PLOT_FILES[name]
        if name == "spectrum":
            fig = plot_spectrum(rec, start_s=start_s, duration_s=duration_s, fft_size=fft_size, zoom_hz=zoom_hz,
                                carrier_offset_hz=carrier_offset_hz, doppler_profile=doppler_profile,
                                downlink_hz=downlink_hz, symbol_rate=symbol_rate, path=path)
        elif name == "carrier":
            fig = plot_carrier_track(read_carrier_csv(ddir / "carrier.csv"), doppler_profile=doppler_profile,
                                     path=path)
        elif name == "symbols":
            try:
                soft = np.load(ddir / "soft_symbols.npy", mmap_mode="r", allow_pickle=False)
            except ValueError as exc:
                if which is not None:
                    raise UserError(f"{ddir / 'soft_symbols.npy'}: not a readable .npy array ({exc})") from None
                warnings.warn(f"{ddir / 'soft_symbols.npy'}: not plotted, unreadable ({exc})", stacklevel=2)
                continue
            esn0 = None
            if log is not None and log.num_ok and np.isfinite(log.esn0_db[log.crc_ok]).any():
                esn0 = float(np.nanmedian(log.esn0_db[log.crc_ok]))
            fig = plot_soft_symbols(soft, esn0_db=esn0, path=path)
        elif name in ("codeblocks", "frames"):
            if log.num_codeblocks == 0:
                if which is not None:
                    raise UserError(f"cannot plot {name}: {ddir / 'decode.json'} lists no codeblocks")
                continue
            fig = (plot_codeblocks(log, path=path) if name == "codeblocks"
                   else plot_frames_timeline(log, path=path, mission=mission))
        else:  # pragma: no cover - guarded above
            continue
        del fig
        written.append(path)
    return written


def write_decode_plots(
    decode_dir: PathLike,
    recording: Recording | PathLike | Sequence[PathLike] | None = None,
    doppler_profile: DopplerProfile | PathLike | None = None,
) -> list[Path]:
    """Write every available plot of a decode directory (and its recording) into that directory."""
    return write_plots(decode_dir, recording=recording, decode_dir=decode_dir, doppler_profile=doppler_profile)

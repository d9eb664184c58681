"""``heradecode decode``: from a dual-polarization recording to frames, packets and a report."""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from heradecode.cli.doppler import add_ephemeris_arguments, ephemeris_requested, has_ephemeris_source, \
    profile_from_args, request_from_args, require_ephemeris_source, save_request
from heradecode.cli._mission import add_mission_argument, mission_from_args
from heradecode.errors import NothingDecoded, UserError
from heradecode.io.dopplerfile import read_doppler_profile
from heradecode.io.recording import RECEIVER_OFFSET_KEY

log = logging.getLogger("heradecode")

LARGE_RESIDUAL_HZ = 200.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "decode",
        help="decode a recording: carrier, bi-phase-L, turbo code, frames, packets",
        description="Decode Hera telemetry from a dual-polarization IQ recording (a 2-channel SigMF "
                    "recording, a SigMF collection, an X/Y pair, or one ..._0x recording whose ..._0y "
                    "partner lies beside it).",
    )
    p.add_argument("recording", nargs="+", type=Path, metavar="RECORDING")
    add_mission_argument(p)
    p.add_argument("--mode", default="auto",
                   help="the mission's mode: for Hera low (60.2375 kbaud) or high (322.56 kbaud); "
                        "or auto (default: detect among the mission's modes)")
    p.add_argument("--symbol-rate", type=float, metavar="BAUD", help="override the mode's symbol rate")
    p.add_argument("--doppler", type=Path, metavar="FILE", help="Doppler profile to remove ('unix_time hz' lines)")
    p.add_argument("--carrier-offset", type=float, metavar="HZ",
                   help="carrier offset (Hz) from the centre frequency after Doppler removal "
                        "(default: nominal downlink minus centre frequency)")
    p.add_argument("--acq-window", type=float, default=None, metavar="HZ",
                   help="carrier search, ± Hz around the predicted carrier (default: ±100 kHz with --doppler, "
                        "an ephemeris or --carrier-offset; without them the whole recorded band: a blind search)")
    p.add_argument("--pll-bandwidth", type=float, default=15.0, metavar="HZ", help="carrier loop bandwidth")
    p.add_argument("--iterations", type=int, default=10, help="turbo decoder iterations at most")
    p.add_argument("--full-band", action="store_true",
                   help="demodulate all the band the signal occupies, not capped at 3.2 Msps: at 322.56 kbaud "
                        "from 6.144 Msps 0.14 dB more sensitive for twice the CPU")
    p.add_argument("--out", type=Path, metavar="DIR", help="write products here (default: <recording>_decoded)")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="parallel worker processes (0: all cores)")
    p.add_argument("--plots", action="store_true", help="also write PNG plots of the decode")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--archive", type=Path, metavar="DIR",
                   help="ingest the products into this archive when the decode is done (see 'heradecode archive')")
    p.add_argument("--tdm", nargs="?", const="kvn", choices=("kvn", "xml"), metavar="FORMAT",
                   help="also write the carrier Doppler as a CCSDS TDM (kvn, the default, or xml; 1, 10 and 60 s "
                        "segments as the recording's length allows; stations from --rx/--tx), as heradecode tdm does")
    p.add_argument("--samp-rate", type=float, help="raw recordings: sample rate (samples/s)")
    p.add_argument("--center-freq", type=float, help="raw recordings: centre frequency (Hz)")
    p.add_argument("--start-time", help="raw recordings: UTC time of the first sample (ISO 8601)")
    add_ephemeris_arguments(p, mode_flag="--doppler-mode")
    p.set_defaults(func=run)


def _default_out(path: Path) -> Path:
    name = path.name.split(".sigmf")[0]
    for suffix in ("_0x", "_0y"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return path.parent / f"{name}_decoded"


def _doppler_profile(args, rec):
    t0 = rec.sample_unix_time(0)
    t1 = t0 + rec.duration_s
    if args.doppler is not None and has_ephemeris_source(args):
        raise UserError("give either --doppler FILE or ephemeris options (--kernels/--horizons), not both")
    if args.doppler is not None:
        prof = read_doppler_profile(args.doppler)
        if not prof.covers(t0, t1):
            log.warning(f"the Doppler file covers {prof.start:.0f}..{prof.end:.0f} (UNIX s) but the recording "
                        f"spans {t0:.0f}..{t1:.0f}; outside it the end values are held")
        return prof, None
    if has_ephemeris_source(args) or ephemeris_requested(args):
        require_ephemeris_source(args)
        return profile_from_args(args, t0 - 2, rec.duration_s + 4), request_from_args(args)
    return None, None


class _Progress:
    """A one-line live display on stderr: percentage, frames ok / failed, C/N0, lock state."""

    def __init__(self, total_s: float, enabled: bool) -> None:
        self.enabled = enabled
        self.total_s = total_s
        self.t0 = time.monotonic()
        self.last = 0.0
        self.stats = None

    def __call__(self, p) -> None:
        self.stats = p  # the latest figures, kept for the report at the end
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.5:
            return
        self.last = now
        done = p.samples / max(p.samples_total, 1)
        speed = done * self.total_s / max(now - self.t0, 1e-9)
        cn0 = f"{p.cn0_dbhz:5.1f} dB-Hz" if math.isfinite(p.cn0_dbhz) else "  --- dB-Hz"
        bar = "#" * int(20 * done)
        print(f"\r[{bar:<20}] {100 * done:5.1f}%  frames ok {p.frames_ok:5d}  failed {p.frames_failed:4d}  "
              f"C/N0 {cn0}  {'locked' if p.locked else 'NO LOCK'}  {speed:5.1f}x real time",
              end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled and self.last:
            print(file=sys.stderr)



def _doppler_mode(request) -> str:
    """one-way, two-way or three-way: the request's mode, else from its stations."""
    if request is None:
        return "one-way"
    if request.mode:
        return str(request.mode)
    return "one-way" if not request.tx else ("two-way" if request.tx == request.rx else "three-way")


def _plot_allan(out: Path) -> None:
    """allan_deviation.png from radio_science.json, when the carrier gave enough good 1 s points."""
    import json

    doc_path = out / "radio_science.json"
    if not doc_path.is_file():
        return
    doc = json.loads(doc_path.read_text(encoding="ascii"))
    if doc.get("allan", {}).get("table"):
        from heradecode.plot.allan import plot_allan_deviation

        plot_allan_deviation(doc, path=out / "allan_deviation.png")
        print(f"plot: {out / 'allan_deviation.png'}")


def _write_residuals(out: Path, carrier, profile, offset_hz: float = 0.0) -> None:
    """Observed minus predicted Doppler on the 1 s carrier points: residuals.csv and doppler_residuals.png."""
    from heradecode.products.carrier import CarrierObservable, compute_residuals
    from heradecode.plot import plot_residuals

    inside = (carrier.unix_time >= profile.start) & (carrier.unix_time <= profile.end)
    if not inside.any():
        return
    sub = CarrierObservable(*(np.asarray(a)[inside] for a in (carrier.unix_time, carrier.doppler_hz,
                                                               carrier.cn0_dbhz, carrier.locked)))
    res = compute_residuals(sub, profile.shifted(offset_hz) if offset_hz else profile)
    res.write_csv(out / "residuals.csv")
    if res.n_locked:
        plot_residuals(res, title="Carrier Doppler: observed − predicted", path=out / "doppler_residuals.png")
        stated = (f", after the receiver offset of {offset_hz:+.0f} Hz the recording's metadata states"
                  if offset_hz else "")
        print(f"Doppler residual (observed − predicted{stated}) on {res.n_locked} locked 1 s points: "
              f"mean {res.mean_hz():+.2f} Hz, rms {res.rms_hz():.2f} Hz")
        if abs(res.mean_hz()) > LARGE_RESIDUAL_HZ:
            print(f"  a constant residual this large is the receiver's frequency error (LO offset, or the centre "
                  f"frequency in the metadata) or an ephemeris error, not a decoding problem; state a known "
                  f"receiver offset as {RECEIVER_OFFSET_KEY} in the SigMF global metadata")


def run(args: argparse.Namespace) -> int:
    # The receiver pulls in numba and scipy: imported here so that other commands start quickly.
    from heradecode.io import open_recording
    from heradecode.products.decodelog import DecodeWriter
    from heradecode.products.telemetry import TelemetryProcessor
    from heradecode.receiver import ReceiverConfig, decode_header, decode_recording, detect_mode

    mission = mission_from_args(args)
    base = ReceiverConfig.from_mission(mission, args.mode)  # refuses, in one line, a link we cannot decode
    rec = open_recording(args.recording, samp_rate=args.samp_rate, center_freq_hz=args.center_freq,
                         start_time=args.start_time, allow_truncated=True)
    if rec.num_samples == 0:
        raise NothingDecoded("the recording holds no samples")
    profile, request = _doppler_profile(args, rec)
    downlink_hz = args.downlink_mhz * 1e6 if args.downlink_mhz else mission.downlink_freq_hz
    if downlink_hz is None:  # not in the mission's profile: the carrier is expected at the centre frequency
        downlink_hz = rec.center_freq_hz
    workers = (os.cpu_count() or 1) if args.workers == 0 else max(1, args.workers)
    base = ReceiverConfig.from_mission(mission, args.mode, carrier_offset_hz=args.carrier_offset,
                                       downlink_freq_hz=downlink_hz, acq_window_hz=args.acq_window,
                                       pll_bandwidth_hz=args.pll_bandwidth, max_iterations=args.iterations,
                                       symbol_rate_baud=args.symbol_rate, decoder_threads=1 if workers > 1 else None,
                                       **({"max_rate_out_sps": None} if args.full_band else {}))
    mode = args.mode
    if mode == "auto" and args.symbol_rate is None:
        try:
            mode = detect_mode(rec, base, doppler=profile)
        except UserError as exc:  # the recording was read but holds no signal we can use
            raise NothingDecoded(str(exc)) from None
        print(f"heradecode decode: detected {mode} rate ({dict(base.modes)[mode] / 1e3:g} kbaud)", file=sys.stderr)
    elif mode == "auto":
        mode = "high" if "high" in dict(base.modes) else base.mode
    config = ReceiverConfig(**{**base.__dict__, "mode": mode})
    out = args.out if args.out is not None else _default_out(rec.paths[0])
    if out.exists() and not out.is_dir():
        raise UserError(f"--out must be a directory: {out} is a file")
    telemetry = TelemetryProcessor(mission=mission, out_dir=out)
    writer = DecodeWriter(out, recording=rec, telemetry=telemetry)
    progress = _Progress(rec.duration_s, enabled=not args.quiet and sys.stderr.isatty())
    t_start = time.monotonic()
    try:
        for cbs, track in decode_recording(rec, config, doppler=profile, mission=mission, workers=workers,
                                           on_progress=progress):
            writer.add_track(track)
            for cb in cbs:
                writer.add(cb)
    except KeyboardInterrupt:
        print("\nheradecode decode: interrupted; writing what was decoded so far", file=sys.stderr)
    finally:
        progress.close()
        header = decode_header(rec, config, progress.stats, mission=args.mission, doppler_mode=_doppler_mode(request))
        carrier = writer.close(header)
        n_ok, n_failed, n_suspect = writer.n_frames, writer.n_failed, writer.n_suspect
        if request is not None or args.doppler is not None:
            save_request(out / "doppler.json", request,
                         doppler_file=str(args.doppler.resolve()) if args.doppler is not None else None)
        if profile is not None:
            _write_residuals(out, carrier, profile, rec.receiver_offset_hz)
    if getattr(args, "tdm", None):
        from heradecode.cli.tdm import export_tdm

        try:
            # the usual intervals the recording holds at least twice (0.1 s for recordings under 2 s)
            intervals = [t for t in (1.0, 10.0, 60.0) if 2 * t <= rec.duration_s] or [0.1]
            tdm_path, _ = export_tdm(out, args, args.tdm, intervals)
            print(f"TDM written to {tdm_path}")
        except UserError as exc:  # the decode itself went well: say why there is no TDM
            print(f"heradecode decode: no TDM written: {exc}", file=sys.stderr)
    elapsed = time.monotonic() - t_start
    summary = telemetry.summary()
    print(summary.format_text(mission))
    locked = carrier.locked
    lock_pct = 100.0 * locked.mean() if locked.size else 0.0
    print(f"codeblocks: {n_ok + n_failed + n_suspect} found, {n_ok} frames decoded, {n_failed} failed CRC, "
          f"{n_suspect} suspect (CRC ok, wrong spacecraft/version)")
    print(f"carrier locked {lock_pct:.0f}% of the time; {rec.duration_s:.1f} s decoded in {elapsed:.1f} s "
          f"({rec.duration_s / max(elapsed, 1e-9):.1f}x real time, {workers} worker{'s' if workers > 1 else ''})")
    bad = header.counters
    if bad["sync_attempts"]:
        print(f"weak markers decided by decoding: {bad['sync_attempts']} tried, {bad['sync_confirmed']} confirmed")
    if bad["lookbacks"]:
        print(f"look-back: the signal before each lock demodulated again {bad['lookbacks']} time(s), "
              f"{bad['lookback_failures']} of them without a match to the live symbol grid")
    if bad["nonfinite_samples"] or bad["blanked_samples"] or bad["soft_outliers"]:
        print(f"corrupt input skipped: {bad['nonfinite_samples']} NaN/infinite samples read as 0, "
              f"{bad['blanked_samples']} burst samples blanked, {bad['soft_outliers']} soft symbols erased")
    print(f"products written to {out}/")
    if args.plots:
        from heradecode.plot import write_decode_plots
        from heradecode.receiver import soft_symbol_sample

        np.save(out / "soft_symbols.npy", soft_symbol_sample(rec, config, doppler=profile))
        for path in write_decode_plots(out, recording=rec, doppler_profile=profile):
            print(f"plot: {path}")
        _plot_allan(out)
    if args.archive is not None:
        from heradecode.archive import ingest_decode_folder

        res = ingest_decode_folder(args.archive, out)
        print(f"archived in {args.archive} as item {res.decode_id} version {res.version}"
              + ("" if res.created else " (already there)"))
    if n_ok == 0:
        why = "no carrier found" if not locked.any() else "carrier found but no frame decoded (wrong mode?)"
        print(f"heradecode decode: no frames decoded: {why}", file=sys.stderr)
        return 1
    return 0

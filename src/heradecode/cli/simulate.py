"""``heradecode simulate``: write a Hera-like SigMF recording with its ground truth."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from heradecode.cli._mission import add_mission_argument, mission_from_args
from heradecode.errors import UserError
from heradecode.io.dopplerfile import read_doppler_profile
from heradecode.io.recording import parse_utc, unix_seconds
from heradecode.sim import SimParams, read_truth, simulate
from heradecode.sim.params import LAYOUTS, WRITABLE_DATATYPES


def _ebn0(text: str) -> float | str:
    if text.lower() in ("none", "inf", "noiseless"):
        return "none"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def parse_fades(text: str) -> list[tuple[float, float]]:
    """'t:dB,t:dB,...' (seconds from the start, gain in dB; 'off' or -inf for a drop-out) or a file of lines."""
    path = Path(text)
    if path.is_file():
        items = [ln.split("#")[0].replace(",", " ").split() for ln in path.read_text().splitlines()]
        pairs = [(a[0], a[1]) for a in items if len(a) >= 2]
    else:
        pairs = []
        for item in text.split(","):
            if not item.strip():
                continue
            if ":" not in item:
                raise UserError(f"bad fade point {item!r}: use seconds:dB, e.g. 2:-3,2.5:off")
            a, b = item.split(":", 1)
            pairs.append((a, b))
    out = []
    for a, b in pairs:
        b = b.strip().lower()
        try:
            out.append((float(a), -math.inf if b in ("off", "-inf", "drop") else float(b)))
        except ValueError:
            raise UserError(f"bad fade point {a}:{b}: use seconds:dB") from None
    if not out:
        raise UserError(f"no fade points in {text!r}")
    return out


def register(subparsers) -> None:
    """Add the ``simulate`` sub-command."""
    p = subparsers.add_parser(
        "simulate",
        help="write a simulated Hera-like dual-polarization SigMF recording with ground truth",
        description=(
            "Frames -> CRC-16 -> CCSDS turbo r=1/4 -> randomizer -> ASM -> bi-phase-L -> residual-carrier PM -> "
            "Doppler, offsets -> dual linear polarization -> noise at a target Eb/N0 -> fades -> SigMF. "
            "Writes OUT.sigmf-meta/-data (or OUT_0x/OUT_0y with --layout pair) and OUT.truth.json."
        ),
    )
    p.add_argument("out", type=Path, metavar="OUT", help="output base name")
    add_mission_argument(p)
    p.add_argument("--mode", default="high", help="a mode of the mission as preset: symbol rate, modulation index "
                                                  "(default high; Hera: low or high)")
    p.add_argument("--params", type=Path, help="start from the parameters of a .truth.json sidecar (regenerate)")
    src = p.add_argument_group("frames")
    src.add_argument("--frames", type=Path, help=".u8 file of 1113-octet frames (default: generated PUS frames)")
    src.add_argument("--first-frame", type=int, help="first frame of the file to send")
    src.add_argument("--num-frames", type=int, help="codeblocks to send")
    src.add_argument("--duration", type=float, help="recording length (s); frames are cycled to fill it")
    src.add_argument("--lead-in", type=float, help="random symbols before the first ASM (s)")
    src.add_argument("--tail", type=float, help="random symbols after the last codeblock (s)")
    sig = p.add_argument_group("signal")
    sig.add_argument("--symbol-rate", type=float, help="coded symbol rate (baud) before bi-phase-L")
    sig.add_argument("--mod-index", type=float, help="modulation index (rad)")
    sig.add_argument("--samp-rate", type=float, help="sample rate (samples/s), default 6.144e6")
    sig.add_argument("--oversample", type=int, help="anti-aliasing: 1 integrate and dump (default); L > 1 made at "
                                                    "L x the rate and low-pass filtered, as an SDR's channel filter")
    sig.add_argument("--center-freq", type=float, help="recording centre frequency (Hz)")
    sig.add_argument("--carrier-offset", type=float, help="nominal carrier minus centre frequency (Hz)")
    sig.add_argument("--start-time", help="UTC time of the first sample (ISO-8601)")
    sig.add_argument("--doppler", type=Path, help="Doppler profile file: 'unix_time hz' lines")
    sig.add_argument("--doppler-rate", type=float, help="instead of a file: Doppler ramp from 0 Hz (Hz/s)")
    sig.add_argument("--clock-ppm", type=float, help="symbol clock offset (ppm)")
    sig.add_argument("--carrier-phase", type=float, help="carrier phase at sample 0 (rad; default random)")
    sig.add_argument("--timing-offset", type=float, help="symbol fraction elapsed at sample 0 (default random)")
    sig.add_argument("--pol-angle", type=float, help="polarization angle (deg): X=cos, Y=sin")
    sig.add_argument("--pol-rotation", type=float, help="polarization rotation rate (deg/s)")
    sig.add_argument("--pol-phase", type=float, help="phase of Y relative to X (deg)")
    ch = p.add_argument_group("channel and output")
    ch.add_argument("--ebn0", type=_ebn0, help="Eb/N0 per information bit (dB); 'none' for no noise")
    ch.add_argument("--fades", help="gain profile 't:dB,...' (dB; 'off' = drop-out) or a file of 't dB' lines")
    ch.add_argument("--datatype", choices=WRITABLE_DATATYPES, help="sample type (default ci16_le)")
    ch.add_argument("--layout", choices=LAYOUTS, help="one 2-channel file or an _0x/_0y pair")
    ch.add_argument("--rms-level", type=float, help="RMS per component as a fraction of full scale")
    ch.add_argument("--seed", type=int, help="seed of every random quantity (default 0)")
    ch.add_argument("--chunk", type=int, default=1 << 18, help="samples per processing chunk")
    ch.add_argument("--progress", action="store_true", help="show a progress bar")
    p.set_defaults(func=run)


_MAP = {
    "first_frame": "first_frame",
    "num_frames": "num_frames",
    "duration": "duration_s",
    "lead_in": "lead_in_s",
    "tail": "tail_s",
    "symbol_rate": "symbol_rate",
    "mod_index": "mod_index_rad",
    "samp_rate": "samp_rate",
    "oversample": "oversample",
    "center_freq": "center_freq_hz",
    "carrier_offset": "carrier_offset_hz",
    "start_time": "start_time",
    "clock_ppm": "clock_offset_ppm",
    "carrier_phase": "carrier_phase_rad",
    "timing_offset": "timing_offset_sym",
    "pol_angle": "pol_angle_deg",
    "pol_rotation": "pol_rotation_deg_s",
    "pol_phase": "pol_phase_deg",
    "datatype": "datatype",
    "layout": "layout",
    "rms_level": "rms_level_fs",
    "seed": "seed",
}


def params_from_args(args: argparse.Namespace) -> SimParams:
    """SimParams from the preset (or --params) and the options given."""
    if args.params is not None:
        params = read_truth(args.params).params
    else:
        params = SimParams.preset(args.mode, mission_from_args(args))
    values = params.to_dict()
    values["fades"] = params.fades
    for opt, name in _MAP.items():
        v = getattr(args, opt)
        if v is not None:
            values[name] = v
    if args.symbol_rate is not None or args.mod_index is not None:
        values["mode"] = "custom" if args.symbol_rate is not None else values["mode"]
    if args.ebn0 is not None:
        values["ebn0_db"] = None if args.ebn0 == "none" else args.ebn0
    if args.frames is not None:
        values["frames_path"] = str(args.frames)
    if args.fades is not None:
        values["fades"] = parse_fades(args.fades)
    if args.doppler is not None and args.doppler_rate is not None:
        raise UserError("give --doppler or --doppler-rate, not both")
    if args.doppler is not None:
        prof = read_doppler_profile(args.doppler)
        values["doppler"] = [(float(t), float(f)) for t, f in zip(prof.unix_time, prof.freq_hz)]
    if args.doppler_rate is not None:
        t0 = unix_seconds(parse_utc(values["start_time"]))
        values["doppler"] = [(t0, 0.0), (t0 + 1e5, args.doppler_rate * 1e5)]
    return SimParams.from_dict(values)


def run(args: argparse.Namespace) -> int:
    """Run ``simulate``."""
    params = params_from_args(args)
    truth = simulate(params, args.out, chunk_len=args.chunk, progress=args.progress)
    p = truth.params
    print(
        json.dumps(
            {
                "files": list(truth.data_paths) + list(truth.meta_paths),
                "truth": truth.truth_path,
                "samples": truth.num_samples,
                "duration_s": truth.num_samples / p.samp_rate,
                "codeblocks": truth.num_codeblocks,
                "ebn0_db": p.ebn0_db,
                "esn0_db": truth.esn0_db,
                "cn0_dbhz": truth.cn0_dbhz,
                "clipped_components": truth.clipped_components,
            },
            indent=1,
        )
    )
    return 0

"""``heradecode tdm DECODE_DIR``: the carrier Doppler of a decode as a CCSDS Tracking Data Message.

Reads ``carrier_phase.csv`` (the unwrapped carrier phase the receiver tracked) and
``decode.json`` of a decode folder, forms the phase-based Doppler observable at the
integration intervals asked for (:mod:`heradecode.products.radio_science`) and writes
``doppler_tdm.kvn`` or ``doppler_tdm.xml`` (:mod:`heradecode.products.tdm`), plus
``radio_science.json`` and ``doppler_<T>s.csv`` again with the link's mode, and the Allan
deviation plot ``allan_deviation.png`` (:mod:`heradecode.plot.allan`).  The stations,
spacecraft and mode come from the decode's ``doppler.json`` when it has them; the options
below override them.
"""

from __future__ import annotations

import argparse
import math
import json
from pathlib import Path

from heradecode.ccsds.mission import HERA
from heradecode.errors import UserError
from heradecode.products.decodelog import DecodeHeader, read_decode_header

INTERVAL_CHOICES = (1.0, 10.0, 60.0)  #: the usual integration intervals (s)


def register(subparsers) -> None:
    """Add ``heradecode tdm``."""
    p = subparsers.add_parser(
        "tdm",
        help="write a decode's carrier Doppler as a CCSDS Tracking Data Message (KVN or XML)",
        description="Phase-based Doppler (1, 10 or 60 s integration, midpoint UTC tags) of a decode folder as a "
                    "CCSDS 503.0-B-2 TDM: one-way, two-way or three-way, with the station catalogue's names.",
    )
    p.add_argument("decode_dir", metavar="DECODE_DIR", help="output directory of heradecode decode")
    p.add_argument("--format", dest="tdm_format", choices=("kvn", "xml"), default="kvn", help="default kvn")
    p.add_argument("--interval-s", type=float, nargs="+", default=[60.0], metavar="S",
                   help="integration intervals (s), usually 1, 10 or 60 (0.1 for very short recordings); one TDM "
                        "segment each (default 60)")
    p.add_argument("--out", type=Path, metavar="FILE", help="TDM file (default DECODE_DIR/doppler_tdm.<format>)")
    p.add_argument("--open-loop", type=Path, metavar="RECORDING",
                   help="also estimate the Doppler open-loop (FFT and phase slope on 1 s blocks of the decimated "
                        "recording) and compare it with the PLL's: 'open_loop' in radio_science.json")
    add_link_arguments(p)
    p.set_defaults(func=run)


def add_link_arguments(p: argparse.ArgumentParser) -> None:
    """--rx, --tx, --doppler-mode, --spacecraft, --uplink-mhz, --turnaround (the TDM's participants)."""
    g = p.add_argument_group("participants (default: the decode's doppler.json)")
    if not any(a.dest == "rx" for a in p._actions):
        g.add_argument("--rx", help="receiving station (catalogue name, e.g. ATA)")
        g.add_argument("--tx", help="transmitting station for two/three-way Doppler (e.g. DSS-24)")
        g.add_argument("--doppler-mode", dest="doppler_mode", choices=("one-way", "two-way", "three-way"),
                       help="default: three-way if --tx differs from --rx, two-way if equal, else one-way")
        g.add_argument("--spacecraft", help="spacecraft participant (default HERA)")
        g.add_argument("--uplink-mhz", type=float, help="uplink frequency, MHz (default downlink / turnaround)")
        g.add_argument("--turnaround", help="coherent turnaround ratio (default 880/749)")


def _link(decode_dir: Path, args: argparse.Namespace):
    from heradecode.ephem.doppler import X_BAND_TURNAROUND
    from heradecode.ephem.predict import parse_turnaround
    from heradecode.products.tdm import TdmLink

    base = None
    if (decode_dir / "doppler.json").is_file():
        from heradecode.cli.doppler import load_request

        base, _ = load_request(decode_dir / "doppler.json")

    def name(st):
        return st if isinstance(st, str) or st is None else st.name

    given = bool(getattr(args, "rx", None) or getattr(args, "tx", None))
    if given or base is None:  # stations on the command line: they decide the mode again
        rx = getattr(args, "rx", None) or (name(base.rx) if base is not None else None)
        tx = getattr(args, "tx", None)
        mode = getattr(args, "doppler_mode", None)
    else:
        rx, tx = name(base.rx), name(base.tx)
        mode = getattr(args, "doppler_mode", None) or base.mode
    if not rx:
        raise UserError(f"no receiving station: {decode_dir} has no doppler.json naming one; give --rx (e.g. --rx ATA)")
    if not mode:
        mode = "one-way" if not tx else ("two-way" if tx == rx else "three-way")
    spacecraft = getattr(args, "spacecraft", None) or (str(base.spacecraft) if base is not None else "HERA")
    uplink = getattr(args, "uplink_mhz", None)
    uplink_hz = uplink * 1e6 if uplink is not None else (base.uplink_hz if base is not None else None)
    turn = getattr(args, "turnaround", None)
    turnaround = parse_turnaround(turn) if turn else (base.turnaround if base is not None else X_BAND_TURNAROUND)
    return TdmLink(mode, rx, spacecraft.upper(), tx, uplink_hz, turnaround).resolved()


def export_tdm(decode_dir: Path, args: argparse.Namespace, fmt: str = "kvn",
               intervals_s=(60.0,), out: Path | None = None, plot: bool = True) -> tuple[Path, dict]:
    """Write the TDM, radio_science.json and allan_deviation.png of a decode folder; returns (TDM path, document)."""
    from heradecode.products import radio_science as rs
    from heradecode.products.tdm import build_tdm, write_tdm

    decode_dir = Path(decode_dir)
    if not decode_dir.is_dir():
        raise UserError(f"decode directory not found: {decode_dir}")
    for t in intervals_s:
        if not 0.1 <= float(t) <= 3600.0:
            raise UserError(f"integration interval must be between 0.1 and 3600 s (1, 10 or 60 usually), not {t:g}")
    header = read_decode_header(decode_dir) if (decode_dir / "decode.json").is_file() else DecodeHeader()
    downlink_hz = header.downlink_freq_hz if math.isfinite(header.downlink_freq_hz) else HERA.link.downlink_freq_hz
    loop_bw = header.pll_bandwidth_hz if math.isfinite(header.pll_bandwidth_hz) else 15.0
    link = _link(decode_dir, args)
    factor = rs.count_factor(link.mode)
    track = rs.read_phase_csv(decode_dir / "carrier_phase.csv")
    doc = rs.write_radio_science(decode_dir, track, downlink_hz, loop_bandwidth_hz=loop_bw, count_factor=factor,
                                 mode=link.mode)
    obs = [rs.doppler_observable(track, float(t), downlink_hz, count_factor=factor)
           for t in sorted(set(float(t) for t in intervals_s))]
    if doc["allan"]["table"] and plot:
        from heradecode.plot.allan import plot_allan_deviation

        plot_allan_deviation(doc, path=decode_dir / "allan_deviation.png")
    msg = build_tdm(obs, link, comments=(f"heradecode carrier Doppler of {header.recording or decode_dir.name}",))
    path = out if out is not None else decode_dir / f"doppler_tdm.{fmt}"
    return write_tdm(path, msg, fmt), doc


def open_loop_check(decode_dir: Path, recording_path: Path, doc: dict) -> dict:
    """Open-loop Doppler of the recording compared with the closed-loop 1 s points; stored in radio_science.json."""
    from heradecode.io import open_recording
    from heradecode.products import radio_science as rs
    from heradecode.products.open_loop import open_loop_doppler, smooth_model

    rec = open_recording(recording_path, allow_truncated=True)
    track = rs.read_phase_csv(decode_dir / "carrier_phase.csv")
    model = smooth_model(track.unix_time, track.doppler_hz, track.locked)
    ol = open_loop_doppler(rec, model, float(doc["downlink_hz"]))
    closed = rs.doppler_observable(track, 1.0, float(doc["downlink_hz"]))
    cmp = rs.compare_open_loop(closed, ol.unix_time, ol.doppler_hz)

    def num(x):
        return float(x) if x == x else None  # NaN (nothing compared) as JSON null

    doc["open_loop"] = {"block_s": ol.block_s, "blocks": int(ol.unix_time.size),
                        "model": "cubic fit of the locked carrier track rows",
                        "closed_minus_open_mean_hz": num(cmp["mean_hz"]),
                        "closed_minus_open_rms_hz": num(cmp["rms_hz"]), "points_compared": cmp["n"]}
    (decode_dir / "radio_science.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="ascii")
    return doc["open_loop"]


def run(args: argparse.Namespace) -> int:
    """Run ``heradecode tdm``."""
    path, doc = export_tdm(Path(args.decode_dir), args, args.tdm_format, args.interval_s, args.out)
    parts = [f"{k} {v['good']}/{v['points']} good" for k, v in doc["intervals"].items()
             if float(v["interval_s"]) in [float(t) for t in args.interval_s]]
    noise = doc.get("range_rate_noise_mm_s_60s")
    noise_text = f"; range-rate noise at 60 s {noise:.4f} mm/s" if noise is not None else ""
    print(f"TDM ({doc['mode']}, {', '.join(parts)}) -> {path}{noise_text}")
    if args.open_loop is not None:
        ol = open_loop_check(Path(args.decode_dir), args.open_loop, doc)
        if ol["points_compared"]:
            mean_mhz, rms_mhz = ol["closed_minus_open_mean_hz"] * 1e3, ol["closed_minus_open_rms_hz"] * 1e3
            print(f"open-loop check: closed minus open loop on {ol['points_compared']} 1 s points: "
                  f"mean {mean_mhz:+.2f} mHz, rms {rms_mhz:.2f} mHz")
        else:
            print(f"open-loop check: {ol['blocks']} open-loop blocks, no good closed-loop 1 s point to compare")
    return 0

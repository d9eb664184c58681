"""``heradecode missions``: list the bundled mission profiles, or show one (a name or a .toml file)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from heradecode.missions import MissionProfile, bundled_missions, load_mission


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "missions",
        help="list the mission profiles, or show one",
        description="Without an argument: one line per bundled mission profile. With a name or a .toml "
                    "file: every fact of that profile (after validation).",
    )
    p.add_argument("mission", nargs="?", metavar="NAME|FILE", help="a bundled mission name or a profile file")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=run)


def _scid(profile: MissionProfile) -> str:
    return "unknown" if profile.scid is None else f"0x{profile.scid:X}"


def _coding(profile: MissionProfile) -> str:
    c = profile.coding
    if c.scheme == "turbo":
        return f"turbo k={c.turbo_k} r=1/{c.turbo_inv_rate}"
    if c.scheme == "convolutional+reed-solomon":
        return f"conv r=1/2 + RS(255,223) I={c.rs_interleave_depth}"
    return c.scheme


def _modes(profile: MissionProfile) -> str:
    return ", ".join(f"{m.name} {m.symbol_rate_baud:.10g} Bd" for m in profile.link.modes)


def summary_row(name: str, profile: MissionProfile) -> dict[str, str]:
    """One row of the list: name, spacecraft, frames, SCID, packets, coding, modes."""
    pus = {0: "space packets", 1: "PUS-A", 2: "PUS-C"}[profile.packets.pus_version]
    return {"name": name, "spacecraft": f"{profile.name} ({profile.agency})", "frames": profile.frames.type,
            "scid": _scid(profile), "packets": pus, "coding": _coding(profile), "modes": _modes(profile)}


def describe(profile: MissionProfile) -> str:
    """A readable multi-line description of one profile."""
    f, p, c, e = profile.frames, profile.packets, profile.coding, profile.ephemeris
    freq = "unknown" if profile.downlink_freq_hz is None else f"{profile.downlink_freq_hz / 1e6:.6f} MHz"
    lines = [f"{profile.name} ({profile.agency}), from {profile.source}",
             f"  link       downlink {freq}, polarization: {profile.link.polarization}"]
    for m in profile.link.modes:
        extra = "" if m.subcarrier_hz is None else f", subcarrier {m.subcarrier_hz:g} Hz"
        extra += "" if m.modulation_index_rad is None else f", modulation index {m.modulation_index_rad:g} rad"
        lines.append(f"    mode {m.name}: {m.symbol_rate_baud:.10g} baud, {m.modulation.upper()}{extra}")
    lines.append(f"  coding     {_coding(profile)}, randomizer {'on' if c.randomizer else 'off'}, ASM {c.asm_hex}")
    trailer = [name for name, on in (("OCF", f.ocf), ("FECF", f.fecf)) if on]
    opts = f", insert zone {f.insert_zone_octets} octets" if f.insert_zone_octets else ""
    opts += ", FHEC" if f.fhec else ""
    lines.append(f"  frames     {f.type}, SCID {_scid(profile)}, {f.length_octets} octets "
                 f"({' + '.join(trailer) or 'no trailer'}{opts}), idle VC {f.idle_vcid}")
    if f.vc_names:
        lines.append("             VCs: " + ", ".join(f"{k} {v}" for k, v in sorted(f.vc_names.items())))
    if p.pus is not None:
        lay = p.pus
        sec = (f"PUS version {p.pus_version} ({'PUS-C' if p.pus_version == 2 else 'PUS-A'}): "
               f"counter {lay.message_counter_octets}, destination {lay.destination_id_octets}, "
               f"CUC {lay.cuc_coarse_octets}+{lay.cuc_fine_octets} octets, PEC {'checked' if p.pec else 'not checked'}")
    elif p.time is not None:
        sec = (f"not PUS; secondary header time: {p.time.coarse_octets}+{p.time.fine_octets} octets "
               f"from {p.time.epoch_utc or 'an unknown epoch'}")
    else:
        sec = "not PUS; no secondary header layout"
    lines.append(f"  packets    {sec}; idle APID {p.idle_apid}, time APID {p.time_apid}")
    lines.append(f"  ephemeris  NAIF {e.naif_id}, HORIZONS {e.horizons_id}, "
                 f"stations {', '.join(e.default_stations) or 'none'}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.mission:
        profile = load_mission(args.mission)
        print(json.dumps(asdict(profile), indent=2, default=str) if args.json else describe(profile))
        return 0
    rows = [summary_row(name, load_mission(name)) for name in bundled_missions()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in keys}
    print("  ".join(k.upper().ljust(widths[k]) for k in keys).rstrip())
    for r in rows:
        print("  ".join(r[k].ljust(widths[k]) for k in keys).rstrip())
    return 0

"""Mission profiles: one TOML file per spacecraft, validated on load into a frozen :class:`MissionProfile`.

A profile holds what CCSDS and ECSS leave to a mission, in five tables::

    name, agency                  the spacecraft's name and operator
    [link]                        downlink_freq_hz, polarization, and [[link.modes]]:
                                  name, symbol_rate_baud, modulation, modulation_index_rad, subcarrier_hz
    [coding]                      scheme ("turbo" | "convolutional+reed-solomon"), turbo k and inv_rate,
                                  randomizer, asm_hex, Reed-Solomon interleave depth
    [frames]                      type ("TM" | "AOS"), scid, length_octets (FECF included), fecf, ocf,
                                  insert_zone_octets, fhec, idle_vcid, [frames.vc_names]
    [packets]                     pus_version (1 = PUS-A, 2 = PUS-C, 0 = none), idle_apid, time_apid,
                                  pec, [packets.pus] (the PUS TM secondary-header layout) or
                                  [packets.time] (a non-PUS secondary header starting with a time field)
    [ephemeris]                   spacecraft (name for SPICE/HORIZONS), naif_id, horizons_id, default_stations

Time fields are CCSDS unsegmented time (CUC, 301.0-B-4 3.2): ``coarse_octets`` of
whole seconds then ``fine_octets`` of binary fraction (2^-8n s), counted from
``epoch_utc`` (ISO 8601; leap seconds are not applied).

Validation: every key is checked for presence and type, unknown keys are errors
(they are typos), and the first problem raises :class:`~heradecode.errors.UserError`
with one line naming the file and the dotted key.  A fact that is not known is
left out of the file (optional keys) with a comment saying so; it is ``None`` in
the profile.

This module depends on the standard library only, so every layer can read a profile.
"""

from __future__ import annotations

import datetime as _dt
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from heradecode.errors import UserError

FrameType = Literal["TM", "AOS"]
CodingScheme = Literal["turbo", "convolutional+reed-solomon", "none"]
Modulation = Literal["pcm/pm/bi-phase-l", "pcm/pm/nrz", "pcm/psk/pm"]

MODULATIONS = ("pcm/pm/bi-phase-l", "pcm/pm/nrz", "pcm/psk/pm")
CODING_SCHEMES = ("turbo", "convolutional+reed-solomon", "none")
FRAME_TYPES = ("TM", "AOS")
FRAME_VERSIONS = {"TM": 0, "AOS": 1}  # transfer frame version number (the first two bits)
DEFAULT_MISSION = "hera"


@dataclass(frozen=True)
class LinkMode:
    """One downlink mode: symbol rate (as received), modulation and subcarrier."""

    name: str
    symbol_rate_baud: float
    modulation: Modulation
    modulation_index_rad: float | None = None
    subcarrier_hz: float | None = None


@dataclass(frozen=True)
class Link:
    """The downlink: carrier frequency, polarization and modes."""

    downlink_freq_hz: float | None
    polarization: str
    modes: tuple[LinkMode, ...]

    def mode(self, name: str) -> LinkMode:
        """The mode called ``name``; UserError naming the known modes otherwise."""
        for m in self.modes:
            if m.name == name:
                return m
        raise UserError(f"no link mode {name!r}; this mission has {', '.join(m.name for m in self.modes)}")


@dataclass(frozen=True)
class Coding:
    """Channel coding: scheme, turbo k and 1/rate, randomizer, ASM."""

    scheme: CodingScheme
    randomizer: bool
    asm_hex: str
    turbo_k: int | None = None
    turbo_inv_rate: int | None = None
    rs_interleave_depth: int | None = None


@dataclass(frozen=True)
class FrameLayout:
    """Transfer frames: TM (132.0-B) or AOS (732.0-B), length with FECF, trailer and header options."""

    type: FrameType
    scid: int | None  # None: not known, any spacecraft ID is accepted
    length_octets: int  # FECF included when ``fecf``
    fecf: bool
    ocf: bool  # AOS: the OCF is present (a managed parameter); TM: the header's OCF flag tells
    insert_zone_octets: int = 0  # AOS only
    fhec: bool = False  # AOS frame header error control (2 octets)
    idle_vcid: int | None = None
    vc_names: dict[int, str] = field(default_factory=dict, hash=False)

    @property
    def version(self) -> int:
        """Transfer frame version number: 0 for TM, 1 for AOS."""
        return FRAME_VERSIONS[self.type]

    @property
    def length_no_fecf_octets(self) -> int:
        """Frame length without its FECF (as frame files hold them)."""
        return self.length_octets - 2 if self.fecf else self.length_octets


@dataclass(frozen=True)
class TimeFormat:
    """A CUC time field: coarse seconds and binary fraction octets from an epoch (UTC, ISO 8601)."""

    coarse_octets: int
    fine_octets: int = 0
    epoch_utc: str | None = None

    @property
    def length(self) -> int:
        """Octets of the time field."""
        return self.coarse_octets + self.fine_octets

    def seconds(self, field_octets: bytes) -> float:
        """Seconds since the epoch that a time field holds."""
        coarse = int.from_bytes(field_octets[: self.coarse_octets], "big")
        fine = int.from_bytes(field_octets[self.coarse_octets : self.length], "big")
        return coarse + (fine / float(1 << (8 * self.fine_octets)) if self.fine_octets else 0.0)

    def utc(self, seconds: float) -> _dt.datetime | None:
        """The UTC instant of ``seconds`` after the epoch (no leap seconds), or None without an epoch."""
        if self.epoch_utc is None:
            return None
        epoch = _dt.datetime.fromisoformat(self.epoch_utc).replace(tzinfo=_dt.timezone.utc)
        return epoch + _dt.timedelta(seconds=seconds)


@dataclass(frozen=True)
class PusTmLayout:
    """Layout of a PUS TM secondary header (PUS-C: ECSS-E-ST-70-41C 7.4.3.1; PUS-A: ECSS-E-70-41A 5.3.1).

    First octet: PUS-C: version (4 bits) + time reference status (4);
    PUS-A: spare bit, version (3 bits), 4 spare bits.  Then service, subtype,
    the message (sub)counter, the destination ID, the CUC time and spare octets.
    """

    pus_version: int = 2
    message_counter_octets: int = 2
    destination_id_octets: int = 2
    cuc_coarse_octets: int = 4
    cuc_fine_octets: int = 2
    has_pfield: bool = False
    spare_octets: int = 0

    @property
    def length(self) -> int:
        """Secondary header length in octets (without the P-field, which is read when present)."""
        return (
            3
            + self.message_counter_octets
            + self.destination_id_octets
            + (1 if self.has_pfield else 0)
            + self.cuc_coarse_octets
            + self.cuc_fine_octets
            + self.spare_octets
        )


@dataclass(frozen=True)
class PacketLayout:
    """Space packets: PUS version (0 = none), secondary header layout, idle and time APIDs, PEC."""

    pus_version: int
    idle_apid: int = 0x7FF
    time_apid: int | None = None
    pec: bool = False
    pus: PusTmLayout | None = None
    time: TimeFormat | None = None  # a non-PUS secondary header: this time field first


@dataclass(frozen=True)
class Ephemeris:
    """Identifiers for trajectory look-ups and the stations that usually receive the mission."""

    naif_id: int | None = None
    horizons_id: str | None = None
    default_stations: tuple[str, ...] = ()
    spacecraft: str | None = None  # the name SPICE and HORIZONS look up (default: the NAIF ID)

    @property
    def target(self) -> str | None:
        """What to ask SPICE or HORIZONS for: the spacecraft name, else the NAIF ID."""
        return self.spacecraft or (None if self.naif_id is None else str(self.naif_id))


@dataclass(frozen=True)
class MissionProfile:
    """Everything mission-specific, from the link to the packets; loaded from one TOML file."""

    name: str
    agency: str
    link: Link
    coding: Coding
    frames: FrameLayout
    packets: PacketLayout
    ephemeris: Ephemeris
    source: str = field(default="", compare=False)  # the file it was read from

    def with_frames(self, **changes: Any) -> "MissionProfile":
        """A copy whose frame layout has ``changes`` (e.g. ``scid``, ``length_octets``)."""
        return replace(self, frames=replace(self.frames, **changes))

    # -- the short names the frame and packet layers use ------------------------
    @property
    def scid(self) -> int | None:
        """Spacecraft ID of the frames (None: not known)."""
        return self.frames.scid

    @property
    def frame_length(self) -> int:
        """Frame length in octets, FECF included."""
        return self.frames.length_octets

    @property
    def frame_length_no_fecf(self) -> int:
        """Frame length in octets without the FECF."""
        return self.frames.length_no_fecf_octets

    @property
    def vc_names(self) -> dict[int, str]:
        """Names of the virtual channels."""
        return self.frames.vc_names

    def vc_name(self, vcid: int) -> str:
        """Human name of a virtual channel, or 'VC<n>'."""
        return self.frames.vc_names.get(vcid, f"VC{vcid}")

    @property
    def pus_tm(self) -> PusTmLayout | None:
        """The PUS TM secondary header layout, None when the packets are not PUS."""
        return self.packets.pus

    @property
    def time_apid(self) -> int | None:
        """APID of the time packets, None when there are none."""
        return self.packets.time_apid

    @property
    def downlink_freq_hz(self) -> float | None:
        """Nominal downlink frequency (Hz), None when not known."""
        return self.link.downlink_freq_hz


# -- schema -------------------------------------------------------------------
# Each table: key -> (type or tuple of types, required, allowed values or None).
_NUM = (int, float)
_SCHEMA: dict[str, dict[str, tuple[Any, bool, tuple | None]]] = {
    "": {"name": (str, True, None), "agency": (str, True, None), "link": (dict, True, None),
         "coding": (dict, True, None), "frames": (dict, True, None), "packets": (dict, True, None),
         "ephemeris": (dict, False, None)},
    "link": {"downlink_freq_hz": (_NUM, False, None), "polarization": (str, True, None),
             "modes": (list, True, None)},
    "link.modes": {"name": (str, True, None), "symbol_rate_baud": (_NUM, True, None),
                   "modulation": (str, True, MODULATIONS), "modulation_index_rad": (_NUM, False, None),
                   "subcarrier_hz": (_NUM, False, None)},
    "coding": {"scheme": (str, True, CODING_SCHEMES), "randomizer": (bool, True, None),
               "asm_hex": (str, True, None), "turbo_k": (int, False, (1784, 3568, 7136, 8920)),
               "turbo_inv_rate": (int, False, (2, 3, 4, 6)), "rs_interleave_depth": (int, False, (1, 2, 3, 4, 5, 8))},
    "frames": {"type": (str, True, FRAME_TYPES), "scid": (int, False, None), "length_octets": (int, True, None),
               "fecf": (bool, True, None), "ocf": (bool, True, None), "insert_zone_octets": (int, False, None),
               "fhec": (bool, False, None), "idle_vcid": (int, False, None), "vc_names": (dict, False, None)},
    "packets": {"pus_version": (int, True, (0, 1, 2)), "idle_apid": (int, False, None),
                "time_apid": (int, False, None), "pec": (bool, False, None), "pus": (dict, False, None),
                "time": (dict, False, None)},
    "packets.pus": {"message_counter_octets": (int, True, (0, 1, 2)),
                    "destination_id_octets": (int, True, (0, 1, 2)),
                    "cuc_coarse_octets": (int, True, (1, 2, 3, 4)), "cuc_fine_octets": (int, True, (0, 1, 2, 3)),
                    "has_pfield": (bool, False, None), "spare_octets": (int, False, None)},
    "packets.time": {"coarse_octets": (int, True, (1, 2, 3, 4)), "fine_octets": (int, False, (0, 1, 2, 3)),
                     "epoch_utc": (str, False, None)},
    "ephemeris": {"spacecraft": (str, False, None), "naif_id": (int, False, None), "horizons_id": (str, False, None),
                  "default_stations": (list, False, None)},
}


class _Checker:
    """Checks one file's tables against the schema; every failure is one line naming file and key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> UserError:
        return UserError(" ".join(f"mission profile {self.source}: {key}: {problem}".split()))

    def table(self, data: Any, path: str, where: str | None = None) -> dict[str, Any]:
        where = path if where is None else where
        if not isinstance(data, dict):
            raise self.fail(where or "(top level)", "must be a table")
        spec = _SCHEMA[path]
        for key in data:
            if key not in spec:
                raise self.fail(_join(where, key), f"unknown key (known: {', '.join(spec)})")
        for key, (types, required, allowed) in spec.items():
            full = _join(where, key)
            if key not in data:
                if required:
                    raise self.fail(full, "missing")
                continue
            value = data[key]
            ok = isinstance(value, types) and not (isinstance(value, bool) and types in (int, _NUM))
            if not ok:
                raise self.fail(full, f"expected {_type_name(types)}, got {value!r}")
            if allowed is not None and value not in allowed:
                raise self.fail(full, f"{value!r} is not one of {', '.join(map(repr, allowed))}")
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0 \
                    and key not in ("naif_id",):
                raise self.fail(full, f"must not be negative, got {value!r}")
        return data


def _join(where: str, key: str) -> str:
    shown = key if key.replace("-", "_").isidentifier() or key.isdigit() else repr(key)
    return f"{where}.{shown}" if where else shown


def _type_name(types: Any) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "a table",
             list: "an array"}
    if types == _NUM:
        return "a number"
    return names.get(types, str(types))


def profile_from_dict(data: dict[str, Any], source: str = "<dict>") -> MissionProfile:
    """Validate a parsed profile and build the MissionProfile; UserError naming ``source`` and the key."""
    ck = _Checker(source)
    top = ck.table(data, "")
    link = ck.table(top["link"], "link")
    if not link["modes"]:
        raise ck.fail("link.modes", "at least one mode is needed")
    modes = []
    for i, m in enumerate(link["modes"]):
        m = ck.table(m, "link.modes", f"link.modes[{i}]")
        if m["symbol_rate_baud"] <= 0:
            raise ck.fail(f"link.modes[{i}].symbol_rate_baud", "must be positive")
        modes.append(LinkMode(m["name"], float(m["symbol_rate_baud"]), m["modulation"],
                              _opt_float(m.get("modulation_index_rad")), _opt_float(m.get("subcarrier_hz"))))
    if len({m.name for m in modes}) != len(modes):
        raise ck.fail("link.modes", "two modes have the same name")
    coding = ck.table(top["coding"], "coding")
    asm = coding["asm_hex"]
    try:
        if not asm or len(asm) % 2:
            raise ValueError
        bytes.fromhex(asm)
    except ValueError:
        raise ck.fail("coding.asm_hex", f"not a whole number of hex octets: {asm!r}") from None
    if coding["scheme"] == "turbo":
        for key in ("turbo_k", "turbo_inv_rate"):
            if key not in coding:
                raise ck.fail(f"coding.{key}", "missing (needed by the turbo scheme)")
    frames = ck.table(top["frames"], "frames")
    scid = frames.get("scid")
    scid_bits = 10 if frames["type"] == "TM" else 8
    if scid is not None and scid >= 1 << scid_bits:
        raise ck.fail("frames.scid", f"{frames['type']} spacecraft IDs have {scid_bits} bits, {scid} is too large")
    vc_bits = 3 if frames["type"] == "TM" else 6
    vc_names: dict[int, str] = {}
    for key, value in frames.get("vc_names", {}).items():
        where = f"frames.vc_names.{key}"
        if not key.isdigit() or int(key) >= 1 << vc_bits:
            raise ck.fail(where, f"a VCID is an integer 0..{(1 << vc_bits) - 1}")
        if not isinstance(value, str):
            raise ck.fail(where, f"expected a string, got {value!r}")
        vc_names[int(key)] = value
    idle_vcid = frames.get("idle_vcid")
    if idle_vcid is not None and idle_vcid >= 1 << vc_bits:
        raise ck.fail("frames.idle_vcid", f"a VCID is an integer 0..{(1 << vc_bits) - 1}")
    if frames["type"] == "TM" and (frames.get("insert_zone_octets") or frames.get("fhec")):
        raise ck.fail("frames.insert_zone_octets", "TM frames have no insert zone or header error control")
    trailer = (2 if frames["fecf"] else 0) + (4 if frames["ocf"] else 0)
    header = (6 + (2 if frames.get("fhec") else 0) + frames.get("insert_zone_octets", 0)
              + (2 if frames["type"] == "AOS" else 0))  # primary header, FHEC, insert zone, M_PDU header
    if frames["length_octets"] <= header + trailer:
        raise ck.fail("frames.length_octets", f"{frames['length_octets']} octets leave no data field")
    if coding["scheme"] == "turbo" and frames["length_octets"] * 8 != coding["turbo_k"]:
        raise ck.fail("frames.length_octets", f"a turbo codeblock of k={coding['turbo_k']} bits carries "
                                              f"{coding['turbo_k'] // 8}-octet frames, not {frames['length_octets']}")
    frame_layout = FrameLayout(frames["type"], scid, frames["length_octets"], frames["fecf"], frames["ocf"],
                               frames.get("insert_zone_octets", 0), frames.get("fhec", False), idle_vcid, vc_names)
    packets = ck.table(top["packets"], "packets")
    pus = None
    if packets["pus_version"]:
        if "pus" not in packets:
            raise ck.fail("packets.pus", f"missing (needed with pus_version {packets['pus_version']})")
        p = ck.table(packets["pus"], "packets.pus")
        pus = PusTmLayout(pus_version=packets["pus_version"], message_counter_octets=p["message_counter_octets"],
                          destination_id_octets=p["destination_id_octets"],
                          cuc_coarse_octets=p["cuc_coarse_octets"], cuc_fine_octets=p["cuc_fine_octets"],
                          has_pfield=p.get("has_pfield", False), spare_octets=p.get("spare_octets", 0))
    elif "pus" in packets:
        raise ck.fail("packets.pus", "given, but pus_version is 0 (no PUS)")
    time = None
    if "time" in packets:
        if pus is not None:
            raise ck.fail("packets.time", "a PUS secondary header has its time in packets.pus")
        t = ck.table(packets["time"], "packets.time")
        if "epoch_utc" in t:
            try:
                _dt.datetime.fromisoformat(t["epoch_utc"])
            except ValueError:
                raise ck.fail("packets.time.epoch_utc", f"not an ISO 8601 date: {t['epoch_utc']!r}") from None
        time = TimeFormat(t["coarse_octets"], t.get("fine_octets", 0), t.get("epoch_utc"))
    for key in ("idle_apid", "time_apid"):
        if packets.get(key, 0) > 0x7FF:
            raise ck.fail(f"packets.{key}", "an APID is an integer 0..2047")
    packet_layout = PacketLayout(packets["pus_version"], packets.get("idle_apid", 0x7FF), packets.get("time_apid"),
                                 packets.get("pec", False), pus, time)
    eph = ck.table(top.get("ephemeris", {}), "ephemeris")
    stations = eph.get("default_stations", [])
    if not all(isinstance(s, str) for s in stations):
        raise ck.fail("ephemeris.default_stations", "must be an array of station names")
    return MissionProfile(
        name=top["name"], agency=top["agency"],
        link=Link(_opt_float(link.get("downlink_freq_hz")), link["polarization"], tuple(modes)),
        coding=Coding(coding["scheme"], coding["randomizer"], coding["asm_hex"].upper(), coding.get("turbo_k"),
                      coding.get("turbo_inv_rate"), coding.get("rs_interleave_depth")),
        frames=frame_layout, packets=packet_layout,
        ephemeris=Ephemeris(eph.get("naif_id"), eph.get("horizons_id"), tuple(stations), eph.get("spacecraft")),
        source=source,
    )


#: the links heradecode's receiver and simulator demodulate and decode
SUPPORTED_MODULATIONS = ("pcm/pm/bi-phase-l",)
SUPPORTED_CODING = ("turbo",)


def usable_modes(profile: MissionProfile) -> tuple[LinkMode, ...]:
    """The profile's modes that the receiver can take (residual-carrier PCM/PM/bi-phase-L, no subcarrier)."""
    if profile.coding.scheme not in SUPPORTED_CODING:
        return ()
    return tuple(m for m in profile.link.modes if m.modulation in SUPPORTED_MODULATIONS and not m.subcarrier_hz)


def unsupported_link(profile: MissionProfile, mode: str | None = None) -> str | None:
    """Why the receiver cannot take this mission's link (``mode``: that mode, None: any of them), or None."""
    if profile.coding.scheme not in SUPPORTED_CODING:
        return (f"{profile.name}'s coding ({profile.coding.scheme}) is not supported yet: "
                f"heradecode decodes turbo codes only")
    modes = [profile.link.mode(mode)] if mode is not None else list(profile.link.modes)
    usable = usable_modes(profile)
    if not any(m in usable for m in modes):
        m = modes[0]
        what = m.modulation.upper() + (f" on a {m.subcarrier_hz:g} Hz subcarrier" if m.subcarrier_hz else "")
        return (f"{profile.name}'s {m.name} mode ({what}) is not supported yet: "
                f"heradecode demodulates PCM/PM/bi-phase-L on a residual carrier only")
    return None


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def bundled_missions() -> list[str]:
    """Names of the profiles shipped with heradecode (file stems), sorted."""
    return sorted(p.name[:-5] for p in resources.files(__package__).iterdir() if p.name.endswith(".toml"))


def load_mission(name_or_path: str | Path = DEFAULT_MISSION) -> MissionProfile:
    """Load a bundled profile by name (``hera``) or a profile file by path; UserError on any problem."""
    text_name = str(name_or_path)
    is_path = isinstance(name_or_path, Path) or text_name.endswith(".toml") or "/" in text_name or "\\" in text_name
    if is_path:
        path = Path(name_or_path)
        if not path.is_file():
            raise UserError(f"no such mission profile file: {path}")
        source, raw = str(path), path.read_bytes()
    else:
        key = text_name.lower()
        if key not in bundled_missions():
            raise UserError(f"unknown mission {text_name!r}; known: {', '.join(bundled_missions())} "
                            "(or give a profile file ending in .toml)")
        res = resources.files(__package__) / f"{key}.toml"
        source, raw = f"{key}.toml", res.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"mission profile {source}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(" ".join(f"mission profile {source}: not valid TOML: {exc}".split())) from None
    return profile_from_dict(data, source)

"""Parameters of a simulated Hera-like recording, with a mission profile's modes as presets (Hera's by default).

Every field has a unit in its name or docstring.  ``None`` for a random
quantity (carrier phase, symbol timing) means "draw it from the seed"; the
resolved value is stored in the truth sidecar, so a recording can be
regenerated bit for bit from its sidecar.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from heradecode.errors import UserError
from heradecode.fec.turbocode import TurboCode
from heradecode.missions import MissionProfile, load_mission, unsupported_link, usable_modes
from heradecode.sim.cadu import CODE

HERA = load_mission("hera")
DEFAULT_MOD_INDEX_RAD = 1.1  # a plausible modulation index when the profile does not state one


def mission_modes(profile: MissionProfile) -> dict[str, dict[str, float]]:
    """A mission's modes the simulator can send: coded symbol rate (baud, before bi-phase-L) and modulation index."""
    return {m.name: {"symbol_rate": m.symbol_rate_baud,
                     "mod_index_rad": m.modulation_index_rad if m.modulation_index_rad is not None
                     else DEFAULT_MOD_INDEX_RAD} for m in usable_modes(profile)}


# Hera's telemetry modes, from its mission profile.
MODES: dict[str, dict[str, float]] = mission_modes(HERA)

# Default RMS of each real component of each channel (fraction of full scale), per output datatype.
DEFAULT_RMS_LEVEL_FS = {"ci8": 0.12, "ci16_le": 0.02, "cf32_le": 0.1}
WRITABLE_DATATYPES = tuple(DEFAULT_RMS_LEVEL_FS)
LAYOUTS = ("interleaved", "pair")


@dataclass
class SimParams:
    """Everything that defines a simulated recording (all overridable; see ``heradecode simulate -h``)."""

    mode: str = "high"
    """Preset the rate and index came from ('low', 'high' or 'custom'); informational once resolved."""
    symbol_rate: float = MODES["high"]["symbol_rate"]
    """Coded symbol rate (baud) before bi-phase-L; the chip rate is twice this."""
    mod_index_rad: float = MODES["high"]["mod_index_rad"]
    """Peak phase deviation m (rad); carrier power fraction cos²(m), data fraction sin²(m)."""
    samp_rate: float = 6.144e6
    """Output sample rate (samples/s)."""
    oversample: int = 1
    """Anti-aliasing before sampling.  1: each sample integrates the waveform over its interval (integrate and
    dump: exact chip edges, the chips' energy beyond ±samp_rate/2 folds into the band).  L > 1: the waveform is
    made at L x samp_rate, low-pass filtered flat to ±0.45 samp_rate (aliases 60 dB down) and every L-th sample
    kept, as an SDR's channel filter does: the energy beyond the band is lost, none folds in."""
    center_freq_hz: float = HERA.downlink_freq_hz or 8435.75e6
    """Recording centre (tuning) frequency (Hz), written as SigMF core:frequency."""
    carrier_offset_hz: float = 0.0
    """Nominal (Doppler-free) carrier minus centre frequency (Hz)."""
    start_time: str = "2024-10-07T17:06:31Z"
    """UTC time of sample 0 (ISO-8601)."""

    frames_path: str | None = None
    """A .u8 file of concatenated frames without FECF; None: generate PUS packets in TM frames."""
    frame_length: int = CODE.frame_length_no_fecf
    """Frame length without FECF (bytes)."""
    first_frame: int = 0
    """Index of the first frame taken from ``frames_path``."""
    num_frames: int | None = None
    """Codeblocks to send; None: every frame of the file once (10 for generated frames), or as many as
    ``duration_s`` holds."""
    duration_s: float | None = None
    """Recording length (s); frames are cycled to fill it and a final partial codeblock is cut off."""
    lead_in_s: float = 0.05
    """Random-data symbols before the first ASM (s)."""
    tail_s: float = 0.02
    """Random-data symbols after the last codeblock (s); ignored with ``duration_s``."""

    doppler: list[tuple[float, float]] | None = None
    """Doppler profile points (unix_time s, Hz), linear between points, held beyond the ends; None: none."""
    clock_offset_ppm: float = 0.0
    """Transmitter symbol clock error (ppm)."""
    carrier_phase_rad: float | None = None
    """Carrier phase at sample 0 (rad); None: random from the seed."""
    timing_offset_sym: float | None = None
    """Fraction of a symbol already elapsed at sample 0, in [0, 1); None: random from the seed."""

    pol_angle_deg: float = 30.0
    """Polarization angle θ at sample 0 (deg): X = cos θ·s, Y = sin θ·e^{jψ}·s."""
    pol_rotation_deg_s: float = 0.0
    """Rate of change of θ (deg/s)."""
    pol_phase_deg: float = 0.0
    """Phase ψ of Y relative to X (deg); 0 is linear polarization, ±90° with θ=45° circular."""

    ebn0_db: float | None = 10.0
    """Eb/N0 (dB) per information bit for an ideal MRC receiver; None: no noise."""
    fades: list[tuple[float, float]] | None = None
    """Signal gain profile (seconds from sample 0, gain dB), linear in amplitude between points;
    ``-inf`` dB is a full drop-out.  Noise is not faded."""

    datatype: str = "ci16_le"
    """Output sample type: ci16_le, ci8 or cf32_le."""
    layout: str = "interleaved"
    """'interleaved': one 2-channel SigMF file; 'pair': ``<name>_0x`` and ``<name>_0y`` recordings."""
    rms_level_fs: float | None = None
    """RMS of each real component of a channel as a fraction of full scale, for an equal X/Y split;
    None: the datatype's default (ci8 0.12 ≈ 15 LSB, ci16 0.02 ≈ 655 LSB)."""
    hw: str = "heradecode simulator (USRP N321-like)"
    antenna: str = "simulated dual linear polarization feed"
    seed: int = 0
    """Seed of every random quantity (noise, phases, lead-in data, generated frames)."""

    def __post_init__(self) -> None:
        if self.doppler is not None:
            self.doppler = [(float(t), float(f)) for t, f in self.doppler]
        if self.fades is not None:
            self.fades = [(float(t), float(g)) for t, g in self.fades]

    # ------------------------------------------------------------------ helpers
    @classmethod
    def preset(cls, mode: str, mission: MissionProfile | None = None, **overrides: Any) -> "SimParams":
        """Parameters of a mission's mode (Hera's by default: 'low' 60.2375 kbaud, 'high' 322.56 kbaud) with overrides.

        The centre frequency is the mission's downlink when the profile states it; a link
        the simulator cannot send (not bi-phase-L, not k=8920 rate-1/4 turbo) is a UserError.
        """
        profile = mission if mission is not None else HERA
        why = unsupported_link(profile, mode if mode in {m.name for m in profile.link.modes} else None)
        if why:
            raise UserError(why)
        if TurboCode.from_mission(profile) != CODE:
            raise UserError(f"{profile.name}'s {TurboCode.from_mission(profile)} is not supported by the simulator "
                            f"yet: it sends {CODE} codeblocks only")
        modes = mission_modes(profile)
        if mode not in modes:
            raise UserError(f"unknown mode {mode!r}: choose {', '.join(modes)}")
        values: dict[str, Any] = {"mode": mode, **modes[mode]}
        if profile.downlink_freq_hz is not None:
            values["center_freq_hz"] = profile.downlink_freq_hz
        values.update(overrides)
        return cls(**values)

    @property
    def chip_rate(self) -> float:
        """Bi-phase-L chips per second (2 × symbol rate)."""
        return 2.0 * self.symbol_rate

    @property
    def downlink_freq_hz(self) -> float:
        """Nominal carrier frequency (Hz) used to scale the symbol clock by Doppler."""
        return self.center_freq_hz + self.carrier_offset_hz

    @property
    def level(self) -> float:
        """The RMS level actually used (fraction of full scale)."""
        return self.rms_level_fs if self.rms_level_fs is not None else DEFAULT_RMS_LEVEL_FS[self.datatype]

    def validate(self) -> None:
        """Raise UserError on an impossible combination."""
        if self.symbol_rate <= 0 or self.samp_rate <= 0:
            raise UserError("symbol rate and sample rate must be positive")
        if self.samp_rate < 1.05 * self.chip_rate:
            raise UserError(
                f"sample rate {self.samp_rate:g} is below the bi-phase-L chip rate {self.chip_rate:g}; "
                "use at least ~2 samples per chip"
            )
        if self.samp_rate / 2 <= abs(self.carrier_offset_hz) + 1.5 * self.chip_rate / 2:
            raise UserError(
                f"carrier offset {self.carrier_offset_hz:g} Hz puts the signal outside ±{self.samp_rate / 2:g} Hz"
            )
        if not (isinstance(self.oversample, int) and 1 <= self.oversample <= 16):
            raise UserError(f"oversample must be an integer from 1 to 16, got {self.oversample!r}")
        if self.datatype not in WRITABLE_DATATYPES:
            raise UserError(f"cannot write datatype {self.datatype!r}: choose {', '.join(WRITABLE_DATATYPES)}")
        if self.layout not in LAYOUTS:
            raise UserError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if not 0 < self.mod_index_rad <= math.pi / 2:
            raise UserError(f"modulation index must be in (0, π/2] rad, got {self.mod_index_rad}")
        if self.frame_length <= 0:
            raise UserError("frame length must be positive")
        if self.frame_length != CODE.frame_length_no_fecf:
            raise UserError(
                f"frame length {self.frame_length} + 2-byte FECF must fill the k={CODE.k} turbo codeblock "
                f"({CODE.frame_length_no_fecf} bytes)"
            )
        if self.num_frames is not None and self.num_frames < 1:
            raise UserError("num_frames must be at least 1")
        if self.duration_s is not None and self.duration_s <= 0:
            raise UserError("duration must be positive")
        if self.lead_in_s < 0 or self.tail_s < 0:
            raise UserError("lead-in and tail must not be negative")
        if self.timing_offset_sym is not None and not 0 <= self.timing_offset_sym < 1:
            raise UserError("timing offset must be in [0, 1) symbol")
        if self.level <= 0 or self.level > 0.5:
            raise UserError(f"rms level must be in (0, 0.5] of full scale, got {self.level}")
        if self.fades is not None:
            ts = [t for t, _ in self.fades]
            if not ts or any(b <= a for a, b in zip(ts, ts[1:])):
                raise UserError("fade times must increase strictly")
        if self.doppler is not None:
            ts = [t for t, _ in self.doppler]
            if len(ts) < 2 or any(b <= a for a, b in zip(ts, ts[1:])):
                raise UserError("a Doppler profile needs at least two points with increasing times")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (infinities as the strings '-inf' / 'inf')."""
        d = dataclasses.asdict(self)
        if d["fades"] is not None:
            d["fades"] = [[t, _enc(g)] for t, g in d["fades"]]
        if d["doppler"] is not None:
            d["doppler"] = [[t, f] for t, f in d["doppler"]]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SimParams":
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise UserError(f"unknown simulation parameters: {', '.join(sorted(unknown))}")
        d = dict(d)
        if d.get("fades") is not None:
            d["fades"] = [(float(t), _dec(g)) for t, g in d["fades"]]
        return cls(**d)


def _enc(x: float) -> float | str:
    return x if x == x and abs(x) != float("inf") else str(x)


def _dec(x: float | str) -> float:
    return float(x)


def field_names() -> list[str]:
    """Names of every parameter."""
    return [f.name for f in dataclasses.fields(SimParams)]


__all__ = ["MODES", "SimParams", "field_names", "mission_modes"]

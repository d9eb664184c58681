"""Mission profiles: what a spacecraft's frames and packets look like.

A profile gathers the layout choices that CCSDS and ECSS leave to a mission:
spacecraft ID, frame length, the names of the virtual channels and the
layout of the PUS-C telemetry secondary header (ECSS-E-ST-70-41C 7.4.3.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PusTmLayout:
    """Layout of the PUS-C TM secondary header after its first octet (version + time reference status)."""

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
class MissionProfile:
    """Spacecraft-specific choices for the TM frame and packet layers."""

    name: str
    scid: int
    frame_length: int  # octets, including the FECF
    vc_names: dict[int, str] = field(default_factory=dict)
    pus_tm: PusTmLayout = PusTmLayout()
    time_apid: int = 0
    downlink_freq_hz: float = 0.0

    @property
    def frame_length_no_fecf(self) -> int:
        """Frame length in octets without the 2-octet FECF."""
        return self.frame_length - 2

    def vc_name(self, vcid: int) -> str:
        """Human name of a virtual channel, or 'VC<n>'."""
        return self.vc_names.get(vcid, f"VC{vcid}")


HERA = MissionProfile(
    name="Hera",
    scid=0xB5,
    frame_length=1115,
    vc_names={1: "real time", 3: "replay", 7: "idle"},
    pus_tm=PusTmLayout(),
    time_apid=0,
    downlink_freq_hz=8435.75e6,
)

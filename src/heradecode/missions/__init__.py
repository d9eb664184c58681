"""Mission profiles as data: one TOML file per spacecraft in this package, loaded by :func:`load_mission`.

See :mod:`heradecode.missions.profile` for the file format and its schema.
"""

from heradecode.missions.profile import (
    DEFAULT_MISSION,
    Coding,
    Ephemeris,
    FrameLayout,
    Link,
    LinkMode,
    MissionProfile,
    PacketLayout,
    PusTmLayout,
    TimeFormat,
    bundled_missions,
    load_mission,
    profile_from_dict,
    unsupported_link,
    usable_modes,
)

__all__ = [
    "DEFAULT_MISSION", "Coding", "Ephemeris", "FrameLayout", "Link", "LinkMode", "MissionProfile",
    "PacketLayout", "PusTmLayout", "TimeFormat", "bundled_missions", "load_mission", "profile_from_dict",
    "unsupported_link", "usable_modes",
]

"""The mission profile the frame and packet layers use by default (Hera), loaded from its data file.

Profiles are data: :mod:`heradecode.missions` (one TOML file per spacecraft).
This module keeps the names the frame/packet layers and older code import.
"""

from __future__ import annotations

from heradecode.missions import MissionProfile, PusTmLayout, load_mission

HERA: MissionProfile = load_mission("hera")

__all__ = ["HERA", "MissionProfile", "PusTmLayout", "load_mission"]

"""The ``--mission NAME|FILE`` option shared by the commands that depend on the spacecraft."""

from __future__ import annotations

import argparse

from heradecode.missions import DEFAULT_MISSION, MissionProfile, bundled_missions, load_mission


def add_mission_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--mission NAME|FILE`` (default hera) to a command's parser."""
    parser.add_argument("--mission", default=DEFAULT_MISSION, metavar="NAME|FILE",
                        help=f"mission profile: a bundled name ({', '.join(bundled_missions())}) or a .toml "
                             f"profile file (default {DEFAULT_MISSION}; see 'heradecode missions')")


def mission_from_args(args: argparse.Namespace) -> MissionProfile:
    """Load the profile that ``--mission`` names; UserError in one line when it cannot be used."""
    return load_mission(getattr(args, "mission", None) or DEFAULT_MISSION)

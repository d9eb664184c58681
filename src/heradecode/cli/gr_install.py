"""``heradecode gr-install``: make heradecode's GNU Radio blocks appear in GNU Radio Companion."""

from __future__ import annotations

import argparse
from pathlib import Path

from heradecode.gr.install import (DEFAULT_GRC_DIR, companion_command, gnuradio_available, grc_blocks_dir,
                                   install_blocks)


def register(subparsers) -> None:
    """Add the ``gr-install`` sub-command."""
    p = subparsers.add_parser(
        "gr-install",
        help="install heradecode's GNU Radio Companion blocks",
        description=("Copy heradecode's GNU Radio Companion block definitions (.block.yml) where GRC finds "
                     f"them ({DEFAULT_GRC_DIR}/heradecode by default). Alternatively set GRC_BLOCKS_PATH to "
                     "the folder printed by --print-path."),
    )
    p.add_argument("--dest", type=Path, default=None, help=f"install under this folder instead of {DEFAULT_GRC_DIR}")
    p.add_argument("--print-path", action="store_true",
                   help="only print the folder of the block definitions (for GRC_BLOCKS_PATH) and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``gr-install``."""
    if args.print_path:
        print(grc_blocks_dir())
        return 0
    files = install_blocks(args.dest)
    print(f"installed {len(files)} heradecode blocks in {files[0].parent}")
    if gnuradio_available():
        print("GNU Radio is importable here; start GNU Radio Companion with this Python so the blocks "
              f"can import heradecode:\n  {companion_command()}")
    else:
        print("note: GNU Radio cannot be imported by this Python; the blocks need a Python that has both "
              "(python3 dev.py setup makes one on Debian)")
    return 0

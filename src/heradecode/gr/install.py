"""Where heradecode's GNU Radio Companion block definitions live, and installing them (no GNU Radio needed)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

#: GNU Radio Companion always searches this folder (its hierarchical-block library) for blocks
DEFAULT_GRC_DIR = Path("~/.grc_gnuradio").expanduser()


def grc_blocks_dir() -> Path:
    """The folder of heradecode's ``.block.yml`` files (what ``GRC_BLOCKS_PATH`` should name)."""
    return Path(__file__).resolve().parent / "grc"


def block_files() -> list[Path]:
    """heradecode's GRC block definitions."""
    return sorted(grc_blocks_dir().glob("*.block.yml"))


def install_blocks(dest: str | Path | None = None) -> list[Path]:
    """Copy the block definitions into ``dest/heradecode`` (default under ``~/.grc_gnuradio``); returns the copies."""
    target = Path(dest).expanduser() if dest is not None else DEFAULT_GRC_DIR
    target = target / "heradecode"
    target.mkdir(parents=True, exist_ok=True)
    out = []
    for f in block_files():
        shutil.copyfile(f, target / f.name)
        out.append(target / f.name)
    return out


def gnuradio_available() -> bool:
    """Whether this Python can import GNU Radio."""
    try:
        import gnuradio.gr  # noqa: F401
    except ImportError:
        return False
    return True


def companion_command() -> str:
    """How to start GNU Radio Companion with this Python (so that heradecode's blocks can import heradecode)."""
    grc = shutil.which("gnuradio-companion") or "/usr/bin/gnuradio-companion"
    return f"{sys.executable} {grc}"

"""Skip GNU Radio tests where GNU Radio is absent, visibly; fail instead when HERADECODE_REQUIRE_GNURADIO is set (CI)."""

from __future__ import annotations

import os
import shutil

import pytest

HINT = "python3 dev.py setup installs Debian's GNU Radio 3.10 where apt-get is available"


def require_gnuradio(grcc: bool = False) -> None:
    """Skip the calling test module unless GNU Radio (and ``grcc``) are usable; in CI fail instead."""
    why = None
    try:
        import gnuradio.gr  # noqa: F401
    except ImportError as exc:
        why = f"GNU Radio is not importable by this Python ({exc})"
    if why is None and grcc and shutil.which("grcc") is None:
        why = "grcc (GNU Radio Companion compiler) is not on PATH"
    if why is None:
        return
    if os.environ.get("HERADECODE_REQUIRE_GNURADIO"):
        raise RuntimeError(f"HERADECODE_REQUIRE_GNURADIO is set but {why}")
    pytest.skip(f"{why}; {HINT}", allow_module_level=True)

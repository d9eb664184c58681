#!/usr/bin/env python3
"""Set up heradecode in a local virtual environment and run its jobs.

Usage:  python3 dev.py demo    decode the bundled (simulated, real-frame) recording
        python3 dev.py test    run the test suite
        python3 dev.py setup   only create/refresh the environment

Needs nothing but Python >= 3.11: the virtual environment is created in
``.venv`` and the project is installed into it (with its test extras) the
first time and whenever ``pyproject.toml`` changes.  On Debian, where the
``venv`` module comes as the separate package ``python3-venv``, it is
installed with apt-get when we run as root.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("HERADECODE_VENV", ROOT / ".venv"))
STAMP = VENV / ".heradecode-installed"
DEMO_ARGS = [
    str(ROOT / "recordings" / "sim" / "hera_high_sim_0x.sigmf-meta"),  # its _0y partner is found
    "--doppler", str(ROOT / "recordings" / "hera" / "hera_doppler.txt"),  # the launch-day profile
    "--out", str(ROOT / "out" / "demo"),
]


def _say(msg: str) -> None:
    print(f"[dev] {msg}", flush=True)


def _run(cmd: list[str], **kw) -> None:
    subprocess.run(cmd, check=True, **kw)


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _create_venv() -> None:
    try:
        _run([sys.executable, "-m", "venv", str(VENV)])
        return
    except subprocess.CalledProcessError:
        shutil.rmtree(VENV, ignore_errors=True)
    if shutil.which("apt-get") and os.geteuid() == 0:
        ver = f"{sys.version_info.major}.{sys.version_info.minor}"
        _say(f"the venv module is missing: installing python{ver}-venv with apt-get")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        _run(["apt-get", "update", "-qq"], env=env)
        _run(["apt-get", "install", "-y", "-qq", f"python{ver}-venv"], env=env)
        _run([sys.executable, "-m", "venv", str(VENV)])
        return
    sys.exit("dev.py: Python's venv module is missing; install it (Debian: apt-get install python3-venv)")


def ensure_env() -> Path:
    """Create .venv and (re)install the project when pyproject.toml changed."""
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == want and _venv_python().exists():
        return _venv_python()
    if not _venv_python().exists():
        _say(f"creating virtual environment in {VENV}")
        _create_venv()
    py = str(_venv_python())
    _say("installing heradecode and its dependencies (first run takes a few minutes)")
    _run([py, "-m", "pip", "install", "-q", "--upgrade", "pip"])
    _run([py, "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]"])
    STAMP.write_text(want + "\n")
    return _venv_python()


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):
        sys.exit("dev.py: heradecode needs Python 3.11 or newer")
    job = argv[0] if argv else "help"
    rest = argv[1:]
    if job not in {"demo", "test", "setup"}:
        print(__doc__)
        return 0 if job in {"help", "-h", "--help"} else 2
    py = ensure_env()
    bindir = py.parent
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    if job == "setup":
        return 0
    if job == "demo":
        cmd = [str(bindir / "heradecode"), "decode", *DEMO_ARGS, *rest]
    else:
        cmd = [str(py), "-m", "pytest", *(rest or ["-q"])]
    _say(" ".join(cmd))
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

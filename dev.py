#!/usr/bin/env python3
"""Set up heradecode in a local virtual environment and run its jobs.

Usage:  python3 dev.py demo    decode the bundled (simulated, real-frame) recording
        python3 dev.py test    run the test suite
        python3 dev.py setup   only create/refresh the environment
        python3 dev.py notebooks   build notebooks/*.ipynb from their jupytext scripts (notebooks/*.py)

Needs nothing but Python >= 3.11: the virtual environment is created in
``.venv`` and the project is installed into it (with its test extras) the
first time and whenever ``pyproject.toml`` changes.

GNU Radio: on Debian, run as root, Debian's GNU Radio 3.10 (``gnuradio``, built
for the system Python 3.11) is installed with apt-get, and ``.venv`` is made
from that system Python with ``--system-site-packages`` so that GNU Radio and
heradecode import together there (numpy stays below 2, which Debian's GNU
Radio bindings need).  Elsewhere ``.venv`` is made from the running Python and
the GNU Radio tests skip, saying why.  ``HERADECODE_NO_GNURADIO=1`` skips the
GNU Radio set-up.  (``python3-venv`` is installed with apt-get too when Debian's
Python lacks the venv module.)
"""

from __future__ import annotations

import hashlib
import json
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


SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, the one its gnuradio package is built for


def _venv_python() -> Path:
    return VENV / "bin" / "python"


def _can_apt() -> bool:
    return bool(shutil.which("apt-get")) and os.geteuid() == 0 and Path("/etc/debian_version").exists()


def _apt_install(*packages: str) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _run(["apt-get", "update", "-qq"], env=env)
    _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env)


def _imports_gnuradio(python: str) -> bool:
    if not Path(python).exists():
        return False
    return subprocess.run([python, "-c", "import gnuradio.gr"], capture_output=True).returncode == 0


def _gnuradio_python() -> str | None:
    """The system Python with Debian's GNU Radio, installing it with apt-get where we can; None if not."""
    if os.environ.get("HERADECODE_NO_GNURADIO"):
        return None
    if not (_imports_gnuradio(SYSTEM_PYTHON) and shutil.which("grcc")):
        if not _can_apt():
            return None
        _say("installing Debian's GNU Radio 3.10 with apt-get (gnuradio, python3-venv)")
        try:
            _apt_install("gnuradio", "python3-venv")
        except subprocess.CalledProcessError:
            _say("warning: apt-get could not install gnuradio; the GNU Radio tests will be skipped")
            return None
    return SYSTEM_PYTHON if _imports_gnuradio(SYSTEM_PYTHON) else None


ARCHIVE_APT = {"postgresql": "/usr/lib/postgresql/15/bin/initdb", "chromium": "/usr/bin/chromium",
               "chromium-driver": "/usr/bin/chromedriver"}  # the archive tests' PostgreSQL 15 and browser


def _archive_services() -> None:
    """Debian's PostgreSQL 15 and headless Chromium + chromedriver for the archive tests (apt-get, root only)."""
    missing = [pkg for pkg, path in ARCHIVE_APT.items() if not Path(path).exists()]
    if not missing or not _can_apt():
        return
    _say(f"installing {' '.join(missing)} with apt-get (archive tests: database and browser)")
    try:
        _apt_install(*missing)
    except subprocess.CalledProcessError:
        _say("warning: apt-get could not install " + " ".join(missing))


def _create_venv(base: str, system_site: bool) -> None:
    cmd = [base, "-m", "venv", *(["--system-site-packages"] if system_site else []), str(VENV)]
    try:
        _run(cmd)
        return
    except subprocess.CalledProcessError:
        shutil.rmtree(VENV, ignore_errors=True)
    if _can_apt():
        ver = subprocess.run([base, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
        _say(f"the venv module is missing: installing python{ver}-venv with apt-get")
        _apt_install(f"python{ver}-venv")
        _run(cmd)
        return
    sys.exit("dev.py: Python's venv module is missing; install it (Debian: apt-get install python3-venv)")


def ensure_env() -> Path:
    """Create .venv (with GNU Radio where it can be had) and (re)install the project when pyproject.toml changed."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    try:
        have = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        have = {}
    if have.get("pyproject") == digest and _venv_python().exists():
        # reuse it unless GNU Radio appeared on (or left) the system since it was made
        if os.environ.get("HERADECODE_NO_GNURADIO") or bool(have.get("gnuradio")) == _imports_gnuradio(SYSTEM_PYTHON):
            return _venv_python()
    gr_python = _gnuradio_python()
    base = gr_python or sys.executable
    flavour = {"base": base, "gnuradio": gr_python is not None}
    if _venv_python().exists() and {k: have.get(k) for k in flavour} != flavour:
        _say(f"recreating {VENV} ({'with' if gr_python else 'without'} GNU Radio)")
        shutil.rmtree(VENV)
    if not _venv_python().exists():
        _say(f"creating virtual environment in {VENV} from {base}")
        _create_venv(base, system_site=gr_python is not None)
    py = str(_venv_python())
    _say("installing heradecode and its dependencies (first run takes a few minutes)")
    _run([py, "-m", "pip", "install", "-q", "--upgrade", "pip"])
    # Debian's GNU Radio bindings are built against numpy 1.x: keep numpy below 2 beside them
    _run([py, "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]", *(["numpy<2"] if gr_python else [])])
    STAMP.write_text(json.dumps({"pyproject": digest, **flavour}) + "\n")
    return _venv_python()


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):
        sys.exit("dev.py: heradecode needs Python 3.11 or newer")
    job = argv[0] if argv else "help"
    rest = argv[1:]
    if job not in {"demo", "test", "setup", "notebooks"}:
        print(__doc__)
        return 0 if job in {"help", "-h", "--help"} else 2
    py = ensure_env()
    if job in ("setup", "test"):
        _archive_services()
    bindir = py.parent
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    if job == "setup":
        return 0
    if job == "demo":
        cmd = [str(bindir / "heradecode"), "decode", *DEMO_ARGS, *rest]
    elif job == "notebooks":
        cmd = [str(bindir / "jupytext"), "--sync", *sorted(map(str, (ROOT / "notebooks").glob("[0-9][0-9]_*.py")))]
    else:
        cmd = [str(py), "-m", "pytest", *(rest or ["-q"])]
    _say(" ".join(cmd))
    return subprocess.run(cmd, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

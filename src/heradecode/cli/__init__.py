"""The ``heradecode`` command line.

Each sub-command lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (a callable
taking the parsed arguments and returning an exit code).  Modules are found
automatically, so adding a command means adding a module.

One error path for every command (exit codes in :mod:`heradecode.errors`):
user mistakes (:class:`~heradecode.errors.UserError`, any :class:`OSError` on
an input or output path, bad options) are printed as one line on stderr with
exit code 2, never as a traceback; :class:`~heradecode.errors.NothingDecoded`
gives one line and exit code 1.

One warning path: every Python warning raised while a command runs (the
library's own ``warnings.warn``, numpy/scipy ``RuntimeWarning`` s on odd data)
goes through the ``heradecode`` logger and is printed as one line,
``heradecode COMMAND: warning: …``, without file names or source lines; a
warning repeated with the same text is printed once.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import pkgutil
import sys
import warnings

from heradecode import __version__
from heradecode.errors import NothingDecoded, UserError

log = logging.getLogger("heradecode")


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="heradecode",
        description="Decode Hera telemetry from IQ recordings, soft symbols or frame files.",
    )
    parser.add_argument("--version", action="version", version=f"heradecode {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


_OS_ERROR_WORDS = {
    errno.ENOENT: "no such file or directory",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EEXIST: "already exists",
    errno.ENOSPC: "no space left on the device",
    errno.EROFS: "read-only file system",
    errno.ENAMETOOLONG: "file name too long",
}


def os_error_line(exc: OSError) -> str:
    """One line for an OSError: what went wrong and on which path."""
    what = _OS_ERROR_WORDS.get(exc.errno) or (exc.strerror or str(exc) or type(exc).__name__).lower()
    paths = [p for p in (exc.filename, exc.filename2) if p is not None]
    return f"{what}: {' -> '.join(os.fsdecode(p) for p in paths)}" if paths else what


class _OneLine(logging.Formatter):
    def __init__(self, command: str) -> None:
        super().__init__()
        self.command = command

    def format(self, record: logging.LogRecord) -> str:
        text = " ".join(str(record.getMessage()).split())
        level = "warning" if record.levelno >= logging.WARNING else "info"
        return f"heradecode {self.command}: {level}: {text}"


_seen_warnings: set[str] = set()


def _warning_to_log(message, category, filename, lineno, file=None, line=None) -> None:
    """warnings.showwarning replacement: one line through the heradecode logger, each text once."""
    text = " ".join(str(message).split())
    if issubclass(category, RuntimeWarning) and not text.startswith("heradecode"):
        text = f"numerical problem in the input ({text}); results near it may be missing"
    if text not in _seen_warnings:
        _seen_warnings.add(text)
        log.warning(text)


def route_warnings(command: str, stream=None) -> logging.Handler:
    """Send Python warnings and the heradecode logger to ``stream`` (stderr) as one line each."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(_OneLine(command))
    for h in list(log.handlers):
        if getattr(h, "_heradecode_cli", False):
            log.removeHandler(h)
    handler._heradecode_cli = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    _seen_warnings.clear()
    warnings.showwarning = _warning_to_log
    warnings.simplefilter("always")  # deduplicated by text in _warning_to_log
    return handler


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    name = f"heradecode {args.command}"
    saved = warnings.showwarning, warnings.filters[:]
    handler = route_warnings(args.command)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"{name}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except NothingDecoded as exc:
        print(f"{name}: nothing decoded: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{name}: error: {os_error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    finally:
        log.removeHandler(handler)
        warnings.showwarning, warnings.filters[:] = saved


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

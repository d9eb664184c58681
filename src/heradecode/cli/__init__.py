"""The ``heradecode`` command line.

Each sub-command lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (a callable
taking the parsed arguments and returning an exit code).  Modules are found
automatically, so adding a command means adding a module.

User mistakes (:class:`heradecode.errors.UserError`, a missing file, bad
options) are printed as one line on stderr with exit code 2, never as a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from heradecode import __version__
from heradecode.errors import UserError


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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"heradecode {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"heradecode {args.command}: error: no such file: {exc.filename}", file=sys.stderr)
        return 2
    except IsADirectoryError as exc:
        print(f"heradecode {args.command}: error: is a directory: {exc.filename}", file=sys.stderr)
        return 2
    except PermissionError as exc:
        print(f"heradecode {args.command}: error: permission denied: {exc.filename}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"heradecode {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

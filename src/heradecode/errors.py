"""Exceptions shared by every layer, and the exit codes the command line gives them.

=========  ==================================================================
exit code  meaning
=========  ==================================================================
0          done (``decode``: frames were decoded)
1          the input was read but nothing could be decoded from it (no
           signal, no carrier, no frame): :class:`NothingDecoded`
2          a mistake in the command: bad option, unreadable or invalid input
           file, an output path that cannot be written: :class:`UserError`
           and every :class:`OSError`
130        interrupted
=========  ==================================================================
"""

from __future__ import annotations

from contextlib import contextmanager
from os import PathLike
from typing import Iterator


class HeradecodeError(Exception):
    """Base class of heradecode's own errors."""


class UserError(HeradecodeError, ValueError):
    """A mistake in what the user asked for or gave us; the CLI prints it as one line."""


class NothingDecoded(HeradecodeError):
    """The input was read but holds nothing decodable (no signal, no carrier); the CLI exits with 1."""


@contextmanager
def reading(path: str | PathLike, what: str) -> Iterator[None]:
    """Turn an :class:`OSError` raised while reading ``path`` into one :class:`UserError` line naming ``what``."""
    try:
        yield
    except FileNotFoundError:
        raise UserError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise UserError(f"{what} {path} is a directory, not a file") from None
    except OSError as exc:
        raise UserError(f"cannot read {what} {path}: {exc.strerror or exc}") from None

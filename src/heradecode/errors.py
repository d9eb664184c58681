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


class HeradecodeError(Exception):
    """Base class of heradecode's own errors."""


class UserError(HeradecodeError, ValueError):
    """A mistake in what the user asked for or gave us; the CLI prints it as one line."""


class NothingDecoded(HeradecodeError):
    """The input was read but holds nothing decodable (no signal, no carrier); the CLI exits with 1."""

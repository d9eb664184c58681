"""Exceptions shared by every layer."""


class HeradecodeError(Exception):
    """Base class of heradecode's own errors."""


class UserError(HeradecodeError, ValueError):
    """A mistake in what the user asked for or gave us; the CLI prints it as one line."""

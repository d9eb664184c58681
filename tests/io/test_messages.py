"""Messages name only options that exist (issue #11 finding 5: plot suggested a missing --allow-truncated)."""

from __future__ import annotations

import re
from pathlib import Path

import argparse

import heradecode
from heradecode.cli import build_parser

SRC = Path(heradecode.__file__).parent
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
_DEFINED = re.compile(r"""add_argument\(\s*(?:["']-\w["']\s*,\s*)?["'](--[a-z][a-z0-9-]*)["']""")


def _cli_options() -> set[str]:
    """Every option string of ``heradecode`` and its sub-commands."""
    found: set[str] = set()
    for action in build_parser()._actions:
        found.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                for a in sub._actions:
                    found.update(a.option_strings)
    return found


def test_every_option_mentioned_in_the_sources_is_defined_by_some_parser():
    """Any ``--option`` in heradecode's text (errors, warnings, help, docstrings) is added by an argument parser:
    the ``heradecode`` command line, or a module's own (``python -m heradecode.sim.archive --check``)."""
    defined = _cli_options()
    mentioned: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        defined.update(_DEFINED.findall(text))
        for m in _OPTION.finditer(text):
            mentioned.setdefault(m.group(0), set()).add(str(path.relative_to(SRC)))
    assert "--samp-rate" in defined and "--doppler" in defined  # the scan itself works
    missing = {opt: sorted(files) for opt, files in mentioned.items() if opt not in defined}
    assert not missing, f"options mentioned but defined by no parser: {missing}"

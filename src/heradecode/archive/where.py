"""The filter language shared by the CLI, the REST API and the web query builder.

Grammar (keywords case-insensitive)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" expr ")" | comparison
    comparison := FIELD OP VALUE          OP: = != < <= > >= ~ (~: contains, text fields)
    VALUE      := number | word | 'quoted text' | "quoted text"

e.g. ``apid=1234 and not crc=bad``, ``(vc=1 or vc=3) and utc>=2024-10-07T17:00:00``.

Fields: ``mission station recording item version utc vc apid service subtype obt crc pec
kind level``; ``utc`` takes ISO 8601 UTC times or UNIX seconds, ``crc``/``pec`` take
``ok``/``bad`` (``pec`` also ``none``), ``level`` ``L0``/``L1``/``L1b``.

The text is tokenized and parsed into a tree; the tree is compiled into a SQLAlchemy
expression whose values are all bound parameters, so no text of the filter ever reaches the
SQL itself.  Anything that does not parse is a :class:`~heradecode.errors.UserError`.

Targets: ``items`` (decodes), ``frames``, ``packets``, ``carrier``, ``products``.  On
``items`` a frame or packet condition means "holds such a frame/packet" (``EXISTS``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import and_, exists, false, not_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from heradecode.archive.models import CarrierPoint, Decode, Frame, Packet, Product, Recording
from heradecode.errors import UserError

TARGETS = ("items", "frames", "packets", "carrier", "products")
OPS = ("=", "!=", "<", "<=", ">", ">=", "~")
MAX_LENGTH = 2000
MAX_DEPTH = 50
_TOKEN = re.compile(r"""\s*(?:(?P<op><=|>=|!=|=|<|>|~)|(?P<paren>[()])|'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<word>[A-Za-z0-9_.:+\-]+))""")


@dataclass(frozen=True)
class Cmp:
    """One comparison: field OP value."""

    field: str
    op: str
    value: str


@dataclass(frozen=True)
class BoolOp:
    """``and``/``or`` of several terms, or ``not`` of one."""

    op: str
    terms: tuple


def quote_value(value: str) -> str:
    """A filter value as a quoted literal of the filter language (one line error if it holds both quotes)."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise UserError("a filter value cannot hold both ' and \"")


def tokenize(text: str) -> list[tuple[str, str]]:
    """Split a filter into (kind, text) tokens; UserError on anything else."""
    if len(text) > MAX_LENGTH:
        raise UserError(f"filter too long ({len(text)} characters, at most {MAX_LENGTH})")
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            bad = text[pos:].lstrip()[:1]
            raise UserError(f"filter: unexpected character {bad!r} at position {pos + 1}")
        kind = m.lastgroup
        val = m.group(kind)
        out.append(("str" if kind in ("sq", "dq") else kind, val))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.t = tokens
        self.i = 0
        self.depth = 0

    def peek_word(self) -> str | None:
        if self.i < len(self.t) and self.t[self.i][0] == "word":
            return self.t[self.i][1].lower()
        return None

    def expr(self):
        terms = [self.and_expr()]
        while self.peek_word() == "or":
            self.i += 1
            terms.append(self.and_expr())
        return terms[0] if len(terms) == 1 else BoolOp("or", tuple(terms))

    def and_expr(self):
        terms = [self.not_expr()]
        while self.peek_word() == "and":
            self.i += 1
            terms.append(self.not_expr())
        return terms[0] if len(terms) == 1 else BoolOp("and", tuple(terms))

    def not_expr(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise UserError("filter nested too deeply")
        try:
            if self.peek_word() == "not":
                self.i += 1
                return BoolOp("not", (self.not_expr(),))
            if self.i < len(self.t) and self.t[self.i] == ("paren", "("):
                self.i += 1
                node = self.expr()
                if self.i >= len(self.t) or self.t[self.i] != ("paren", ")"):
                    raise UserError("filter: a '(' is not closed")
                self.i += 1
                return node
            return self.comparison()
        finally:
            self.depth -= 1

    def comparison(self) -> Cmp:
        def tok(k: int) -> tuple[str, str]:
            return self.t[self.i + k] if self.i + k < len(self.t) else ("end", "the end")

        (k1, f), (k2, op), (k3, v) = tok(0), tok(1), tok(2)
        if k1 != "word" or f.lower() in ("and", "or", "not"):
            raise UserError(f"filter: expected a field name, not {f!r}")
        if k2 != "op":
            raise UserError(f"filter: expected an operator ({' '.join(OPS)}) after {f!r}, not {op!r}")
        if k3 not in ("word", "str"):
            raise UserError(f"filter: expected a value after '{f}{op}'")
        self.i += 3
        return Cmp(f.lower(), op, v)


def parse_where(text: str | None):
    """Parse a filter into a tree of :class:`Cmp` and :class:`BoolOp`; None for an empty filter."""
    if text is None or not text.strip():
        return None
    p = _Parser(tokenize(text))
    node = p.expr()
    if p.i != len(p.t):
        raise UserError(f"filter: unexpected {p.t[p.i][1]!r} at token {p.i + 1}")
    return node


# -- compiling ------------------------------------------------------------------------------------

def parse_time(value: str) -> float:
    """A UTC time as UNIX seconds: ISO 8601 (Z or naive = UTC) or a number."""
    try:
        v = float(value)
        if math.isfinite(v):
            return v
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"filter: not a UTC time: {value!r} (use e.g. 2024-10-07T17:06:31Z)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _number(field: str, value: str, integer: bool) -> float | int:
    try:
        v = int(value, 0) if integer else float(value)
    except ValueError:
        raise UserError(f"filter: {field} takes a number, not {value!r}") from None
    if not integer and not math.isfinite(v):
        raise UserError(f"filter: {field} takes a finite number, not {value!r}")
    if integer and not -(2**62) < v < 2**62:
        raise UserError(f"filter: {field} number out of range")
    return v


def _status(field: str, value: str, allow_none: bool) -> bool | None:
    v = value.lower()
    if v in ("ok", "good", "true", "1", "pass"):
        return True
    if v in ("bad", "false", "0", "fail", "failed"):
        return False
    if allow_none and v in ("none", "null", "na"):
        return None
    raise UserError(f"filter: {field} takes ok or bad{' or none' if allow_none else ''}, not {value!r}")


def _compare(col, op: str, value) -> ColumnElement:
    if op == "=":
        return col.is_(None) if value is None else col == value
    if op == "!=":
        return col.is_not(None) if value is None else or_(col != value, col.is_(None))
    if value is None:
        raise UserError("filter: none only goes with = or !=")
    return {"<": col < value, "<=": col <= value, ">": col > value, ">=": col >= value}[op]


_TEXT = {"mission": (Decode.mission, True), "station": (Recording.station, False),
         "recording": (Recording.name, False)}
_DECODE_NUM = {"item": Decode.id, "version": Decode.version}
# frame and packet fields: {field: {table: column}}
_ROW_FIELDS = {
    "vc": {"frames": Frame.vcid, "packets": Packet.vcid},
    "apid": {"packets": Packet.apid},
    "service": {"packets": Packet.pus_service},
    "subtype": {"packets": Packet.pus_subtype},
    "obt": {"packets": Packet.obt_s},
    "kind": {"packets": Packet.kind},
}
_TIME = {"frames": Frame.unix_s, "packets": Packet.unix_s, "carrier": CarrierPoint.unix_s,
         "items": Decode.start_unix_s, "products": Decode.start_unix_s}
_LEVEL = {"frames": "L0", "packets": "L1", "carrier": "L1b"}
_ROW_TABLE = {"frames": Frame, "packets": Packet}
FIELDS = ("mission", "station", "recording", "item", "version", "utc", "vc", "apid", "service", "subtype", "obt",
          "crc", "pec", "kind", "level")


def _row_condition(c: Cmp, table: str):
    """The condition on the frames or packets table, or None when the field does not apply to it."""
    if c.field in _ROW_FIELDS:
        col = _ROW_FIELDS[c.field].get(table)
        if col is None:
            return None
        if c.field == "kind":
            if c.op not in ("=", "!="):
                raise UserError("filter: kind takes = or !=")
            return _compare(col, c.op, c.value.lower())
        if c.op == "~":
            raise UserError(f"filter: ~ only applies to text fields, not {c.field}")
        return _compare(col, c.op, _number(c.field, c.value, c.field != "obt"))
    if c.field == "crc":
        if c.op not in ("=", "!="):
            raise UserError("filter: crc takes = or !=")
        ok = _status("crc", c.value, False)
        if table == "frames":
            return _compare(Frame.crc_ok, c.op, ok)
        # packets are reassembled from CRC-valid frames only
        return true() if (ok is True) == (c.op == "=") else false()
    if c.field == "pec":
        if table != "packets":
            return None
        if c.op not in ("=", "!="):
            raise UserError("filter: pec takes = or !=")
        return _compare(Packet.pec_ok, c.op, _status("pec", c.value, True))
    return None


def compile_where(node, target: str) -> ColumnElement:
    """A SQLAlchemy condition for ``target`` (one of TARGETS), from a parsed filter."""
    if target not in TARGETS:
        raise UserError(f"unknown table {target!r}: choose from {', '.join(TARGETS)}")
    if node is None:
        return true()
    if isinstance(node, BoolOp):
        parts = [compile_where(t, target) for t in node.terms]
        if node.op == "not":
            return not_(parts[0])
        return and_(*parts) if node.op == "and" else or_(*parts)
    c: Cmp = node
    if c.op not in OPS:
        raise UserError(f"filter: unknown operator {c.op!r}")
    if c.field in _TEXT:
        col, upper = _TEXT[c.field]
        value = c.value.upper() if upper else c.value
        if c.op == "~":
            return col.contains(value, autoescape=True)
        return _compare(col, c.op, value)
    if c.op == "~":
        raise UserError(f"filter: ~ only applies to mission, station and recording, not {c.field}")
    if c.field in _DECODE_NUM:
        return _compare(_DECODE_NUM[c.field], c.op, _number(c.field, c.value, True))
    if c.field == "utc":
        return _compare(_TIME[target], c.op, parse_time(c.value))
    if c.field == "level":
        if c.op not in ("=", "!="):
            raise UserError("filter: level takes = or !=")
        lv = {"l0": "L0", "l1": "L1", "l1b": "L1b"}.get(c.value.lower())
        if lv is None:
            raise UserError(f"filter: level takes L0, L1 or L1b, not {c.value!r}")
        if target in _LEVEL:
            return true() if (_LEVEL[target] == lv) == (c.op == "=") else false()
        if target == "products":
            return _compare(Product.level, c.op, lv)
        has = exists(select(Product.id).where(Product.decode_id == Decode.id, Product.level == lv))
        return has if c.op == "=" else not_(has)
    if c.field not in FIELDS:
        raise UserError(f"filter: unknown field {c.field!r}: fields are {', '.join(FIELDS)}")
    if target in _ROW_TABLE:
        cond = _row_condition(c, target)
        if cond is None:
            raise UserError(f"filter: field {c.field!r} does not apply to {target}")
        return cond
    if target == "carrier":
        raise UserError(f"filter: field {c.field!r} does not apply to carrier points")
    # items and products: "holds a frame/packet such that ..."
    options = []
    for table, model in _ROW_TABLE.items():
        cond = _row_condition(c, table)
        if cond is not None:
            options.append(exists(select(model.id).where(model.decode_id == Decode.id, cond)))
    return or_(*options) if len(options) > 1 else options[0]


def where_condition(text: str | None, target: str) -> ColumnElement:
    """Parse and compile a filter in one step."""
    return compile_where(parse_where(text), target)

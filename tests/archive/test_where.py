"""The filter language: parsing, compiling to bound SQL, refusing anything else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from heradecode.archive.where import BoolOp, Cmp, compile_where, parse_where, parse_time
from heradecode.errors import UserError


def test_precedence_not_and_or():
    tree = parse_where("apid=1 or not vc=3 and crc=ok")
    assert tree == BoolOp("or", (Cmp("apid", "=", "1"),
                                 BoolOp("and", (BoolOp("not", (Cmp("vc", "=", "3"),)), Cmp("crc", "=", "ok")))))
    assert parse_where("(apid=1 or vc=2) and service>=3") == BoolOp(
        "and", (BoolOp("or", (Cmp("apid", "=", "1"), Cmp("vc", "=", "2"))), Cmp("service", ">=", "3")))
    assert parse_where("   ") is None


@pytest.mark.parametrize("text,msg", [
    ("apid=", "expected"), ("apid 12", "operator"), ("(apid=1", "not closed"), ("apid=1 vc=2", "unexpected"),
    ("apid=1; drop table x", "unexpected character"), ("colour=red", "unknown field"), ("apid=abc", "number"),
    ("crc=maybe", "ok or bad"), ("utc>=yesterday", "UTC time"), ("apid~1", "only applies to"),
    ("not " * 60 + "apid=1", "nested"), ("level=L2", "level"),
])
def test_bad_filters_give_one_line(text, msg):
    with pytest.raises(UserError, match=msg) as err:
        compile_where(parse_where(text), "packets")
    assert "\n" not in str(err.value)


def test_field_not_applying_to_target():
    with pytest.raises(UserError, match="does not apply"):
        compile_where(parse_where("apid=1"), "frames")
    with pytest.raises(UserError, match="does not apply"):
        compile_where(parse_where("vc=1"), "carrier")


def test_times():
    assert parse_time("2024-10-07T17:06:31Z") == 1728320791.0
    assert parse_time("2024-10-07T17:06:31") == 1728320791.0
    assert parse_time("1728320791.5") == 1728320791.5


_fields = st.sampled_from(["apid", "vc", "service", "subtype", "obt", "item", "version"])
_ops = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
_cmp = st.builds(lambda f, o, v: Cmp(f, o, str(v)), _fields, _ops, st.integers(0, 2047))
_tree = st.recursive(_cmp, lambda kids: st.one_of(
    st.builds(lambda a: BoolOp("not", (a,)), kids),
    st.builds(lambda xs: BoolOp("and", tuple(xs)), st.lists(kids, min_size=2, max_size=3)),
    st.builds(lambda xs: BoolOp("or", tuple(xs)), st.lists(kids, min_size=2, max_size=3))), max_leaves=8)


def _text(node) -> str:
    if isinstance(node, Cmp):
        return f"{node.field}{node.op}{node.value}"
    if node.op == "not":
        return f"not ({_text(node.terms[0])})"
    return "(" + f" {node.op} ".join(_text(t) for t in node.terms) + ")"


def _flat(node):
    """The tree with nested same-operator groups merged (what the parser builds)."""
    if isinstance(node, Cmp):
        return node
    terms = []
    for t in node.terms:
        t = _flat(t)
        if node.op != "not" and isinstance(t, BoolOp) and t.op == node.op:
            terms.extend(t.terms)
        else:
            terms.append(t)
    return BoolOp(node.op, tuple(terms))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_tree)
def test_round_trip(tree):
    assert _flat(parse_where(_text(tree))) == _flat(tree)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=80))
def test_any_text_parses_or_gives_user_error_and_values_are_bound(text):
    try:
        cond = compile_where(parse_where(text), "packets")
    except UserError:
        return
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        sql = str(cond.compile(dialect=dialect))
        for word in ("DROP", "DELETE", "UNION", ";", "--"):
            assert word not in sql.upper()


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.text(alphabet=st.characters(blacklist_characters="'\x00"), max_size=40))
def test_quoted_strings_become_parameters(value):
    cond = compile_where(parse_where(f"recording='{value}'"), "items")
    compiled = cond.compile(dialect=postgresql.dialect())
    assert value in compiled.params.values()

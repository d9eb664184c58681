"""The products page's query builder: rows of (connector, field, operator, value) to filter text."""

import pytest

from heradecode.archive.where import parse_where, BoolOp, Cmp
from heradecode.errors import UserError
from heradecode.web.app import builder_where


def test_rows_and_free_text_combine():
    params = {"field0": "apid", "op0": "=", "value0": "260", "join1": "and not", "field1": "pec", "op1": "=",
              "value1": "bad", "join2": "or", "field2": "vc", "op2": "=", "value2": "7"}
    text = builder_where(params)
    assert text == "apid='260' and not pec='bad' or vc='7'"
    assert parse_where(text) == BoolOp("or", (BoolOp("and", (Cmp("apid", "=", "260"),
                                                             BoolOp("not", (Cmp("pec", "=", "bad"),)))),
                                              Cmp("vc", "=", "7")))
    assert builder_where({"where": "item=3", "field0": "apid", "value0": "1"}) == "(item=3) and (apid='1')"
    assert builder_where({"join0": "and not", "field0": "vc", "op0": "=", "value0": "1"}) == "not vc='1'"
    assert builder_where({"field0": "apid", "value0": "  "}) is None


@pytest.mark.parametrize("params", [
    {"field0": "password_hash", "op0": "=", "value0": "x"},
    {"field0": "apid", "op0": "; drop", "value0": "x"},
    {"field0": "apid", "op0": "=", "value0": "1", "join1": "union", "field1": "vc", "op1": "=", "value1": "2"},
    {"field0": "recording", "op0": "=", "value0": "it's a \"quote\""},
])
def test_bad_builder_rows(params):
    with pytest.raises(UserError):
        builder_where(params)


def test_values_are_quoted_so_they_stay_values():
    text = builder_where({"field0": "recording", "op0": "=", "value0": "x or item>0"})
    assert parse_where(text) == Cmp("recording", "=", "x or item>0")

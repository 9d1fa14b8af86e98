"""Quoted field names in the field language: `key."Item ID" = 7` (issue 21).

Names with spaces, dots and quotes are double-quoted as in SQL, a doubled quote inside
standing for one; the window's filter bar, `filter`, `listen`, `changes` and `history`
share the language (one engine), and `field_path` writes what it reads back.
"""

from __future__ import annotations

import json

import pytest

from pgwatch_gui.core.filtering.engine import FilterSpec, compile_filter
from pgwatch_gui.core.filtering.facets import FacetCache
from pgwatch_gui.core.filtering.fields import FieldSyntaxError, field_path, parse_fields
from pgwatch_gui.core.stream.events import Event

ROW = {"id": 1, "Item ID": 7, "a.b": "dotted", 'say "hi"': "quoted", "and": "kw",
       "status": "New York", "nested": {"x y": [10, 20]}}


def event(seq: int, row: dict, key: dict) -> Event:
    return Event(seq, 1.0, "", "c", 1, json.dumps(
        {"v": 1, "op": "INSERT", "schema": "Sales Dept", "table": "Order Items",
         "key": key, "row": row}))


EVENTS = [event(1, ROW, {"Item ID": 7}), event(2, {**ROW, "Item ID": 8}, {"Item ID": 8}),
          event(3, {"id": 3}, {"id": 3})]


@pytest.mark.parametrize("where,seqs", [
    ('key."Item ID" = 7', [1]),
    ('row."Item ID" >= 7 and row."Item ID" < 8', [1]),
    ('row."a.b" = dotted and key."Item ID" != 7', [2]),
    ('row."say ""hi""" = quoted', [1, 2]),
    ('row."and" = kw', [1, 2]),
    ('row.status = "New York" and key."Item ID" = 8', [2]),
    ('row.nested."x y".1 = 20', [1, 2]),
    ('"key"."Item ID" = 8', [2]),
    ('key."Item ID"', [1, 2]),  # present and not null
    ('key."Item ID" = 7 or key.id = 3', [1, 3]),
])
def test_quoted_names_select_the_right_rows(where, seqs):
    flt = compile_filter(FilterSpec(fields=where))
    assert flt.errors == {}
    assert [EVENTS[i].seq for i in flt.select(EVENTS, 0, FacetCache())] == seqs
    assert [e.seq for e in EVENTS if flt.matches(e)] == seqs


@pytest.mark.parametrize("where,message", [
    ('key."" = 1', "an empty quoted name"),
    ('key."Item ID = 7', 'unclosed quote "'),
    ("key. = 1", "is not a field path"),
    ("key..id = 1", 'or key."Item ID" for a name with spaces'),
    ("'key' = 1", "expected a field path"),
])
def test_mistakes_are_one_line(where, message):
    with pytest.raises(FieldSyntaxError) as err:
        parse_fields(where)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_values_keep_their_old_quoting():
    (cond,), = parse_fields(r'row.note = "a \"b\" c"')
    assert cond.path == ("row", "note") and cond.literal == 'a "b" c'
    (cond,), = parse_fields("row.status='x y'")
    assert cond.literal == "x y"
    (cond,), = parse_fields("row.v = x.y")
    assert cond.literal == "x.y"


@pytest.mark.parametrize("parts", [
    ("key", "id"), ("key", "Item ID"), ("row", "a.b"), ("row", 'say "hi"'), ("row", "and"),
    ("row", "OR"), ("items", 0, "sku"), ("row", "x=y"), ("row", "a~b"), ("row", "é ü"),
    ("row", "it's"), ("row", " lead"),
])
def test_field_path_reads_back(parts):
    text = field_path(parts)
    (cond,), = parse_fields(f"{text} = 1")
    assert cond.path == tuple(str(p) for p in parts)


def test_field_path_quotes_only_when_needed():
    assert field_path(("key", "id")) == "key.id"
    assert field_path(("key", "Item ID")) == 'key."Item ID"'
    assert field_path(("row", 'a"b')) == 'row."a""b"'
    with pytest.raises(ValueError):
        field_path(("row", ""))

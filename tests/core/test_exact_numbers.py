"""Issue 23: numbers in payloads are kept exactly, from the decode to the filter, the
inspector and every export. A 40-digit numeric key was rounded to a float."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest

from pgwatch_gui.core.filtering.engine import FilterSpec, compile_filter
from pgwatch_gui.core.filtering.facets import FacetCache, facets_of
from pgwatch_gui.core.stream.events import Event, format_key, new_change_event, new_event
from pgwatch_gui.core.stream.export import EventWriter, csv_text
from pgwatch_gui.core.stream.jsonl import JsonlFormatter, event_to_json
from pgwatch_gui.core.stream.payloads import decode_payload, peek_payload

BIG = "12345678901234567890123456789012345678.5"  # numeric(40,1): no float holds it
INT40 = "1234567890123456789012345678901234567890"
TINY = "1.000000000000000000001"


def envelope(key: str, row: str = "") -> str:
    return (f'{{"v":1,"op":"UPDATE","schema":"public","table":"big","key":{{"id":{key}}},'
            f'"row":{{"id":{key},"v":{row or key}}}}}')


def ev(payload: str, seq: int = 1) -> Event:
    return new_event(seq, 1_700_000_000.0, "", "big", 7, payload)


@pytest.mark.parametrize("decode", [decode_payload, peek_payload])
def test_the_key_is_exact(decode):
    d = decode(envelope(BIG))
    assert d.key == {"id": Decimal(BIG)}
    assert str(d.key["id"]) == BIG
    assert decode(envelope(INT40)).key == {"id": int(INT40)}
    assert format_key(d.key) == f"id={BIG}"  # the table's key column, the inspector's header


def test_every_number_keeps_its_digits():
    value = decode_payload(envelope("1", TINY)).value
    assert value["row"]["v"] == Decimal(TINY) and str(value["row"]["v"]) == TINY
    assert decode_payload('{"x": 1e400}').value == {"x": Decimal("1e400")}  # not infinity
    assert str(decode_payload('{"x": 1.50}').value["x"]) == "1.50"


@pytest.mark.parametrize("where, hit", [
    (f"key.id = {BIG}", True),
    ("key.id = 12345678901234567890123456789012345678", False),
    (f"key.id > {BIG[:-1]}4", True),
    (f"row.v = {TINY}", True),
    ("row.v = 1", False),
])
def test_filters_compare_exactly(where, hit):
    flt = compile_filter(FilterSpec(fields=where))
    assert flt.select([ev(envelope(BIG, TINY))], 0, FacetCache()) == ([0] if hit else [])


def test_a_forty_digit_integer_key_matches():
    flt = compile_filter(FilterSpec(fields=f"key.id = {INT40}"))
    assert flt.select([ev(envelope(INT40))], 0, FacetCache()) == [0]


def test_a_numeric_written_as_text_matches_its_number():
    """A row change's numeric column arrives as the server's text ("12.50")."""
    env = {"v": 1, "op": "INSERT", "schema": "public", "table": "t", "key": {"id": INT40},
           "row": {"id": INT40, "total": "12.50"}}
    change = new_change_event(1, 0.0, "", "pub", json.dumps(env))
    for where in (f"key.id = {INT40}", "row.total = 12.5", "row.total = 12.50",
                  "row.total > 12.4"):
        flt = compile_filter(FilterSpec(fields=where))
        assert flt.select([change], 0, FacetCache()) == [0], where
    flt = compile_filter(FilterSpec(fields="row.total = 12.51"))
    assert flt.select([change], 0, FacetCache()) == []


def test_lines_and_exports_carry_the_digits():
    e = ev(envelope(BIG, TINY))
    for line in (event_to_json(e), JsonlFormatter().line(e)):
        rec = json.loads(line, parse_float=Decimal)
        assert rec["key"] == {"id": Decimal(BIG)}
        assert f'"key":{{"id":{BIG}}}' in line  # the payload's own text
    out = io.StringIO()
    EventWriter(out, "csv").write([e])
    assert f'{{""id"": {BIG}}}' in out.getvalue()
    assert BIG in csv_text([e]).splitlines()[1].split(",")[7]


def test_facets_show_the_exact_key():
    assert facets_of(ev(envelope(BIG)))[2] == f"id={BIG}"


def test_a_hand_written_payload_keeps_its_digits_too():
    e = ev(f'{{"operation": "UPDATE", "table": "t", "record_id": {BIG}}}')
    assert json.loads(event_to_json(e), parse_float=Decimal)["key"] == {"id": Decimal(BIG)}
    assert f'"key":{{"id":{BIG}}}' in event_to_json(e)

"""The fast payload decoder (msgspec first, json.loads for whatever it refuses) must give
exactly what json.loads gives: the same value, or an error where json.loads has one.

Compared by repr, so 1 and 1.0, -0.0 and 0.0, key order and NaN all count."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgwatch_gui.core.stream import payloads as events
from pgwatch_gui.core.stream.payloads import _loads, _loads_stdlib, decode_payload, peek_payload


def outcome(fn, text: str) -> str:
    try:
        return "value " + repr(fn(text))
    except RecursionError:
        return "error RecursionError"
    except ValueError:
        return "error"


def assert_same(text: str) -> None:
    assert outcome(_loads, text) == outcome(_loads_stdlib, text), text[:200]


EDGES = [
    "0", "-0", "-0.0", "1E5", "0.1e1", "2.5e-324", "1e-400", "1e400", "-1e400", "NaN",
    "Infinity", "-Infinity", "1.7976931348623157e308", "18446744073709551615",
    "18446744073709551616", "-9223372036854775808", "-9223372036854775809",
    "123456789012345678901234567890", "1" * 4300, "1" * 4301, "1" + "0" * 400 + ".5",
    "0." + "0" * 400 + "1e400", "01", "1.", ".5", "+1", "[1,]", '{"a":1,}', "[1,2", "tru",
    "true", "false", "null", '"\\ud800"', '"\\udc00x"', '"\\ud83d\\ude00"', '"\\u0000"',
    '"a\x01"', '"\x7f"', '"\\/"', '"\\x"', '{"\\u00e9":1}', '{"a":1,"a":2,"b":3}',
    '{"a":1,"b":2,"a":3}', '{"a" : 1 , "b" :[ ] }', "[1 2]", '{"a" 1}', "{1:2}",
    '"é"', '"\u2028"', '"\ud800"', "[" * 2000 + "]" * 2000, '"' + "x" * 100_000 + '"',
    '{"v" : 1, "op" : "UPDATE", "schema" : "public", "table" : "orders", "key" : {"id" : 1}}',
]


@pytest.mark.parametrize("text", EDGES, ids=range(len(EDGES)))
def test_edges_match_json_loads(text: str) -> None:
    assert_same(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=5), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(json_values, st.booleans(), st.sampled_from([None, 0, 2]))
def test_generated_json_matches_json_loads(value, ascii_only: bool, indent) -> None:
    assert_same(json.dumps(value, ensure_ascii=ascii_only, indent=indent))


number = st.from_regex(r"\A-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,25})?([eE][+-]?[0-9]{1,3})?\Z")


@settings(max_examples=400, deadline=None)
@given(number)
def test_number_texts_match_json_loads(text: str) -> None:
    assert_same(text)
    v = _loads(text)
    assert not (isinstance(v, float) and math.isnan(v))


# Text made of JSON's own characters, so most of it is nearly JSON.
jsonish = st.text(alphabet=st.sampled_from(list('{}[]:,"\\ .-+eE01239aútrufalsn\ud800\x01')),
                  max_size=40)


@settings(max_examples=1000, deadline=None)
@given(jsonish)
def test_nearly_json_text_matches_json_loads(text: str) -> None:
    assert_same(text)


@settings(max_examples=300, deadline=None)
@given(json_values, st.integers(min_value=0, max_value=200), st.text(max_size=3))
def test_damaged_json_matches_json_loads(value, at: int, junk: str) -> None:
    text = json.dumps(value, ensure_ascii=False)
    at = min(at, len(text))
    assert_same(text[:at] + junk + text[at:])
    assert_same(text[:at])


def test_decode_payload_uses_the_fast_decoder(monkeypatch) -> None:
    """The speed is there: an ordinary payload never reaches json.loads's scanner."""
    def refuse(*_a):
        raise AssertionError("the stdlib scanner ran")

    monkeypatch.setattr(events, "_scan", refuse)
    d = decode_payload('{"v":1,"op":"INSERT","schema":"public","table":"t","key":{"id":7}}')
    assert (d.op, d.table, d.key) == ("INSERT", "t", {"id": 7})


def test_non_ascii_text_keeps_no_utf8_copy() -> None:
    """msgspec given a non-ASCII str caches its UTF-8 form inside the str; held events
    would then hold every payload twice."""
    import sys

    text = '{"name": "' + "é" * 10_000 + '"}'
    before = sys.getsizeof(text)
    assert decode_payload(text).value == {"name": "é" * 10_000}
    assert sys.getsizeof(text) == before


# ---- peek_payload: the envelope's fields without the rest ---------------------------------


def fields(d) -> tuple:
    return (d.shape, repr(d.op), repr(d.schema), repr(d.table), repr(d.key), d.error)


def assert_peek_agrees(text: str) -> None:
    assert fields(peek_payload(text)) == fields(decode_payload(text)), text[:200]


ENVELOPE_EDGES = [
    '{"v":1,"op":"INSERT","schema":"public","table":"t","key":{"id":1},"row":{"id":1}}',
    '{"v" : 1, "op" : "update", "table" : "t", "key" : {"id" : 1}, "row" : {"x" : NaN}}',
    '{"v":1,"op":"INSERT","table":"t","row":{"x":1e400}}',
    '{"v":1,"op":"INSERT","table":"t","key":{"id":1e400}}',
    '{"v":1,"op":"INSERT","table":"t","row":"\\ud800"}',
    '{"v":1,"op":"INSERT","table":"t","row":"\\x"}',
    '{"v":1,"op":"INSERT","table":"t","row":[1,]}',
    '{"v":1,"op":"INSERT","table":"t"} trailing',
    '{"v":1,"op":"INSERT","table":"t"}\\u000b',
    '{"v":1,"op":"INSERT","table":"t"}\x0b',
    '{"v":1,"op":"INSERT","table":"t"}\n',
    '{"v":1,"op":"INSERT","table":"t","op":"DELETE","v":2}',
    '{"v":2,"op":"INSERT","table":"t"}',
    '{"v":1.0,"op":"INSERT","table":"t"}',
    '{"v":true,"op":"INSERT","table":"t"}',
    '{"v":1,"op":7,"schema":3,"table":["t"],"key":"k"}',
    '{"v":1,"op":"INSERT"}',
    '{"v":1,"table":"t"}',
    '{"v":1,"op":"INSERT","table":"t","key":{"id":' + "[" * 2000 + "]" * 2000 + "}}",
    '{"v":1,"op":"INSERT","table":"t","key":{"é":"\ud800"}}',
    '{"v":1,"op":"INSERT","table":"tä","row":{"name":"' + "é" * 1000 + '"}}',
    '{"v"',
    '{"v":1,"op":"INSERT","table":"t","key":{"id":12345678901234567890123}}',
]


@pytest.mark.parametrize("text", ENVELOPE_EDGES, ids=range(len(ENVELOPE_EDGES)))
def test_peek_agrees_with_decode_on_edges(text: str) -> None:
    assert_peek_agrees(text)


envelopes = st.fixed_dictionaries(
    {"v": st.sampled_from([1, 1.0, 2, True, "1"])},
    optional={"op": json_values | st.sampled_from(["INSERT", "update", "DELETE(x)"]),
              "schema": json_values, "table": json_values, "key": json_values,
              "row": json_values, "old": json_values},
)


@settings(max_examples=400, deadline=None)
@given(envelopes, st.sampled_from([None, (",", ":"), (", ", ": "), (" , ", " : ")]),
       st.booleans())
def test_peek_agrees_with_decode_on_generated_envelopes(obj, separators, ascii_only) -> None:
    assert_peek_agrees(json.dumps(obj, separators=separators, ensure_ascii=ascii_only))


@settings(max_examples=400, deadline=None)
@given(envelopes, st.integers(min_value=0, max_value=300), st.text(max_size=3))
def test_peek_agrees_with_decode_on_damaged_envelopes(obj, at: int, junk: str) -> None:
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    at = min(at, len(text))
    assert_peek_agrees(text[:at] + junk + text[at:])
    assert_peek_agrees(text[:at])


def test_peek_builds_nothing_but_the_envelope_fields() -> None:
    d = peek_payload('{"v":1,"op":"INSERT","table":"t","key":{"id":1},"row":{"id":1}}')
    assert d.value is None and d.key == {"id": 1} and d.op == "INSERT"

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
from pgwatch_gui.core.stream.payloads import _loads, _loads_stdlib, decode_payload


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

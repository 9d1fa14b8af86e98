"""Payload decoding: this tool's envelope, the seeds' hand-written shapes, and bad input."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgwatch_gui.core.stream import events as ev_mod
from pgwatch_gui.core.stream.events import Event, format_key, make_gap
from pgwatch_gui.core.stream.payloads import (
    SHAPE_CHANGE,
    SHAPE_EMPTY,
    SHAPE_ENVELOPE,
    SHAPE_JSON,
    SHAPE_ROW,
    SHAPE_TEXT,
    decode_payload,
)


def test_envelope():
    payload = json.dumps({"v": 1, "op": "UPDATE", "schema": "public", "table": "orders",
                          "key": {"id": 42}, "row": {"id": 42, "status": "paid"},
                          "old": {"id": 42, "status": "new"}, "changed": ["status"],
                          "txid": 1, "ts": "2026-11-21T10:00:00+00:00"})
    d = decode_payload(payload)
    assert (d.shape, d.op, d.schema, d.table, d.key) == (
        SHAPE_ENVELOPE, "UPDATE", "public", "orders", {"id": 42})
    assert d.value["changed"] == ["status"]


def test_seed_operation_record_id():
    # seed 001: json_build_object('operation', TG_OP, 'record_id', COALESCE(NEW.id, OLD.id))
    d = decode_payload('{"operation" : "DELETE", "record_id" : 7}')
    assert (d.shape, d.op, d.table, d.key) == (SHAPE_CHANGE, "DELETE", None, {"id": 7})


def test_seed_per_user_message_is_a_row():
    # seed 001: user_notifications_<id> with {id, message, type}
    d = decode_payload('{"id" : 3, "message" : "hi", "type" : "chat"}')
    assert d.shape == SHAPE_ROW and d.key == {"id": 3} and d.op is None


def test_seed_bare_row_to_json():
    # seed 002: row_to_json(NEW)::text
    d = decode_payload('{"id":5,"title":"x","body":null}')
    assert d.shape == SHAPE_ROW and d.key == {"id": 5}


def test_seed_table_operation_data():
    # seed 003: {"table", "operation" (maybe "UPDATE(via reference)"), "data"}
    d = decode_payload('{"table": "Book", "operation": "UPDATE(via reference)", '
                       '"data": [{"id": 1}, {"id": 2}]}')
    assert (d.shape, d.op, d.table, d.key) == (SHAPE_CHANGE, "UPDATE", "Book", None)
    d = decode_payload('{"table": "User", "operation": "INSERT", "data": {"id": 9, "n": "a"}}')
    assert d.key == {"id": 9}


def test_seed_article_example_and_qualified_table():
    d = decode_payload('{"id": 123, "action": "INSERT", "table": "Article"}')
    assert (d.op, d.table, d.key) == ("INSERT", "Article", {"id": 123})
    d = decode_payload('{"op": "insert", "table": "shop.orders"}')
    assert (d.op, d.schema, d.table) == ("INSERT", "shop", "orders")


@pytest.mark.parametrize(
    ("payload", "shape"),
    [
        ("", SHAPE_EMPTY),
        ("   ", SHAPE_EMPTY),
        ("Hello, world!", SHAPE_TEXT),  # seed 000: pg_notify('channel_name', NEW.message)
        ("{not json", SHAPE_TEXT),
        ("[1, 2, 3]", SHAPE_JSON),
        ("42", SHAPE_JSON),
        ('"a string"', SHAPE_JSON),
        ("null", SHAPE_JSON),
        ("NaN", SHAPE_JSON),
        ("[" * 100_000, SHAPE_TEXT),  # too deep: RecursionError must not escape
        ("{}", SHAPE_ROW),
    ],
)
def test_odd_payloads_never_raise(payload, shape):
    d = decode_payload(payload)
    assert d.shape == shape
    assert d.op is None


def test_7999_bytes():
    big = json.dumps({"v": 1, "op": "INSERT", "schema": "s", "table": "t", "key": {"id": 1},
                      "row": {"pad": ""}})
    pad = 7999 - len(big.encode())
    payload = big.replace('"pad": ""', '"pad": "' + "é" * (pad // 2) + "x" * (pad % 2) + '"')
    assert len(payload.encode()) == 7999
    e = Event(1, 0.0, "p", "c", 1, payload)
    assert e.size == 7999 and e.op == "INSERT"


def test_event_decodes_once(monkeypatch):
    calls = []
    real = ev_mod.decode_payload

    def counting(p):
        calls.append(p)
        return real(p)

    monkeypatch.setattr(ev_mod, "decode_payload", counting)
    e = Event(1, 0.0, "p", "c", 1, '{"op": "INSERT", "table": "t", "id": 1}')
    assert (e.op, e.table, e.key, e.qualified_table) == ("INSERT", "t", {"id": 1}, "t")
    assert len(calls) == 1


def test_event_is_frozen_and_slotted():
    e = Event(1, 0.0, "p", "c", 1, "x")
    with pytest.raises(AttributeError):
        e.payload = "y"  # type: ignore[misc]
    assert not hasattr(e, "__dict__")


def test_gap_marker():
    g = make_gap(9, "prof", 100.0, 103.5, "server closed the connection")
    assert g.is_gap and g.op is None and "3.5 s" in g.payload and "lost" in g.payload


def test_format_key():
    assert format_key({"id": 42}) == "id=42"
    assert format_key({"a": 1, "b": "x"}) == "a=1, b=x"
    assert format_key(None) == ""


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_any_text_decodes(payload):
    e = Event(1, 0.0, "p", "c", 1, payload)
    d = e.decoded
    assert d.shape in {SHAPE_EMPTY, SHAPE_TEXT, SHAPE_JSON, SHAPE_ENVELOPE, SHAPE_CHANGE, SHAPE_ROW}
    _ = (e.op, e.schema, e.table, e.key, e.size, e.qualified_table)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids,
                                                              max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["v", "op", "operation", "table", "schema", "key", "id",
                                        "record_id", "data", "row", "action", "type"]),
                       json_values, max_size=6))
def test_any_json_object_decodes(obj):
    d = decode_payload(json.dumps(obj))
    assert d.is_json
    assert d.key is None or isinstance(d.key, dict)
    assert d.op is None or isinstance(d.op, str)


def test_new_event_equals_constructor():
    from pgwatch_gui.core.stream.events import new_event

    a = new_event(3, 1.5, "p", "c", 9, '{"op": "INSERT"}', True)
    b = Event(3, 1.5, "p", "c", 9, '{"op": "INSERT"}', own=True)
    assert a == b and repr(a) == repr(b) and a.op == "INSERT"
    with pytest.raises(AttributeError):
        a.seq = 4  # type: ignore[misc]


def test_new_event_is_a_plain_frozen_event():
    """An Event (a msgspec struct) is frozen, hashable and picklable, and its equality
    leaves out the lazy decode and the size, as the dataclass it was did."""
    import gc
    import pickle

    from pgwatch_gui.core.stream.events import new_event

    a = new_event(3, 1.5, "p", "c", 9, "x", size=1)
    assert type(a) is Event and a.size == 1 and a.kind == "notify" and a._decoded is None
    assert hash(a) == hash(Event(3, 1.5, "p", "c", 9, "x"))
    assert pickle.loads(pickle.dumps(a)) == a
    for name in Event.__struct_fields__:
        with pytest.raises(AttributeError):
            setattr(a, name, None)
    b = new_event(3, 1.5, "p", "c", 9, "x")
    assert a.decoded is a.decoded and a == b and a != new_event(4, 1.5, "p", "c", 9, "x")
    assert not gc.is_tracked(a)

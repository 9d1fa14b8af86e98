"""One value, two spellings: to_json in a payload, the server's text in the stream."""

from __future__ import annotations

import json

import msgspec
import pytest

from pgwatch_gui.core.audit.records import notice_from_payload, same_transaction
from pgwatch_gui.core.audit.values import json_size, parse_array, same


@pytest.mark.parametrize("payload, committed", [
    (12.5, "12.50"),  # numeric: a JSON number, the server's text
    (12345678.1234, "12345678.1234"),
    (7, 7),
    ("2026-11-30T11:00:00.5+01:00", "2026-11-30 10:00:00.5+00"),  # timestamptz, two zones
    ("2026-11-30T10:00:00", "2026-11-30 10:00:00"),  # timestamp
    (["a", "b c", None], '{a,"b c",NULL}'),  # text[]
    ([[1, 2], [3, 4]], "{{1,2},{3,4}}"),
    ({"a": [1, None, "x"]}, {"a": [1, None, "x"]}),  # jsonb, decoded
    ({"a": 1}, '{"a": 1}'),  # json passed through as raw text
    ({"a": 1}, msgspec.Raw(b'{"a":1}')),
    (True, True),
    (None, None),
    ("\\x0102", "\\x0102"),  # bytea
    ("plain", "plain"),
])
def test_same_value(payload, committed):
    assert same(payload, committed)


@pytest.mark.parametrize("payload, committed", [
    (12.5, "12.51"),
    ("2026-11-30T10:00:00.5+01:00", "2026-11-30 10:00:00.5+00"),
    (["a"], "{a,b}"),
    ("new", "paid"),
    (None, "x"),
    (True, False),
    ({"a": 1}, '{"a": 2}'),
])
def test_different_values(payload, committed):
    assert not same(payload, committed)


def test_array_literals():
    assert parse_array('{a,"b\\"c",NULL,"NULL"}') == ["a", 'b"c', None, "NULL"]
    assert parse_array("{}") == []
    assert parse_array("{a,b") is None and parse_array("{a}x") is None


def test_payload_shapes_read_for_their_claims():
    env = notice_from_payload(json.dumps({
        "v": 1, "op": "DELETE", "schema": "s", "table": "t", "key": {"id": 1},
        "old": {"id": 1, "x": 2}, "txid": "12884902588", "ts": "..."}))
    assert (env.op, env.schema, env.table, env.ident, env.row, env.txid) == (
        "DELETE", "s", "t", {"id": 1}, {"id": 1, "x": 2}, 12884902588)
    tad = notice_from_payload('{"table": "public.t", "action": "update", '
                              '"data": {"id": 2, "x": 3}, "old_data": {"id": 2, "x": 1}}')
    assert (tad.op, tad.schema, tad.table, tad.row, tad.old) == (
        "UPDATE", "public", "t", {"id": 2, "x": 3}, {"id": 2, "x": 1})
    nested = notice_from_payload('{"tg_op": "DELETE", "record": {"new": null, '
                                 '"old": {"id": 4}}}')
    assert nested.op == "DELETE" and nested.row == {"id": 4}
    op_id = notice_from_payload('{"operation": "INSERT", "id": 9}')
    assert (op_id.op, op_id.ident, op_id.row) == ("INSERT", {"id": 9}, None)
    row = notice_from_payload('{"id": 3, "status": "new"}')
    assert (row.op, row.table, row.row) == (None, None, {"id": 3, "status": "new"})
    assert notice_from_payload("42").scalar == 42
    text = notice_from_payload("update:8f14e45f")
    assert (text.op, text.scalar) == ("UPDATE", "8f14e45f")
    assert not notice_from_payload("").says_anything


def test_txid_current_against_the_stream_xid():
    assert same_transaction((5 << 32) | 1234, 1234)
    assert same_transaction(1234, 1234)
    assert same_transaction(1235, 1234) is False
    assert same_transaction(None, 1234) is None


def test_json_size_counts_utf8_bytes():
    assert json_size({"a": "é"}) == len('{"a":"é"}'.encode())


def test_raw_json_from_the_stream_is_shown_as_json():
    import msgspec

    from pgwatch_gui.core.audit.records import Change
    from pgwatch_gui.core.audit.report import sides
    from pgwatch_gui.core.audit.results import MISSING, Discrepancy

    c = Change(0, 1.0, ("public", "t"), "INSERT", {"id": 1},
               {"id": 1, "doc": msgspec.Raw(b'{"a": [1, 2]}')}, xid=5)
    d = Discrepancy(MISSING, c.table, "why", 1.0, c)
    assert d.to_dict()["committed"] == {"id": 1, "doc": {"a": [1, 2]}}
    committed, notified, why = sides(d)
    assert '"a": [1, 2]' in committed and "transaction 5" in committed
    assert "no notification" in notified and why == "why"

"""The decoder and the protocol framing on their own: malformed input is one clear error."""

from __future__ import annotations

import json
import struct

import pytest

from pgwatch_gui.core.replication.pgoutput import DecodeError, Decoder, envelope_of
from pgwatch_gui.core.replication.protocol import (
    lsn_text,
    parse_keepalive,
    parse_lsn,
    standby_status,
)
from pgwatch_gui.core.stream.events import KIND_CHANGE, new_change_event
from pgwatch_gui.core.stream.jsonl import event_to_json
from pgwatch_gui.core.stream.recording import record_to_event


def relation(oid: int, schema: str, name: str, cols: list[tuple[str, int, bool]],
             identity: bytes = b"d") -> bytes:
    out = b"R" + struct.pack("!I", oid) + schema.encode() + b"\0" + name.encode() + b"\0"
    out += identity + struct.pack("!h", len(cols))
    for col, typ, key in cols:
        out += bytes([1 if key else 0]) + col.encode() + b"\0" + struct.pack("!Ii", typ, -1)
    return out


def tuple_data(*values: bytes | str | None) -> bytes:
    out = struct.pack("!h", len(values))
    for v in values:
        if v is None:
            out += b"n"
        elif v == "u":
            out += b"u"
        else:
            out += b"t" + struct.pack("!i", len(v)) + v
    return out


def begin(xid: int = 42) -> bytes:
    return b"B" + struct.pack("!QqI", 100, 0, xid)


def test_values_types_and_unchanged_toast():
    d = Decoder()
    d.feed(begin())
    d.feed(relation(7, "s", "t", [("id", 23, True), ("ok", 16, False), ("doc", 3802, False),
                                  ("big", 25, False), ("n", 1700, False)]))
    (change,) = d.feed(b"I" + struct.pack("!I", 7) + b"N"
                       + tuple_data(b"5", b"t", b'{"a": [1]}', b"x", b"1.50"))
    ins = envelope_of(change)
    assert ins["row"] == {"id": 5, "ok": True, "doc": {"a": [1]}, "big": "x", "n": "1.50"}
    assert ins["key"] == {"id": 5} and ins["txid"] == "42"
    assert change[1:] == ("INSERT", "s", "t", b'{"id":5}')
    assert b'"doc":{"a": [1]}' in change[0]  # the server's own text
    (change,) = d.feed(b"U" + struct.pack("!I", 7) + b"N"
                       + tuple_data(b"5", b"f", b'"text"', "u", None))
    upd = envelope_of(change)
    assert upd["row"] == {"id": 5, "ok": False, "doc": "text", "n": None}
    assert upd["unchanged_toast"] == ["big"] and "old" not in upd


def test_messages_it_has_no_use_for_are_skipped_and_garbage_is_an_error():
    d = Decoder()
    assert d.feed(b"Y" + struct.pack("!I", 1) + b"s\0t\0") is None
    assert d.feed(b"O" + struct.pack("!Q", 1) + b"origin\0") is None
    assert d.ignored == 2
    with pytest.raises(DecodeError, match="unknown pgoutput message"):
        d.feed(b"Z")
    with pytest.raises(DecodeError, match="before its Relation"):
        d.feed(b"I" + struct.pack("!I", 99) + b"N" + tuple_data(b"1"))


def test_lsn_and_status_update():
    assert lsn_text(parse_lsn("16/B374D848")) == "16/B374D848"
    with pytest.raises(ValueError):
        parse_lsn("nope")
    msg = standby_status(5, 5, 5, now=946_684_800 + 1, reply=True)
    assert msg[:1] == b"r" and struct.unpack("!QQQqB", msg[1:]) == (5, 5, 5, 1_000_000, 1)
    end, sent, reply = parse_keepalive(b"k" + struct.pack("!QqB", 77, 0, 1))
    assert (end, sent, reply) == (77, 946_684_800.0, True)


def test_change_event_round_trips_through_a_recording():
    ev = new_change_event(3, 1_700_000_000.0, "prof", "pgwatch_changes_x",
                          '{"v":1,"op":"DELETE","schema":"s","table":"t","key":{"id":1},'
                          '"old":{"id":1},"txid":"9","ts":"2026-01-01T00:00:00+00:00"}')
    back = record_to_event(json.loads(event_to_json(ev)), 1)
    assert back.kind == KIND_CHANGE and back.op == "DELETE" and back.key == {"id": 1}
    assert back.payload == ev.payload

"""Issue 23: `listen` writes its lines straight from libpq's notifications (ChunkLines),
byte for byte what JsonlFormatter writes for the same notifications as Events."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.pq.misc import PGnotify

from pgwatch_gui.core.stream.chunk_lines import ChunkLines
from pgwatch_gui.core.stream.chunks import NotifyChunk
from pgwatch_gui.core.stream.jsonl import FIELDS, JsonlFormatter, parse_fields
from tests.core.test_perf_export import PAYLOADS

SHAPES = [
    FIELDS,
    ("channel", "payload"),
    ("payload",),
    ("payload", "channel", "seq"),
    ("key", "op"),
    ("received_at", "profile", "kind", "own", "size", "pid", "table", "schema"),
]


def chunks_of(payloads: list[bytes], *, channels=(b"orders",), profile="", own_pid=None,
              per_chunk=7, encoding="utf-8") -> list[NotifyChunk]:
    items = [PGnotify(channels[i % len(channels)], 100 + i % 3, p) for i, p in enumerate(payloads)]
    out = []
    seq = 1
    for k, a in enumerate(range(0, len(items), per_chunk)):
        part = items[a:a + per_chunk]
        out.append(NotifyChunk(1_700_000_000.0 + k * 0.25, seq, part, profile, own_pid,
                               encoding))
        seq += len(part)
    return out


def expected(chunks: list[NotifyChunk], fields) -> bytes:
    fmt = JsonlFormatter(fields)
    return b"".join(fmt.line(ev).encode("utf-8") + b"\n" for c in chunks for ev in c.events())


ODD = [
    b'{"v":1,"op":"INSERT","schema":"public","table":"orders","key":{"id":1},"row":{}}',
    b'{"v" : 1, "op" : "UPDATE", "schema" : "public", "table" : "orders", "key" : {"id" : 2}}',
    b'  {"v":1,"op":"delete","table":"t","key":{"a":1.50,"a":2}}',
    b'{"v":1,"op":"INSERT","table":"t","key":"not an object"}',
    b'{"v":1,"op":{"x":1},"table":"t","key":{"id":3}}',
    b'{"v":2,"op":"INSERT","table":"t","key":{"id":3}}',
    b'{"v":1,"op":"INSERT","table":"t","key":{"\\u00e9":"\\ud800"}}',
    b'{"v":1,"op":"INSERT","table":"\\ud800","key":{"id":12345678901234567890123456789.5}}',
    b'\xff\xfe not UTF-8 {"v":1}',
    b'{"v":1,"op":"INSERT","table":"t","key":{"id":"\xe9\xff"}}',
    b'100% "quoted" %s %d \\ backslash',
    "é€😀 \u2028 \x01\x1f\x7f".encode(),
    b"",
]


@pytest.mark.parametrize("fields", SHAPES, ids=lambda f: ",".join(f))
def test_chunk_lines_are_jsonl_formatter_lines(fields):
    payloads = [p.encode("utf-8", "surrogatepass") if "\ud800" not in p else p.encode(
        "utf-8", "replace") for p in PAYLOADS] + ODD
    for kw in ({}, {"channels": (b"orders", "kanał ü%s".encode(), b"a\nb")},
               {"profile": 'pro"file %', "own_pid": 101}, {"per_chunk": 1},
               {"encoding": "latin-1"}):
        chunks = chunks_of(payloads, **kw)
        assert ChunkLines(fields).lines(chunks) == expected(chunks, fields), kw


# Envelopes as the typed decoder takes them (chunk_lines._Envelope), and close to it: a
# read of them only goes the typed way, each read of one goes the general way.
ENVELOPES = [
    b'{"v" : 1, "op" : "INSERT", "schema" : "public", "table" : "orders", "key" : {"id" : 1}}',
    b'{"v":1,"op":"INSERT","op":"DELETE","schema":"s","table":"t","key":{"id":2}}',
    b'{"v":1,"op":"UPDATE","schema":null,"table":"t","key":{"a":1.50e1,"a":"\\u00e9"}}',
    b'{"v":1,"op":"TRUNCATE","schema":"s","table":"t","key":null}',
    b'{"v":1,"op":"INSERT","table":"t","key":{"id":4},"key":[4]}',
    b'{"v":1,"op":"INSERT","table":"t"}',
    b'{"table":"t","op":"DELETE","v":1,"schema":"\\u0073","key":{"id":5},"row":{"x":[1e400]}}',
    '{"v":1,"op":"INSERT","schema":"schéma","table":"täble","key":{"k":"€"}}'.encode(),
    b'{"v":2,"v":1,"op":"UPDATE","table":"t","key":{"id":3}}',
    b'{"v":1.0,"op":"INSERT","table":"t","key":{"id":6}}',
    b'{"v":true,"op":"INSERT","table":"t","key":{"id":7}}',
    b'{"v":1,"op":"insert","table":"t","key":{"id":8}}',
    b'{"v":1,"op":"INSERT","table":5,"key":{"id":9}}',
    b'{"v":1,"op":"INSERT","schema":"s","table":"t","key":{"id":10}',
    b'{"v":1,"op":"INSERT","table":"\\ud800","key":{"id":11}}',
]


@pytest.mark.parametrize("fields", SHAPES, ids=lambda f: ",".join(f))
def test_envelope_reads_typed_and_not_are_the_same_lines(fields, monkeypatch):
    typed = chunks_of(ENVELOPES[:8])
    general = []
    monkeypatch.setattr(ChunkLines, "_decoded_each",
                        lambda self, *a, f=ChunkLines._decoded_each: general.append(1) or f(
                            self, *a))
    assert ChunkLines(fields).lines(typed) == expected(typed, fields)
    assert not general  # the first eight went the typed way
    for per_chunk in (1, 8, len(ENVELOPES)):
        for kw in ({}, {"channels": (b"a", b"b")}, {"own_pid": 101}):
            chunks = chunks_of(ENVELOPES, per_chunk=per_chunk, **kw)
            assert ChunkLines(fields).lines(chunks) == expected(chunks, fields), (per_chunk, kw)


def test_one_channel_lean_lines():
    payloads = [json.dumps({"v": 1, "n": i, "s": "x\n\"y"}).encode() for i in range(50)]
    chunks = chunks_of(payloads)
    out = ChunkLines(("channel", "payload")).lines(chunks)
    assert out == expected(chunks, ("channel", "payload"))
    assert out.count(b"\n") == 50
    assert json.loads(out.splitlines()[3]) == {"channel": "orders", "payload": payloads[3].decode()}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40) | st.text(max_size=30).map(
    lambda t: t.encode("utf-8", "replace")) | st.builds(
    lambda k, op: json.dumps({"v": 1, "op": op, "table": "t", "key": {"id": k}}).encode(),
    st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    st.sampled_from(["INSERT", "update", "x", ""])), min_size=1, max_size=20),
    st.sampled_from(SHAPES))
def test_any_payloads(payloads, fields):
    chunks = chunks_of([p.replace(b"\0", b"") for p in payloads], per_chunk=3)
    assert ChunkLines(fields).lines(chunks) == expected(chunks, fields)


def test_events_of_a_chunk():
    (c,) = chunks_of([b'{"a":1}', b"\xff"], own_pid=101)
    evs = c.events()
    assert [(e.seq, e.channel, e.pid, e.payload, e.own, e.size) for e in evs] == [
        (1, "orders", 100, '{"a":1}', False, 7), (2, "orders", 101, "\ufffd", True, 1)]
    assert len(c.head(1)) == 1 and c.head(1).events()[0] == evs[0]


def test_parse_fields():
    assert parse_fields(" channel, payload ,channel") == ("channel", "payload")
    with pytest.raises(ValueError, match="unknown field 'chanel'; choose from received_at"):
        parse_fields("chanel,payload")
    with pytest.raises(ValueError, match="no field given"):
        parse_fields(" , ")


def test_change_chunk_lines_are_jsonl_formatter_lines():
    """Row changes from the decoder: the command line's lines are the Event's lines."""
    import struct

    from pgwatch_gui.core.replication.pgoutput import Decoder
    from pgwatch_gui.core.stream.chunks import ChangeChunk
    from tests.core.replication.test_pgoutput import begin, relation, tuple_data

    d = Decoder()
    d.feed(begin())
    d.feed(relation(7, "s", 'we"ird', [("id", 20, True), ("é\\x", 25, False),
                                        ("j", 114, False), ("ok", 16, False)]))
    changes = []
    for i, (text, j) in enumerate([(b"plain", b'{"a": 1e400, "a": 2}'), ("é😀".encode(), None),
                                   (b"x\n\"y", b"[1.50]")]):
        changes += d.feed(b"I" + struct.pack("!I", 7) + b"N" + tuple_data(
            str(10 ** 20 + i).encode(), text, j, b"t"))
    changes += d.feed(b"T" + struct.pack("!IBI", 1, 1, 7))
    chunks = [ChangeChunk(1_700_000_000.0, 5, changes[:2], "p", "pub"),
              ChangeChunk(1_700_000_001.5, 7, changes[2:], "p", "pub")]
    for fields in SHAPES:
        assert ChunkLines(fields).lines(chunks) == expected(chunks, fields), fields
    first = json.loads(ChunkLines().lines(chunks).splitlines()[0])
    assert first["key"] == {"id": 10 ** 20} and '"j":{"a": 1e400, "a": 2}' in first["payload"]

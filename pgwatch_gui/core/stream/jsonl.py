"""JSON Lines: one event as one line of strict JSON (`listen`, exports, recordings, history).

A line holds FIELDS, or the ones chosen (`listen --fields`), in the order given. `op`,
`schema`, `table` and `key` come from the payload: for this tool's envelope `key` is the
key object exactly as the payload wrote it (every digit, escape and repeated name as
sent: a 40-digit numeric stays 40 digits); for any other payload the key the decoder
found in it, its numbers exact (core/stream/payloads.py).

`event_to_json` is the reference; `JsonlFormatter` writes the same bytes for a stream of
events at a fraction of the cost, and core/stream/chunks.py the same bytes again straight
from libpq's notifications (tests/core/test_perf_export.py and test_chunks.py hold them
equal).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import msgspec

from pgwatch_gui.core.stream.events import PAYLOAD_KINDS, Event
from pgwatch_gui.core.stream.payloads import (
    Decoded,
    decode_line_fields,
    envelope_head,
    peek_payload,
)
from pgwatch_gui.core.stream.safe_text import dumps_exact, utf8_safe

FIELDS = ("received_at", "profile", "channel", "pid", "payload", "op", "schema", "table",
          "key", "size", "kind", "own", "seq")
DECODED_FIELDS = frozenset({"op", "schema", "table", "key"})  # read from the payload


def parse_fields(text: str) -> tuple[str, ...]:
    """'channel, payload' -> ('channel', 'payload'); raises ValueError with one line."""
    names: list[str] = []
    for part in text.split(","):
        name = part.strip()
        if not name:
            continue
        if name not in FIELDS:
            raise ValueError(f"unknown field {name!r}; choose from {', '.join(FIELDS)}")
        if name not in names:
            names.append(name)
    if not names:
        raise ValueError(f"no field given; choose from {', '.join(FIELDS)}")
    return tuple(names)


def iso_time(ts: float) -> str:
    """Seconds since the epoch -> ISO 8601 in the local zone, with microseconds and offset."""
    local = datetime.fromtimestamp(ts, tz=timezone.utc).astimezone()
    return local.isoformat(timespec="microseconds")


_NO_DECODE = Decoded("empty")


def _decoded(ev: Event) -> Decoded:
    """What the event's payload says of op, schema, table and key, without keeping a
    decode in the event."""
    d = ev._decoded
    if d is None:
        d = peek_payload(ev.payload) if ev.kind in PAYLOAD_KINDS else _NO_DECODE
    return d


def event_to_record(ev: Event) -> dict[str, Any]:
    d = _decoded(ev)
    return {
        "received_at": iso_time(ev.received_at),
        "profile": ev.profile,
        "channel": ev.channel,
        "pid": ev.pid,
        "payload": ev.payload,
        "op": d.op,
        "schema": d.schema,
        "table": d.table,
        "key": d.key,
        "size": ev.size,
        "kind": ev.kind,
        "own": ev.own,
        "seq": ev.seq,
    }


def envelope_fields(payload: str) -> tuple[Any, Any, Any, str] | None:
    """(op, schema, table, the key's JSON text) of this tool's envelope; None for any
    other payload. Only a payload that starts with '{' is tried (the chunk writer draws
    the same line)."""
    if payload[:1] != "{":
        return None
    try:
        e = decode_line_fields(payload if payload.isascii() else payload.encode("utf-8"))
    except Exception:  # not JSON, not an object, a lone surrogate: the decoder says
        return None
    head = envelope_head(e)
    if head is None:
        return None
    k = bytes(e.key)
    return head[0], head[1], head[2], k.decode() if k[:1] == b"{" else "null"


def payload_fields(ev: Event) -> tuple[Any, Any, Any, str]:
    """(op, schema, table, key as JSON text) as a line writes them."""
    payload = ev.payload
    if ev.kind in PAYLOAD_KINDS and isinstance(payload, str):
        found = envelope_fields(payload)
        if found is not None:
            return found
    d = _decoded(ev)
    return d.op, d.schema, d.table, "null" if d.key is None else _json_key(d.key)


def event_to_json(ev: Event, fields: tuple[str, ...] = FIELDS) -> str:
    """The line of one event: every value through the strict encoder, one at a time."""
    op, schema, table, key = payload_fields(ev) if DECODED_FIELDS.intersection(fields) \
        else (None, None, None, "null")
    values = {"received_at": iso_time(ev.received_at), "profile": ev.profile,
              "channel": ev.channel, "pid": ev.pid, "payload": ev.payload, "op": op,
              "schema": schema, "table": table, "size": ev.size, "kind": ev.kind,
              "own": ev.own, "seq": ev.seq}
    parts = [f"{_quote(name)}: {key if name == 'key' else dumps_exact(values[name])}"
             for name in fields]
    return utf8_safe("{" + ", ".join(parts) + "}")


_quote = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) does to a str
_encode = msgspec.json.Encoder().encode


def _quote_text(s: str) -> str:
    """_quote(s) at about half the cost, for the payload of every line: msgspec writes
    the same escapes for every character but the surrogates (tests/core/
    test_perf_export.py goes through all of Unicode), and refuses a lone surrogate,
    which then goes to _quote."""
    try:
        return _encode(s).decode()
    except UnicodeEncodeError:
        return _quote(s)


_KEY_HEADS: dict[str, str] = {}  # column name -> '{"name": ', for one-column keys


def _json_key(key: dict) -> str:
    """dumps_exact(key); a one-column key of text or a whole number is written directly."""
    if len(key) == 1:
        ((k, v),) = key.items()
        tv = type(v)
        if (tv is int or tv is str) and type(k) is str:
            head = _KEY_HEADS.get(k) or _kept(_KEY_HEADS, 1024, k, f"{{{_quote(k)}: ")
            return f"{head}{_quote(v) if tv is str else repr(v)}}}"
    return dumps_exact(key)


def json_value(v: Any) -> str:
    """dumps_exact(v), strings and null without a call into the encoder."""
    if v is None:
        return "null"
    if isinstance(v, str):
        return _quote(v)
    return dumps_exact(v)


def _kept(cache: dict, limit: int, key: Any, text: str) -> str:
    """`text`, remembered under `key` in a cache that starts over at `limit` entries."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = text
    return text


class JsonlFormatter:
    """event_to_json, line for line the same text, for a stream of events.

    What costs per line in event_to_json is done once where it can be: the local time
    once per receive time (the listener stamps a whole read at once), the line's head
    (time, profile, channel) once per distinct head, the middle (op, schema, table) once
    per distinct triple, no record dict, and strings quoted by the same C function
    json.dumps uses. The payload is decoded (for op, schema, table and key) without
    keeping the parsed JSON in the Event. With a choice of fields, every line is
    event_to_json's.
    """

    def __init__(self, fields: tuple[str, ...] = FIELDS) -> None:
        self._heads: dict[tuple[float, str, str], str] = {}
        self._middles: dict[tuple[Any, Any, Any], str] = {}
        self.fields = fields
        if fields != FIELDS:
            self.line = lambda ev: event_to_json(ev, fields)  # type: ignore[method-assign]

    def _head(self, key: tuple[float, str, str]) -> str:
        received_at, profile, channel = key
        return _kept(self._heads, 256, key, (
            f'{{"received_at": {_quote(iso_time(received_at))}, '
            f'"profile": {_quote(profile)}, "channel": {_quote(channel)}, "pid": '))

    def _middle(self, key: tuple[Any, Any, Any]) -> str:
        op, schema, table = key
        return _kept(self._middles, 1024, key, (
            f'"op": {json_value(op)}, "schema": {json_value(schema)}, '
            f'"table": {json_value(table)}, "key": '))

    def line(self, ev: Event) -> str:
        pid, seq, own, size = ev.pid, ev.seq, ev.own, ev._size
        # What is written by repr() must be what JSON reads (not a str pid, not own=1).
        if not (type(pid) is int and type(seq) is int and type(own) is bool):
            return event_to_json(ev)  # an odd Event (a test's, a recording's): the slow way
        if type(size) is not int or size < 0:
            size = ev.size
            if type(size) is not int:
                return event_to_json(ev)
        payload = ev.payload
        if type(payload) is not str:  # msgspec would write None as null
            return event_to_json(ev)
        try:  # a name, kind or payload that is not text, or an unhashable op: TypeError
            op, schema, table, k = payload_fields(ev)
            key = (ev.received_at, ev.profile, ev.channel)
            head = self._heads.get(key) or self._head(key)
            triple = (op, schema, table)
            middle = self._middles.get(triple) or self._middle(triple)
            text = (
                f'{head}{pid!r}, "payload": {_quote_text(payload)}, {middle}{k}, '
                f'"size": {size!r}, "kind": {_quote(ev.kind)}, '
                f'"own": {"true" if own else "false"}, "seq": {seq!r}}}'
            )
        except TypeError:
            return event_to_json(ev)
        return text if text.isascii() else utf8_safe(text)

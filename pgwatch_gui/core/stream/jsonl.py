"""JSON Lines: one event as one line of strict, compact JSON (`listen`, exports,
recordings, history).

A line holds FIELDS, or the ones chosen (`listen --fields`), in the order given. `op`,
`schema`, `table` and `key` come from the payload: for this tool's envelope `key` is the
key object exactly as the payload wrote it (every digit, escape and repeated name as
sent: a 40-digit numeric stays 40 digits); for any other payload the key the decoder
found in it, its numbers exact (core/stream/payloads.py).

`event_to_json` is the reference, made of json's own encoder one value at a time;
`JsonlFormatter` writes the same bytes at a fraction of the cost (a msgspec struct per
line, one encoder call), and core/stream/chunks.py the same bytes again for a whole
read of notifications at once (tests/core/test_perf_export.py and test_chunks.py hold
them equal). Lines are compact (no space after `,` and `:`): the same JSON in fewer bytes.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
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


@lru_cache(maxsize=64)
def line_struct(fields: tuple[str, ...]) -> type:
    """A msgspec struct whose fields are the line's, in order: encoding one writes the
    line (`key` and `received_at` are given as msgspec.Raw, their JSON text)."""
    return msgspec.defstruct("Line", [(f, Any) for f in fields], gc=False)


# What json.dumps(ensure_ascii=False, separators=(",", ":")) writes, for the types a
# line's values have on this path: strings with the same escapes (a lone surrogate is
# refused: UnicodeEncodeError), ints, booleans, null.
encode = msgspec.json.Encoder().encode
encode_lines = msgspec.json.Encoder().encode_lines
_quote = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) does to a str


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


_OBJECT_START = frozenset("{ \t\n\r")  # what a JSON object may start with


def envelope_fields(payload: str) -> tuple[Any, Any, Any, bytes] | None:
    """(op, schema, table, the key's JSON text) of this tool's envelope; None for any
    other payload."""
    if payload[:1] not in _OBJECT_START:  # cannot be an object: spare the decoder
        return None
    try:
        e = decode_line_fields(payload if payload.isascii() else payload.encode("utf-8"))
    except Exception:  # not JSON, not an object, a lone surrogate: the decoder says
        return None
    head = envelope_head(e)
    if head is None:
        return None
    k = bytes(e.key)
    return head[0], head[1], head[2], k if k[:1] == b"{" else b"null"


def key_text(key: dict | None) -> bytes:
    """A decoded key's JSON, numbers exact, lone surrogates escaped."""
    if key is None:
        return b"null"
    return utf8_safe(dumps_exact(key, compact=True)).encode("utf-8")


def payload_fields(ev: Event) -> tuple[Any, Any, Any, bytes]:
    """(op, schema, table, the key's JSON text) as a line writes them."""
    payload = ev.payload
    if ev.kind in PAYLOAD_KINDS and isinstance(payload, str):
        found = envelope_fields(payload)
        if found is not None:
            return found
    d = _decoded(ev)
    return d.op, d.schema, d.table, key_text(d.key)


def _values(ev: Event, fields: tuple[str, ...]) -> dict[str, Any]:
    op, schema, table, key = payload_fields(ev) if DECODED_FIELDS.intersection(fields) \
        else (None, None, None, b"null")
    return {"received_at": iso_time(ev.received_at), "profile": ev.profile,
            "channel": ev.channel, "pid": ev.pid, "payload": ev.payload, "op": op,
            "schema": schema, "table": table, "key": key, "size": ev.size,
            "kind": ev.kind, "own": ev.own, "seq": ev.seq}


def event_to_json(ev: Event, fields: tuple[str, ...] = FIELDS) -> str:
    """The line of one event: every value through json's strict encoder, one at a time."""
    values = _values(ev, fields)
    parts = [f"{_quote(name)}:" + (values["key"].decode("utf-8") if name == "key"
                                   else dumps_exact(values[name], compact=True))
             for name in fields]
    return utf8_safe("{" + ",".join(parts) + "}")


class JsonlFormatter:
    """event_to_json, line for line the same text, for a stream of events: one msgspec
    struct per line, encoded in one call (the local time once per receive time: the
    listener stamps a whole read at once). The payload is decoded (for op, schema, table
    and key) without keeping the parsed JSON in the Event. An Event with odd values (a
    test's, a recording's: a pid that is not an int, a lone surrogate) goes the reference
    way."""

    def __init__(self, fields: tuple[str, ...] = FIELDS) -> None:
        self.fields = fields
        self._struct = line_struct(fields)
        self._decodes = bool(DECODED_FIELDS.intersection(fields))
        self._all = fields == FIELDS
        self._time = (-1.0, msgspec.Raw(b'""'))

    def line(self, ev: Event) -> str:
        pid, seq, own, size = ev.pid, ev.seq, ev.own, ev._size
        # Only ints, text and booleans go to msgspec, whose floats are not json's.
        if not (type(pid) is int and type(seq) is int and type(own) is bool):
            return event_to_json(ev, self.fields)
        if type(size) is not int or size < 0:
            size = ev.size
            if type(size) is not int:
                return event_to_json(ev, self.fields)
        if not (type(ev.payload) is str and type(ev.received_at) is float
                and type(ev.profile) is str and type(ev.channel) is str
                and type(ev.kind) is str):
            return event_to_json(ev, self.fields)
        t = ev.received_at
        if t != self._time[0]:
            self._time = (t, msgspec.Raw(encode(iso_time(t))))
        op, schema, table, key = payload_fields(ev) if self._decodes \
            else (None, None, None, b"null")
        if self._all:
            line = self._struct(self._time[1], ev.profile, ev.channel, pid, ev.payload, op,
                                schema, table, msgspec.Raw(key), size, ev.kind, own, seq)
        else:
            values = {"received_at": self._time[1], "profile": ev.profile,
                      "channel": ev.channel, "pid": pid, "payload": ev.payload, "op": op,
                      "schema": schema, "table": table, "key": msgspec.Raw(key),
                      "size": size, "kind": ev.kind, "own": own, "seq": seq}
            line = self._struct(*[values[f] for f in self.fields])
        try:
            return encode(line).decode("utf-8")
        except (UnicodeEncodeError, TypeError):  # a lone surrogate, a value msgspec refuses
            return event_to_json(ev, self.fields)

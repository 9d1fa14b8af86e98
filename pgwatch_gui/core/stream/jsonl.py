"""JSON Lines: one event as one line of strict JSON (`listen`, exports, recordings, history).

`event_to_json` is the reference; `JsonlFormatter` writes the same bytes for a stream of
events at a fraction of the cost (tests/core/test_perf_export.py holds them equal).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import msgspec

from pgwatch_gui.core.stream.events import PAYLOAD_KINDS, Event
from pgwatch_gui.core.stream.payloads import Decoded, peek_payload
from pgwatch_gui.core.stream.safe_text import finite_json, strict_json, utf8_safe


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


def event_to_json(ev: Event) -> str:
    return strict_json(event_to_record(ev))


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


# strict_json's json.dumps without a new JSONEncoder per call
_dumps_strict = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=str).encode


def _dumps(value: Any) -> str:
    """strict_json without its final surrogate pass (the formatter does that per line)."""
    try:
        return _dumps_strict(value)
    except ValueError:  # an infinity or NaN somewhere
        return _dumps_strict(finite_json(value))


_KEY_HEADS: dict[str, str] = {}  # column name -> '{"name": ', for one-column keys


def _json_key(key: dict) -> str:
    """_dumps(key); a one-column key of text or a whole number is written directly."""
    if len(key) == 1:
        ((k, v),) = key.items()
        tv = type(v)
        if (tv is int or tv is str) and type(k) is str:
            head = _KEY_HEADS.get(k) or _kept(_KEY_HEADS, 1024, k, f"{{{_quote(k)}: ")
            return f"{head}{_quote(v) if tv is str else repr(v)}}}"
    return _dumps(key)


def _json_value(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, str):
        return _quote(v)
    return _dumps(v)


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
    keeping the parsed JSON in the Event.
    """

    def __init__(self) -> None:
        self._heads: dict[tuple[float, str, str], str] = {}
        self._middles: dict[tuple[Any, Any, Any], str] = {}

    def _head(self, key: tuple[float, str, str]) -> str:
        received_at, profile, channel = key
        return _kept(self._heads, 256, key, (
            f'{{"received_at": {_quote(iso_time(received_at))}, '
            f'"profile": {_quote(profile)}, "channel": {_quote(channel)}, "pid": '))

    def _middle(self, key: tuple[Any, Any, Any]) -> str:
        op, schema, table = key
        return _kept(self._middles, 1024, key, (
            f'"op": {_json_value(op)}, "schema": {_json_value(schema)}, '
            f'"table": {_json_value(table)}, "key": '))

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
        d = ev._decoded  # _decoded(ev), written out: a call less per line
        if d is None:
            d = peek_payload(payload) if ev.kind in PAYLOAD_KINDS else _NO_DECODE
        k = d.key
        try:  # a name, kind or payload that is not text, or an unhashable op: TypeError
            key = (ev.received_at, ev.profile, ev.channel)
            head = self._heads.get(key) or self._head(key)
            triple = (d.op, d.schema, d.table)
            middle = self._middles.get(triple) or self._middle(triple)
            text = (
                f'{head}{pid!r}, "payload": {_quote_text(payload)}, {middle}'
                f'{"null" if k is None else _json_key(k)}, '
                f'"size": {size!r}, "kind": {_quote(ev.kind)}, '
                f'"own": {"true" if own else "false"}, "seq": {seq!r}}}'
            )
        except TypeError:
            return event_to_json(ev)
        return text if text.isascii() else utf8_safe(text)



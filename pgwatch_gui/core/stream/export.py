"""Events as records: JSON Lines (the `listen` command, recordings) and CSV.

Whatever text an event holds can be written, and nothing written can be mistaken:

- JSON Lines are strict JSON. A lone surrogate (a payload's JSON said "\\ud800") is
  written as its \\uXXXX escape, which reads back as the same string; a number JSON
  cannot carry (1e999 decodes to infinity, NaN) is written as the string "Infinity",
  "-Infinity" or "NaN" (the value stays visible; no reader chokes on it). The payload
  itself is always the text the server sent.
- CSV cells carry a lone surrogate as the six characters \\udXXX.
- The text format (for terminals) shows control characters as escapes (\\x1b, \\r,
  \\n, \\u2028 ...) so nothing in a payload or channel name is executed by the
  terminal or splits the line.
- Records are built from a decode that is not kept in the Event: exporting 100,000
  rows must not leave 100,000 parsed payloads behind.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, TextIO

import msgspec

from pgwatch_gui.core.stream.events import KIND_NOTIFY, PAYLOAD_KINDS, Event
from pgwatch_gui.core.stream.payloads import Decoded, peek_payload
from pgwatch_gui.core.stream.safe_text import finite_json, strict_json, utf8_safe, visible

CSV_FIELDS = (
    "received_at", "profile", "channel", "pid", "op", "schema", "table", "key", "size",
    "kind", "own", "payload",
)


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


def _clock_text(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S.%f")[:-3]


def event_to_text(ev: Event, t: str | None = None) -> str:
    """One line for people: time, channel, pid, payload (gap markers say what was lost)."""
    if t is None:
        t = _clock_text(ev.received_at)
    if ev.kind not in PAYLOAD_KINDS:
        return f"{t}  -- {visible(ev.payload)}"
    if ev.kind != KIND_NOTIFY:  # a row change: no sender pid, the publication as channel
        return f"{t}  {visible(ev.channel)}  {ev.kind}  {visible(ev.payload)}"
    return f"{t}  {visible(ev.channel)}  pid={ev.pid}  {visible(ev.payload)}"


class TextFormatter:
    """event_to_text, the same lines, with the clock text made once per receive time
    (the listener stamps a whole read with one)."""

    def __init__(self) -> None:
        self._ts = -1.0
        self._clock = ""

    def line(self, ev: Event) -> str:
        ts = ev.received_at
        if ts != self._ts:
            self._ts, self._clock = ts, _clock_text(ts)
        return event_to_text(ev, self._clock)


def _csv_row(ev: Event) -> list[Any]:
    r = event_to_record(ev)
    r["key"] = strict_json(r["key"]) if r["key"] is not None else ""
    return [utf8_safe(v) if isinstance(v, str) else csv_cell(v)
            for v in (r[f] for f in CSV_FIELDS)]


def write_jsonl(events: Iterable[Event], out: TextIO) -> int:
    n = 0
    line = JsonlFormatter().line
    for ev in events:
        out.write(line(ev))
        out.write("\n")
        n += 1
    return n


def csv_cell(value: Any) -> Any:
    """A CSV cell: None is empty, booleans are JSON's `true` / `false` (not Python's)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_csv(events: Iterable[Event], out: TextIO) -> int:
    w = csv.writer(out)
    w.writerow(CSV_FIELDS)
    n = 0
    for ev in events:
        w.writerow(_csv_row(ev))
        n += 1
    return n


def csv_text(events: Iterable[Event]) -> str:
    buf = io.StringIO()
    write_csv(events, buf)
    return buf.getvalue()


# ---- writers that go a chunk at a time (the GUI writes between event-loop turns) ----------

FORMATS = ("jsonl", "csv")


def format_for_path(path: str) -> str:
    """'x.csv' -> 'csv'; anything else -> 'jsonl'."""
    return "csv" if str(path).lower().endswith(".csv") else "jsonl"


class EventWriter:
    """write(events) appends a chunk; the CSV header goes out before the first row."""

    def __init__(self, out: TextIO, fmt: str = "jsonl") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
        self.out = out
        self.fmt = fmt
        self.count = 0
        self._csv = None
        self._jsonl: JsonlFormatter | None = None
        if fmt == "csv":
            self._csv = csv.writer(out)
            self._csv.writerow(CSV_FIELDS)

    def write(self, events: Iterable[Event]) -> int:
        n = 0
        if self._csv is not None:
            for ev in events:
                self._csv.writerow(_csv_row(ev))
                n += 1
        else:
            if self._jsonl is None:
                self._jsonl = JsonlFormatter()
            lines = list(map(self._jsonl.line, events))
            if lines:
                self.out.write("\n".join(lines) + "\n")
            n = len(lines)
        self.count += n
        return n

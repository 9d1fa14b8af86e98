"""Events as records: JSON Lines (the `listen` command, recordings; lines made by
jsonl.py), CSV and text lines, and the chunked writers the window exports with.

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
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TextIO

from pgwatch_gui.core.stream.events import KIND_NOTIFY, PAYLOAD_KINDS, Event
from pgwatch_gui.core.stream.jsonl import JsonlFormatter, event_to_record
from pgwatch_gui.core.stream.safe_text import strict_json, utf8_safe, visible

CSV_FIELDS = (
    "received_at", "profile", "channel", "pid", "op", "schema", "table", "key", "size",
    "kind", "own", "payload",
)


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

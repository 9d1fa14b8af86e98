"""Events as records: JSON Lines (the `listen` command, recordings) and CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, TextIO

from pgwatch_gui.core.events import KIND_NOTIFY, Event

CSV_FIELDS = (
    "received_at", "profile", "channel", "pid", "op", "schema", "table", "key", "size",
    "kind", "own", "payload",
)


def iso_time(ts: float) -> str:
    """Seconds since the epoch -> ISO 8601 in the local zone, with microseconds and offset."""
    local = datetime.fromtimestamp(ts, tz=timezone.utc).astimezone()
    return local.isoformat(timespec="microseconds")


def event_to_record(ev: Event) -> dict[str, Any]:
    d = ev.decoded
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
    return json.dumps(event_to_record(ev), ensure_ascii=False, default=str)


def event_to_text(ev: Event) -> str:
    """One line for people: time, channel, pid, payload (gap markers say what was lost)."""
    t = datetime.fromtimestamp(ev.received_at).strftime("%H:%M:%S.%f")[:-3]
    if ev.kind != KIND_NOTIFY:
        return f"{t}  -- {ev.payload}"
    payload = ev.payload.replace("\r", "\\r").replace("\n", "\\n")
    return f"{t}  {ev.channel}  pid={ev.pid}  {payload}"


def write_jsonl(events: Iterable[Event], out: TextIO) -> int:
    n = 0
    for ev in events:
        out.write(event_to_json(ev))
        out.write("\n")
        n += 1
    return n


def write_csv(events: Iterable[Event], out: TextIO) -> int:
    w = csv.writer(out)
    w.writerow(CSV_FIELDS)
    n = 0
    for ev in events:
        r = event_to_record(ev)
        r["key"] = json.dumps(r["key"], ensure_ascii=False) if r["key"] is not None else ""
        w.writerow(["" if r[f] is None else r[f] for f in CSV_FIELDS])
        n += 1
    return n


def csv_text(events: Iterable[Event]) -> str:
    buf = io.StringIO()
    write_csv(events, buf)
    return buf.getvalue()

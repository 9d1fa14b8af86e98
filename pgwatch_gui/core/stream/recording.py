"""Reading a JSON Lines recording back into Events (what `listen`, the window's exports
and recordings wrote; anything else that has the fields). Lines that are not events are
counted and the first reasons kept, never raised."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TextIO

from pgwatch_gui.core.stream.events import KIND_NOTIFY, PAYLOAD_KINDS, Event


class RecordError(ValueError):
    pass


def parse_time(value: Any) -> float:
    """An ISO 8601 time (as written by event_to_record) or epoch seconds -> epoch seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value:
        text = value.strip().replace("Z", "+00:00") if value.endswith("Z") else value.strip()
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise RecordError(f"received_at {value!r} is not an ISO 8601 time") from None
        if dt.tzinfo is None:
            dt = dt.astimezone()  # a naive time is local
        return dt.timestamp()
    raise RecordError("received_at is missing")


def record_to_event(rec: Any, seq: int) -> Event:
    """A record as event_to_record wrote it -> Event. `seq` is used when the record has none."""
    if not isinstance(rec, dict):
        raise RecordError("a line is not a JSON object")
    payload = rec.get("payload")
    if payload is None:
        payload = ""
    if not isinstance(payload, str):
        payload = json.dumps(payload, ensure_ascii=False)
    channel = rec.get("channel") or ""
    if not isinstance(channel, str):
        raise RecordError("channel is not text")
    kind = rec.get("kind") or KIND_NOTIFY
    if kind not in (*PAYLOAD_KINDS, "gap"):
        kind = KIND_NOTIFY
    try:
        pid = int(rec.get("pid") or 0)
    except (TypeError, ValueError):
        pid = 0
    rseq = rec.get("seq")
    size = rec.get("size")
    return Event(
        rseq if isinstance(rseq, int) and not isinstance(rseq, bool) else seq,
        parse_time(rec.get("received_at")),
        str(rec.get("profile") or ""),
        channel,
        pid,
        payload,
        kind=kind,
        own=bool(rec.get("own", False)),
        # The recorded size is the bytes the server sent (not always the text's size).
        _size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0
        else -1,
    )


class JsonlReader:
    """Reads a recording line by line: `read(n)` gives up to n Events; bad lines are counted.

    `errors` holds (line number, reason) of the first few lines that could not be read.
    """

    def __init__(self, src: TextIO, max_errors_kept: int = 20) -> None:
        self.src = src
        self.line_no = 0
        self.skipped = 0
        self.errors: list[tuple[int, str]] = []
        self._keep = max_errors_kept
        self.done = False

    def read(self, n: int) -> list[Event]:
        out: list[Event] = []
        while len(out) < n:
            line = self.src.readline()
            if not line:
                self.done = True
                break
            self.line_no += 1
            if not line.strip():
                continue
            try:
                out.append(record_to_event(json.loads(line), self.line_no))
            except (ValueError, RecordError, TypeError) as exc:
                self.skipped += 1
                if len(self.errors) < self._keep:
                    self.errors.append((self.line_no, str(exc).splitlines()[0][:200]))
        return out


def read_jsonl(src: TextIO | str) -> tuple[list[Event], JsonlReader]:
    """Every Event of a recording (a path or an open text file), and the reader's tallies."""
    if isinstance(src, str):
        with open(src, encoding="utf-8") as f:
            return read_jsonl(f)
    reader = JsonlReader(src)
    events: list[Event] = []
    while not reader.done:
        events.extend(reader.read(10_000))
    return events, reader

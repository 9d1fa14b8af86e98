"""Notifications as libpq gives them, and row changes as the decoder wrote them, a read at
a time, without an Event each.

`listen` asks the reader (reader.py, `raw=True`) for what libpq hands over: one
NotifyChunk per read, psycopg's notifications (relname, be_pid, extra: bytes) with
their receive time and the first of their sequence numbers. Nothing is decoded yet.
`changes` gets ChangeChunks from core/replication the same way. chunk_lines.py writes
their JSON Lines; `events()` makes them Events for whatever else (filters, text lines).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import ClassVar

from pgwatch_gui.core.stream.events import (
    KIND_CHANGE,
    KIND_NOTIFY,
    Event,
    new_change_event,
    new_event,
)
from pgwatch_gui.core.stream.notifies import EXTRA, PID, RELNAME


@dataclass(slots=True)
class NotifyChunk:
    """The notifications of one read: psycopg.pq PGnotify or notifies.Notification, each
    (relname, be_pid, extra) read by attribute."""

    kind: ClassVar[str] = KIND_NOTIFY
    received_at: float
    first_seq: int
    items: list
    profile: str
    own_pid: int | None
    encoding: str  # the connection's, for the bytes

    def __len__(self) -> int:
        return len(self.items)

    def head(self, n: int) -> NotifyChunk:
        """The first n of them."""
        return NotifyChunk(self.received_at, self.first_seq, self.items[:n], self.profile,
                           self.own_pid, self.encoding)

    def events(self) -> list[Event]:
        """The same notifications as the reader's Events (for filters and text lines)."""
        enc, t, profile, own = self.encoding, self.received_at, self.profile, self.own_pid
        items = self.items
        return [new_event(seq, t, profile, rel.decode(enc, "replace"), pid,
                          extra.decode(enc, "replace"), pid == own, len(extra))
                for seq, rel, pid, extra in zip(itertools.count(self.first_seq),
                                                map(RELNAME, items), map(PID, items),
                                                map(EXTRA, items))]


@dataclass(slots=True)
class ChangeChunk:
    """The row changes of one read from a replication slot (core/replication): each
    (the envelope as JSON, op, schema, table, the key as JSON)."""

    kind: ClassVar[str] = KIND_CHANGE
    received_at: float
    first_seq: int
    items: list
    profile: str
    channel: str  # the publication

    def __len__(self) -> int:
        return len(self.items)

    def head(self, n: int) -> ChangeChunk:
        return ChangeChunk(self.received_at, self.first_seq, self.items[:n], self.profile,
                           self.channel)

    def events(self) -> list[Event]:
        t, profile, channel = self.received_at, self.profile, self.channel
        return [new_change_event(seq, t, profile, channel, p.decode("utf-8"), len(p))
                for seq, (p, *_rest) in zip(itertools.count(self.first_seq), self.items)]

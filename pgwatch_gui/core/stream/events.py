"""The Event value type: one notification, a row change or a gap marker.

An Event decodes its payload (core/stream/payloads.py) at most once, lazily.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from pgwatch_gui.core.stream.payloads import (
    SHAPE_EMPTY,
    Decoded,
    decode_payload,
)

KIND_NOTIFY = "notify"
KIND_CHANGE = "change"  # a row change read from a logical replication slot, no trigger
KIND_GAP = "gap"
PAYLOAD_KINDS = (KIND_NOTIFY, KIND_CHANGE)  # kinds whose payload decodes

_UNDECODED = Decoded(SHAPE_EMPTY)


@dataclass(frozen=True, slots=True)
class Event:
    """One notification as received (or a gap marker), immutable.

    `received_at` is seconds since the epoch (time.time()). The payload is decoded on
    first use of `decoded` (or op/schema/table/key) and the result kept.
    """

    seq: int
    received_at: float
    profile: str
    channel: str
    pid: int
    payload: str
    kind: str = KIND_NOTIFY
    own: bool = False
    _decoded: Decoded | None = field(default=None, compare=False, repr=False)
    # The payload's size in bytes as the server sent it, counted once when it was read
    # (-1: not known, counted from the text on demand). A payload decoded with
    # replacement (a SQL_ASCII database) has no other way back to its size.
    _size: int = field(default=-1, compare=False, repr=False)

    @property
    def decoded(self) -> Decoded:
        d = self._decoded
        if d is None:
            d = decode_payload(self.payload) if self.kind in PAYLOAD_KINDS else _UNDECODED
            object.__setattr__(self, "_decoded", d)
        return d

    @property
    def op(self) -> str | None:
        return self.decoded.op

    @property
    def schema(self) -> str | None:
        return self.decoded.schema

    @property
    def table(self) -> str | None:
        return self.decoded.table

    @property
    def key(self) -> dict[str, Any] | None:
        return self.decoded.key

    @property
    def size(self) -> int:
        """Payload size in bytes, as PostgreSQL counts it against the 8,000-byte limit."""
        n = self._size
        if n < 0:
            n = len(self.payload.encode("utf-8", "surrogatepass"))
            object.__setattr__(self, "_size", n)
        return n

    @property
    def is_gap(self) -> bool:
        return self.kind == KIND_GAP

    @property
    def qualified_table(self) -> str | None:
        d = self.decoded
        if d.table is None:
            return None
        return f"{d.schema}.{d.table}" if d.schema else d.table


class _Draft:
    """An Event's slots, in the same order, assignable: new_event fills one with plain
    attribute stores and turns it into an Event by assigning its class (allowed between
    classes of the same slot layout; the Event is as frozen as any other)."""

    __slots__ = Event.__slots__

    def __init__(self, seq: int, received_at: float, profile: str, channel: str, pid: int,
                 payload: str, own: bool, size: int) -> None:
        self.seq = seq
        self.received_at = received_at
        self.profile = profile
        self.channel = channel
        self.pid = pid
        self.payload = payload
        self.kind = KIND_NOTIFY
        self.own = own
        self._decoded = None
        self._size = size


def new_event(seq: int, received_at: float, profile: str, channel: str, pid: int, payload: str,
              own: bool = False, size: int = -1) -> Event:
    """Event(seq, received_at, profile, channel, pid, payload, own=own), for the hot path.

    `size` is the payload's length in bytes as received (-1: count it when asked).
    A frozen dataclass sets each field through object.__setattr__, and even the slots'
    own setters took 0.72 us for the ten; a _Draft's plain stores and the class
    assignment take 0.37 us, which matters at 100,000 events a second.
    """
    ev = _Draft(seq, received_at, profile, channel, pid, payload, own, size)
    ev.__class__ = Event  # type: ignore[assignment]
    return ev  # type: ignore[return-value]


_SET_KIND = Event.__dict__["kind"].__set__


def new_change_event(seq: int, received_at: float, profile: str, channel: str, payload: str,
                     size: int = -1) -> Event:
    """A row change from a replication slot: `payload` is its envelope as JSON text,
    decoded (like a notification's) only when something asks."""
    ev = new_event(seq, received_at, profile, channel, 0, payload, False, size)
    _SET_KIND(ev, KIND_CHANGE)
    return ev


def make_gap(seq: int, profile: str, lost_at: float, restored_at: float, reason: str) -> Event:
    """A marker row: notifications sent between lost_at and restored_at never reached us."""
    lost = time.strftime("%H:%M:%S", time.localtime(lost_at))
    text = (
        f"connection lost at {lost} ({reason}); listening again after "
        f"{restored_at - lost_at:.1f} s. Notifications sent meanwhile are lost."
    )
    return Event(seq, restored_at, profile, "", 0, text, kind=KIND_GAP)


def format_key(key: dict[str, Any] | None) -> str:
    """{'id': 42} -> 'id=42'; {'a': 1, 'b': 'x'} -> 'a=1, b=x'."""
    if not key:
        return ""
    return ", ".join(f"{k}={v}" for k, v in key.items())

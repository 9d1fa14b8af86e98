"""The Event value type: one notification, a row change or a gap marker.

An Event decodes its payload (core/stream/payloads.py) at most once, lazily.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

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


class Event(msgspec.Struct, frozen=True, gc=False):
    """One notification as received (or a gap marker), immutable.

    `received_at` is seconds since the epoch (time.time()). The payload is decoded on
    first use of `decoded` (or op/schema/table/key) and the result kept.

    A msgspec struct rather than a dataclass: made by C code (about 75 ns against 320
    for the frozen dataclass, at 100,000 events a second), 96 bytes, and never walked by
    the garbage collector (an Event refers to no container that could lead back to it).
    Equality, hash and repr leave out the decode and the size, as the dataclass did.
    """

    seq: int
    received_at: float
    profile: str
    channel: str
    pid: int
    payload: str
    kind: str = KIND_NOTIFY
    own: bool = False
    _decoded: Decoded | None = None
    # The payload's size in bytes as the server sent it, counted once when it was read
    # (-1: not known, counted from the text on demand). A payload decoded with
    # replacement (a SQL_ASCII database) has no other way back to its size.
    _size: int = -1

    def _key(self) -> tuple:
        return (self.seq, self.received_at, self.profile, self.channel, self.pid,
                self.payload, self.kind, self.own)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Event:
            return NotImplemented
        return self._key() == other._key()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"Event(seq={self.seq!r}, received_at={self.received_at!r}, "
                f"profile={self.profile!r}, channel={self.channel!r}, pid={self.pid!r}, "
                f"payload={self.payload!r}, kind={self.kind!r}, own={self.own!r})")

    @property
    def decoded(self) -> Decoded:
        d = self._decoded
        if d is None:
            d = decode_payload(self.payload) if self.kind in PAYLOAD_KINDS else _UNDECODED
            _SET_DECODED(self, d)
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
            _SET_SIZE(self, n)
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


# A frozen struct's fields, set by the descriptors themselves: the lazy caches only.
_SET_DECODED = Event.__dict__["_decoded"].__set__
_SET_SIZE = Event.__dict__["_size"].__set__


def new_event(seq: int, received_at: float, profile: str, channel: str, pid: int, payload: str,
              own: bool = False, size: int = -1) -> Event:
    """Event(seq, received_at, profile, channel, pid, payload, own=own), positionally.

    `size` is the payload's length in bytes as received (-1: count it when asked)."""
    return Event(seq, received_at, profile, channel, pid, payload, KIND_NOTIFY, own, None, size)


def new_change_event(seq: int, received_at: float, profile: str, channel: str, payload: str,
                     size: int = -1) -> Event:
    """A row change from a replication slot: `payload` is its envelope as JSON text,
    decoded (like a notification's) only when something asks."""
    return Event(seq, received_at, profile, channel, 0, payload, KIND_CHANGE, False, None, size)


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

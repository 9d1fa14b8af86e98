"""Events in blocks: one row per up to 2,000 events of one write, columns packed.

Why blocks and not a row per event: the writer shares the interpreter with the event
loop (the GIL), and whatever is done per event while holding the GIL is taken from the
window's throughput. A row per event cost about 2.5 µs of writer time per event
(binding seven parameters, a B-tree insert, an index entry); a block costs one list
comprehension per field, a join of the payloads and one INSERT: about 0.3 µs.
Chunks of 2,000 keep the events being read in the processor's cache (one block of
30,000 cost twice as much per event).

A block row holds:
- `meta`: marshal (format 2: no reference tracking, which cost more than the data) of
  (layout, times, channels, pids, profiles, odd), where channels and profiles are one
  value when every event has the same, and `odd` lists (index, kind, own) of the events
  whose kind is not the block's first one's (gap markers) or that this program sent;
- `payloads`: the payloads joined by NUL (PostgreSQL payloads cannot contain one) as
  TEXT; as a BLOB of UTF-8 when they are not ASCII (lone surrogates kept, so the byte
  count stays the server's), zlib-compressed when the stream was calm (a burst costs no
  compression); or, when some payload holds a NUL (only a recording could), inside
  `meta` instead. Byte counts as the server sent them are kept for blocks that are not
  ASCII (for ASCII text they are the lengths).

A block that cannot be unpacked is skipped and counted by the reader, never fatal.
An event's seq is its block's id shifted left by 16 bits, plus its index in the block:
increasing, never reused (AUTOINCREMENT), derived without a read before the write, so
a write is one INSERT statement. That matters: every statement releases and re-takes
the GIL a few times, and each re-taking can cost the event loop a wake-up of its
thread (milliseconds on a loaded machine). Readers page by seq.
"""

from __future__ import annotations

import marshal
import sqlite3
import zlib
from collections.abc import Sequence
from itertools import repeat
from operator import contains
from typing import Any

from pgwatch_gui.core.stream.events import KIND_NOTIFY, Event

CHUNK = 2_000
SEQ_SHIFT = 16  # seq = block id << 16 | index; a block holds fewer than 65,536 events
COMPRESS_BELOW = 5_000  # events in one write: fewer (a calm stream) are compressed
_LAYOUT = 1
_SEP = "\0"
# codec flags
ZLIB = 1  # payloads is zlib(UTF-8)
INLINE = 2  # the payloads are in meta (one of them holds a NUL)


def _one_or_all(values: list) -> Any:
    first = values[0]
    return first if values.count(first) == len(values) else values


def pack(events: Sequence[Event], compress: bool = False, one_profile: bool = False
         ) -> tuple[int, bytes, str | bytes, float, float, str | None]:
    """(codec, meta, payloads, earliest time, latest time, the profile or None if mixed).

    `one_profile`: the caller knows every event has the first one's profile (a hub
    batch comes from one listener), which saves a pass over the events.
    """
    ts = [e.received_at for e in events]
    channels = [e.channel for e in events]
    pids = [e.pid for e in events]
    profiles = events[0].profile if one_profile else _one_or_all([e.profile for e in events])
    base = events[0].kind  # notify for a LISTEN stream, change for a replication one
    odd = [(i, e.kind, e.own) for i, e in enumerate(events) if e.own or e.kind is not base]
    payload_list = [e.payload for e in events]
    joined = _SEP.join(payload_list)
    # The server's byte counts: for ASCII text they are the lengths (nothing to keep);
    # otherwise kept as received (a byte the server's encoding could not decode became
    # one replacement character, three bytes in UTF-8).
    sizes = None if joined.isascii() else [e._size for e in events]
    codec = 0
    inline = None
    # A NUL in a payload, looked for payload by payload (memchr, 20 ns each): counting
    # the NULs of the joined text looked at every character (60 ns per event).
    if any(map(contains, payload_list, repeat(_SEP))):
        codec, inline, payloads = INLINE, payload_list, b""
    elif compress or not joined.isascii():
        payloads = joined.encode("utf-8", "surrogatepass")
        if compress:
            codec, payloads = ZLIB, zlib.compress(payloads, 1)
    else:
        payloads = joined  # bound as TEXT: no copy of ASCII text under the GIL
    meta = marshal.dumps((_LAYOUT, ts, _one_or_all(channels), pids, profiles, odd, inline,
                          base, sizes), 2)
    return (codec, meta, payloads, min(ts), max(ts),
            profiles if isinstance(profiles, str) else None)


class BlockError(ValueError):
    """A block's data cannot be unpacked."""


def _column(value: Any, n: int, kind: type | tuple[type, ...]) -> list:
    if isinstance(value, list):
        if len(value) != n or not all(isinstance(v, kind) for v in value):
            raise BlockError("a column does not match the block")
        return value
    if not isinstance(value, kind):
        raise BlockError("a column has the wrong type")
    return [value] * n


def unpack(block_id: int, codec: int, meta: bytes, payloads: str | bytes) -> list[Event]:
    """The events of a block. Raises BlockError when it is damaged."""
    first_seq = block_id << SEQ_SHIFT
    try:
        value = marshal.loads(meta)
        if codec & INLINE:
            texts = None
        else:
            if codec & ZLIB:
                payloads = zlib.decompress(payloads)
            if isinstance(payloads, bytes):
                payloads = payloads.decode("utf-8", "surrogatepass")
            texts = payloads.split(_SEP)
    except (zlib.error, ValueError, EOFError, TypeError, AttributeError) as exc:
        raise BlockError(f"unreadable block: {exc}") from None
    if not (isinstance(value, tuple) and len(value) == 9 and value[0] == _LAYOUT):
        raise BlockError("unknown block layout")
    _, ts, channels, pids, profiles, odd, inline, base, sizes = value
    if not isinstance(base, str):
        raise BlockError("a column has the wrong type")
    if texts is None:
        texts = inline
    if not isinstance(ts, list) or not isinstance(texts, list) or len(ts) != len(texts):
        raise BlockError("a column does not match the block")
    n = len(ts)
    _column(ts, n, (float, int))
    _column(texts, n, str)
    chans = _column(channels, n, str)
    pids = _column(pids, n, int)
    profs = _column(profiles, n, str)
    if base == KIND_NOTIFY:
        events = [Event(first_seq + i, float(ts[i]), profs[i], chans[i], pids[i], texts[i])
                  for i in range(n)]
    else:
        events = [Event(first_seq + i, float(ts[i]), profs[i], chans[i], pids[i], texts[i],
                        kind=base) for i in range(n)]
    if sizes is not None:
        for i, n_bytes in enumerate(_column(sizes, n, int)):
            if n_bytes >= 0:
                e = events[i]
                events[i] = Event(e.seq, e.received_at, e.profile, e.channel, e.pid, e.payload,
                                  kind=e.kind, _size=n_bytes)
    try:
        for i, kind, own in odd:
            e = events[i]
            events[i] = Event(e.seq, e.received_at, e.profile, e.channel, e.pid, e.payload,
                              kind=str(kind), own=bool(own), _size=e._size)
    except (TypeError, ValueError, IndexError):
        raise BlockError("damaged list of special events") from None
    return events


def block_profiles(meta: bytes) -> set[str]:
    """The connections a block's events came from, read from its meta alone (the payloads
    are not touched). Raises BlockError when it is damaged."""
    try:
        value = marshal.loads(meta)
        profiles = value[4]
    except (ValueError, EOFError, TypeError, IndexError, KeyError):
        raise BlockError("unreadable block") from None
    if isinstance(profiles, str):
        return {profiles}
    if isinstance(profiles, list) and all(isinstance(p, str) for p in profiles):
        return set(profiles)
    raise BlockError("a column has the wrong type")


Packed = tuple  # what pack() returns, with the number of events in front: (n, *pack(...))


def pack_chunks(events: Sequence[Event], compress: bool = False,
                one_profile: bool = False) -> list[Packed]:
    """The events packed in blocks of up to CHUNK: [(n, codec, meta, payloads, lo, hi,
    profile), ...]."""
    return [(min(CHUNK, len(events) - a), *pack(events[a:a + CHUNK], compress, one_profile))
            for a in range(0, len(events), CHUNK)]


_ROW = "(?, ?, ?, ?, ?, ?, ?)"


def insert_packed(conn: sqlite3.Connection, blocks: Sequence[Packed]) -> int:
    """Append packed blocks in one INSERT (atomic on its own, or part of the caller's
    transaction if one is open). Returns how many events."""
    total = 0
    for a in range(0, len(blocks), 100):
        part = blocks[a:a + 100]
        params: list = []
        for n, codec, meta, payloads, ts_min, ts_max, profile in part:
            params += (n, ts_min, ts_max, profile, codec, meta, payloads)
            total += n
        conn.execute("INSERT INTO blocks(n, ts_min, ts_max, profile, codec, meta, payloads) "
                     "VALUES " + ",".join([_ROW] * len(part)), params)
    return total


def insert_events(conn: sqlite3.Connection, events: Sequence[Event],
                  compress: bool | None = None) -> int:
    """Pack and append events (see insert_packed). Returns how many."""
    if compress is None:
        compress = len(events) < COMPRESS_BELOW
    return insert_packed(conn, pack_chunks(events, compress))

"""The read loop of a listening connection: drain libpq into the batcher's backlog.

One reader callback stays on the socket (`loop.add_reader`); each time data arrives it
reads for up to READ_BUDGET, turning every notification into an Event (channel names
interned by their raw bytes, payloads decoded with replacement, the size as sent), or,
for a raw reader (`listen`), handing over what libpq gives as one NotifyChunk per read.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator

import psycopg

from pgwatch_gui.core.stream import wire
from pgwatch_gui.core.stream.batching import Batcher
from pgwatch_gui.core.stream.chunks import NotifyChunk
from pgwatch_gui.core.stream.events import KIND_NOTIFY, Event
from pgwatch_gui.core.stream.notifies import EXTRA, PID, RELNAME, use_fast_notifies

# Longest a read callback keeps draining the socket before the event loop gets a turn.
# Measured (tests/benchmarks/bench_ingest.py): +35-40 % app throughput against one
# consume_input() per callback; the longest loop stall stays under 30 ms.
READ_BUDGET = 0.004
# A raw reader's (`listen`'s) budget is shorter: each batch is made into lines and
# written before the next read. With 1 ms (about 2,500 notifications a batch here, not
# 7,400) `listen > file` drained a one-transaction burst 5 % faster with 15 % less CPU
# (docs/performance.md, round 5): a smaller batch's columns stay in the CPU's caches
# while its lines are made, and the server's side of the socket waits less meanwhile.
RAW_READ_BUDGET = 0.001


def _raw_reads(pgconn, batches: Batcher, seq: Iterator[int], profile: str,
               own_pid: int | None, enc: str, clock, until: float) -> None:
    """A raw reader's turn: each read's notifications as one NotifyChunk, no Event each
    (what libpq gives, collected by one C-level loop: iter(notifies, None))."""
    backlog = batches.backlog
    notifies = pgconn.notifies
    skip = deque(maxlen=0).extend
    while True:
        pgconn.consume_input()
        items = list(iter(notifies, None))
        if not items:
            break
        n = len(items)
        first = next(seq)
        if n > 1:
            skip(itertools.islice(seq, n - 1))  # the chunk's numbers: first .. first + n - 1
        before = len(backlog)
        backlog.append(NotifyChunk(time.time(), first, items, profile, own_pid, enc))
        batches.added_chunk(before, n)
        if clock() > until:
            break


async def read_notifications(conn: psycopg.AsyncConnection, batches: Batcher,
                             seq: Iterator[int], *, profile: str, own_pid: int | None,
                             touch: Callable[[], None], raw: bool = False) -> None:
    """Read until the connection fails (raises) or the task is cancelled.

    One reader callback stays on the socket and drains libpq's queue of
    notifications each time data arrives, rather than a new wait (and a new socket
    notifier, under qasync) per read and an async-generator step per notification.
    Notifications that psycopg reads while a command runs reach the backlog through
    the notify handler installed in the listener's session (as Events, raw or not).
    """
    use_fast_notifies()  # psycopg's notifications made by C code (notifies.py)
    pgconn = conn.pgconn
    loop = asyncio.get_running_loop()
    failed: asyncio.Future = loop.create_future()
    fd = pgconn.socket

    clock = time.perf_counter
    now = time.time
    enc = wire.text_encoding(conn)
    backlog = batches.backlog
    extend = backlog.extend
    notifies = pgconn.notifies
    skip = deque(maxlen=0).extend
    utf8 = enc in ("utf-8", "utf8")
    # Channel names by their raw bytes: one str per channel, not one per notification
    # (100,000 held events would otherwise hold 100,000 copies of "orders").
    names: dict[bytes, str] = {}
    # Likewise one int per sender pid and per payload size above 256 (smaller ints are
    # shared by Python itself): 28 bytes each, 2.8 MB per 100,000 held events.
    ints: dict[int, int] = {}
    shared_int = ints.setdefault

    def on_readable() -> None:
        # One consume_input() reads at most libpq's 16 kB buffer (~70 notifications
        # of a busy stream); going back to the event loop for each costs more than
        # the reading. So keep reading while data keeps coming, for up to
        # READ_BUDGET, then let the loop run (flushes, the screen, commands).
        # What `Batcher.add` does per notification is done here per read (the counters,
        # the clock, the flush, the shared names and ints); each notification costs its
        # text and one Event, made by a list comprehension.
        try:
            touch()
            if raw:
                until = clock() + RAW_READ_BUDGET
                _raw_reads(pgconn, batches, seq, profile, own_pid, enc, clock, until)
                return
            until = clock() + READ_BUDGET
            while True:
                pgconn.consume_input()
                items = list(iter(notifies, None))  # what libpq holds, by a C-level loop
                if not items:
                    break
                t = now()
                n = len(items)
                first = next(seq)
                if n > 1:
                    skip(itertools.islice(seq, n - 1))  # the read's numbers
                if len(ints) >= 10_000:
                    ints.clear()
                # Each field read once (the names, the pids and the texts need them too)
                rels, pids = list(map(RELNAME, items)), list(map(PID, items))
                extras = list(map(EXTRA, items))
                for rel in set(rels):
                    if rel not in names:
                        if len(names) >= 10_000:
                            names.clear()
                        names[rel] = rel.decode(enc, "replace")
                for pid in set(pids):
                    shared_int(pid, pid)
                if utf8:
                    try:
                        texts = list(map(bytes.decode, extras))
                    except UnicodeDecodeError:
                        texts = [x.decode("utf-8", "replace") for x in extras]
                else:
                    texts = [x.decode(enc, "replace") for x in extras]
                before = len(backlog)
                extend([Event(s, t, profile, names[rel], ints[pid], text, KIND_NOTIFY,
                              pid == own_pid, None,
                              size if (size := len(extra)) < 257 else shared_int(size, size))
                        for s, rel, pid, extra, text
                        in zip(itertools.count(first), rels, pids, extras, texts)])
                batches.added(before, n)
                if clock() > until:
                    break
        except Exception as exc:  # consume_input fails when the server is gone
            loop.remove_reader(fd)
            if not failed.done():
                failed.set_exception(
                    exc if isinstance(exc, psycopg.OperationalError)
                    else psycopg.OperationalError(str(exc))
                )

    on_readable()  # whatever libpq already holds
    if not failed.done():
        loop.add_reader(fd, on_readable)
    try:
        await failed
    finally:
        loop.remove_reader(fd)

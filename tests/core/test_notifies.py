"""psycopg's notifications made by C code (core/stream/notifies.py): the readers get
Notifications, untracked by the collector, and psycopg's own ways still work."""

from __future__ import annotations

import asyncio
import gc
import select

import psycopg
from psycopg.pq.misc import PGnotify

from pgwatch_gui.core.pg.connection import make_conninfo
from pgwatch_gui.core.stream.chunks import NotifyChunk
from pgwatch_gui.core.stream.listener import Listener
from pgwatch_gui.core.stream.notifies import EXTRA, PID, RELNAME, Notification, use_fast_notifies


def test_psycopg_makes_notifications_and_its_own_ways_still_work(pg_dsn):
    assert use_fast_notifies()
    assert use_fast_notifies()  # again: nothing changes
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("LISTEN a")
        conn.execute("NOTIFY a, 'one'")
        conn.execute("SELECT 1")  # read with its reply: psycopg's handler has it
        seen = []
        conn.add_notify_handler(seen.append)
        conn.execute("NOTIFY a, 'two'")
        assert [(n.channel, n.payload, n.pid) for n in seen] == [
            ("a", "two", conn.info.backend_pid)]
        conn.remove_notify_handler(seen.append)
        conn.execute("NOTIFY a, 'three'")
        got = [(n.channel, n.payload) for n in conn.notifies(timeout=1, stop_after=2)]
        assert got == [("a", "one"), ("a", "three")]  # kept for it, and read by it

        raw = conn.pgconn
        with psycopg.connect(pg_dsn, autocommit=True) as other:
            other.execute("NOTIFY a, 'four'")
            pid = other.info.backend_pid
        n = None
        while n is None and select.select([raw.socket], [], [], 5)[0]:
            raw.consume_input()
            n = raw.notifies()
        assert type(n) is Notification and not gc.is_tracked(n)
        assert (RELNAME(n), PID(n), EXTRA(n)) == (b"a", pid, b"four")


def test_the_readers_take_either_kind(pg_dsn):
    """The listener (both ways) reads attributes; a PGnotify (tests build them) works too."""
    old = [PGnotify(b"c", 7, b"x"), Notification(b"c", 7, b"x")]
    chunk = NotifyChunk(1.0, 1, old, "p", 7, "utf-8")
    assert [(e.channel, e.pid, e.payload, e.own) for e in chunk.events()] == [
        ("c", 7, "x", True)] * 2

    for raw in (False, True):
        got: list = []

        async def main(raw=raw, got=got):
            lst = Listener(make_conninfo(pg_dsn), ["r"], on_batch=got.extend, raw=raw)
            lst.start()
            for _ in range(200):
                if lst.status.state.name == "LISTENING":
                    break
                await asyncio.sleep(0.02)
            with psycopg.connect(pg_dsn, autocommit=True) as c:
                c.execute("SELECT pg_notify('r', 'n' || g) FROM generate_series(1, 500) g")
            for _ in range(200):
                if sum(len(x) if type(x) is NotifyChunk else 1 for x in got) >= 500:
                    break
                await asyncio.sleep(0.02)
            await lst.stop()

        asyncio.run(main())
        events = [e for x in got for e in (x.events() if type(x) is NotifyChunk else [x])]
        assert [e.payload for e in events] == [f"n{i}" for i in range(1, 501)]
        if raw:
            assert all(type(n) is Notification for x in got for n in x.items)

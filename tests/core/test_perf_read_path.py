"""Issue 12, the listener's read path: channel names interned by their raw bytes, the
payload's byte count kept from the bytes the server sent, `Event.size` computed once."""

from __future__ import annotations

import asyncio
import time

import psycopg

from pgwatch_gui.core.pg.connection import make_conninfo
from pgwatch_gui.core.stream.events import Event, new_event
from pgwatch_gui.core.stream.listener import Listener


def _receive(dsn: str, sql: str, n: int) -> list[Event]:
    got: list[Event] = []

    async def main():
        lst = Listener(make_conninfo(dsn), ["perf", "perf_other"], on_batch=got.extend)
        lst.start()
        await lst.wait_listening(10)
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(sql)
        deadline = time.monotonic() + 20
        while len(got) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await lst.stop()

    asyncio.run(main())
    return got


def test_channel_names_are_one_string_per_channel(pg_dsn):
    got = _receive(pg_dsn, "SELECT pg_notify(CASE WHEN g % 2 = 0 THEN 'perf' ELSE 'perf_other' "
                   "END, 'n' || g) FROM generate_series(1, 200) g", 200)
    assert len(got) == 200
    assert {e.channel for e in got} == {"perf", "perf_other"}
    assert len({id(e.channel) for e in got}) == 2  # not 200 copies


def test_size_is_the_servers_byte_count_taken_at_read_time(pg_dsn):
    got = _receive(pg_dsn, "SELECT pg_notify('perf', p) FROM (VALUES ('abc'), ('é€😀'), ('')) "
                   "AS v(p)", 3)
    assert [e.payload for e in got] == ["abc", "é€😀", ""]
    assert [e._size for e in got] == [3, 9, 0]  # kept at read time, before anyone asks
    assert [e.size for e in got] == [3, 9, 0]


def test_size_is_computed_once_and_the_constructor_is_unchanged():
    ev = Event(1, 0.0, "p", "c", 7, "é" * 10)
    assert ev._size == -1
    assert ev.size == 20
    assert ev._size == 20  # kept: the painter asks on every repaint
    assert ev == Event(1, 0.0, "p", "c", 7, "é" * 10)  # not part of equality
    assert new_event(1, 0.0, "p", "c", 7, "abc", size=3).size == 3
    assert new_event(1, 0.0, "p", "c", 7, "abc").size == 3


def test_pids_and_large_sizes_are_one_int_each(pg_dsn):
    """100,000 held events from one sender held 100,000 equal pid ints (28 bytes each)."""
    got = _receive(pg_dsn, "SELECT pg_notify('perf', lpad(g::text, 300, 'x')) "
                   "FROM generate_series(1, 200) g", 200)
    assert len(got) == 200
    assert len({e.pid for e in got}) == 1 and len({id(e.pid) for e in got}) == 1
    assert {e.size for e in got} == {300} and len({id(e._size) for e in got}) == 1

"""The listener's libpq read path under load: bursts read whole and in order while the
event loop keeps turning, notifications arriving while commands run; the queue-usage query."""

from __future__ import annotations

import asyncio
import itertools
import time

import psycopg

from pgwatch_gui.core.pg.connection import make_conninfo
from pgwatch_gui.core.pg.server_facts import (
    QUEUE_WARN,
    describe_queue_usage,
    notification_queue_usage,
    notification_queue_usage_sync,
)
from pgwatch_gui.core.stream.events import Event
from pgwatch_gui.core.stream.listener import Listener


def send(dsn: str, channel: str, n: int, first: int = 1) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SELECT pg_notify(%s, 'n' || g) FROM generate_series(%s::int, %s::int) g",
                  (channel, first, first + n - 1))


def test_burst_arrives_whole_in_order_and_the_loop_keeps_turning(pg_dsn):
    got: list[Event] = []
    ticks: list[float] = []

    async def ticker():
        while True:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.002)

    async def main():
        lst = Listener(make_conninfo(pg_dsn), ["burst"], on_batch=got.extend)
        lst.start()
        await lst.wait_listening(10)
        t = asyncio.ensure_future(ticker())
        await asyncio.to_thread(send, pg_dsn, "burst", 30_000)
        deadline = time.monotonic() + 30
        while len(got) < 30_000 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        t.cancel()
        await lst.stop()
        return lst

    lst = asyncio.run(main())
    assert [e.payload for e in got] == [f"n{i}" for i in range(1, 30_001)]
    assert [e.seq for e in got] == sorted(e.seq for e in got)
    assert lst.received == 30_000 and lst.dropped == 0
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    # reading goes a socket read at a time: the loop is never held for long
    assert max(gaps) < 0.5


def test_notifications_arriving_during_commands_are_kept(pg_dsn):
    got: list[Event] = []

    async def main():
        lst = Listener(make_conninfo(pg_dsn), ["a"], on_batch=got.extend)
        lst.start()
        await lst.wait_listening(10)
        sender = asyncio.ensure_future(asyncio.to_thread(send, pg_dsn, "a", 5000))
        # commands interrupt the reader while notifications stream in
        for i in range(20):
            await lst.listen(f"extra{i}")
            await lst.notify("a", f"own{i}")
        await sender
        deadline = time.monotonic() + 20
        while len(got) < 5020 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await lst.stop()

    asyncio.run(main())
    payloads = [e.payload for e in got]
    assert sorted(p for p in payloads if p.startswith("n")) == sorted(
        f"n{i}" for i in range(1, 5001))
    own = [e for e in got if e.payload.startswith("own")]
    assert len(own) == 20 and all(e.own for e in own)
    assert not any(e.own for e in got if e.payload.startswith("n"))


def test_queue_usage_on_a_second_connection(pg_dsn):
    async def main():
        async with await psycopg.AsyncConnection.connect(pg_dsn, autocommit=True) as c:
            return await notification_queue_usage(c)

    usage = asyncio.run(main())
    assert 0.0 <= usage < QUEUE_WARN
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        assert 0.0 <= notification_queue_usage_sync(c) < QUEUE_WARN
    assert describe_queue_usage(0) == "0%"
    assert describe_queue_usage(0.000123) == "0.01%"
    assert describe_queue_usage(0.5) == "50.0%"

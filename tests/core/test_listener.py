"""The core listener against a real server: quoting, batching, own marks, backlog, reconnect."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from pgwatch_gui.core.pg.connection import make_conninfo
from pgwatch_gui.core.stream.events import KIND_GAP, KIND_NOTIFY
from pgwatch_gui.core.stream.listener import Listener
from pgwatch_gui.core.stream.status import Backoff, State


class Collector:
    def __init__(self) -> None:
        self.batches: list[list] = []
        self.statuses: list = []
        self.arrived = asyncio.Event()

    @property
    def events(self):
        return [e for b in self.batches for e in b]

    def notifies(self):
        return [e for e in self.events if e.kind == KIND_NOTIFY]

    def on_batch(self, batch):
        self.batches.append(batch)
        self.arrived.set()

    def on_status(self, st):
        self.statuses.append(st)

    async def wait_for(self, n: int, timeout: float = 10) -> None:
        async def _wait():
            while len(self.notifies()) < n:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(_wait(), timeout)


def notify(dsn: str, channel: str, payload: str = "", n: int = 1) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        if n == 1:
            c.execute("SELECT pg_notify(%s, %s)", (channel, payload))
        else:
            c.execute("SELECT pg_notify(%s, %s || g) FROM generate_series(1, %s) g",
                      (channel, payload, n))


async def started(listener: Listener) -> Listener:
    listener.start()
    await listener.wait_listening(10)
    return listener


def test_channels_with_spaces_and_capitals(pg_dsn):
    async def main():
        col = Collector()
        lst = await started(Listener(make_conninfo(pg_dsn), ["Order Events", "Foo"],
                                     on_batch=col.on_batch, on_status=col.on_status))
        await asyncio.to_thread(notify, pg_dsn, "Order Events", "a")
        await asyncio.to_thread(notify, pg_dsn, "foo", "lowercase: not ours")
        await asyncio.to_thread(notify, pg_dsn, "Foo", "b")
        await col.wait_for(2)
        await asyncio.sleep(0.2)
        await lst.stop()
        return col

    col = asyncio.run(main())
    got = [(e.channel, e.payload) for e in col.notifies()]
    assert got == [("Order Events", "a"), ("Foo", "b")]
    assert col.statuses[-1].state is State.STOPPED
    assert any(s.state is State.LISTENING for s in col.statuses)


def test_batches_not_one_call_per_event(pg_dsn):
    async def main():
        col = Collector()
        lst = await started(Listener(make_conninfo(pg_dsn), ["bulk"], on_batch=col.on_batch))
        await asyncio.to_thread(notify, pg_dsn, "bulk", "x", 2000)
        await col.wait_for(2000)
        await lst.stop()
        return col, lst

    col, lst = asyncio.run(main())
    assert len(col.notifies()) == 2000 == lst.received
    assert len(col.batches) < 200, f"{len(col.batches)} batches for 2000 events"
    seqs = [e.seq for e in col.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 2000
    assert [e.payload for e in col.events][:3] == ["x1", "x2", "x3"]


def test_own_notifications_marked(pg_dsn):
    async def main():
        col = Collector()
        lst = await started(Listener(make_conninfo(pg_dsn), ["ch"], on_batch=col.on_batch))
        await lst.notify("ch", "mine")
        await asyncio.to_thread(notify, pg_dsn, "ch", "theirs")
        await col.wait_for(2)
        await lst.stop()
        return col, lst

    col, lst = asyncio.run(main())
    marks = {e.payload: (e.own, e.pid) for e in col.notifies()}
    assert marks["mine"] == (True, lst.backend_pid)
    assert marks["theirs"][0] is False


def test_listen_and_unlisten_while_running(pg_dsn):
    async def main():
        col = Collector()
        lst = await started(Listener(make_conninfo(pg_dsn), ["a"], on_batch=col.on_batch))
        await lst.listen("B c")
        await asyncio.to_thread(notify, pg_dsn, "B c", "1")
        await col.wait_for(1)
        await lst.unlisten("a")
        await asyncio.to_thread(notify, pg_dsn, "a", "ignored")
        await asyncio.to_thread(notify, pg_dsn, "B c", "2")
        await col.wait_for(2)
        await asyncio.sleep(0.2)
        chans = lst.channels
        await lst.stop()
        return col, chans

    col, chans = asyncio.run(main())
    assert [e.payload for e in col.notifies()] == ["1", "2"]
    assert chans == ("B c",)


def test_channel_listed_only_once_listen_is_in_effect(pg_dsn):
    async def main():
        col = Collector()
        lst = await started(Listener(make_conninfo(pg_dsn), ["a"], on_batch=col.on_batch))
        task = asyncio.ensure_future(lst.listen("B"))
        while "B" not in lst.channels:
            await asyncio.sleep(0)
        # No await between seeing the channel and sending: the LISTEN must already be in effect.
        with psycopg.connect(pg_dsn, autocommit=True) as c:
            c.execute("SELECT pg_notify('B', 'right away')")
        await task
        await col.wait_for(1)
        await lst.stop()
        return col

    col = asyncio.run(main())
    assert [e.payload for e in col.notifies()] == ["right away"]


def test_slow_consumer_never_stalls_reading(pg_dsn):
    """An async consumer slower than the stream: reading goes on, the oldest are dropped."""

    async def main():
        delivered = []

        async def slow(batch):
            delivered.extend(batch)
            await asyncio.sleep(0.5)

        lst = await started(Listener(make_conninfo(pg_dsn), ["fast"], on_batch=slow,
                                     max_backlog=100))
        await asyncio.to_thread(notify, pg_dsn, "fast", "p", 1)
        await asyncio.sleep(0.05)  # the first delivery is now sleeping
        await asyncio.to_thread(notify, pg_dsn, "fast", "q", 5000)
        for _ in range(100):
            if lst.received >= 5001:
                break
            await asyncio.sleep(0.05)
        received_while_busy = lst.received
        await lst.stop()
        return lst, delivered, received_while_busy

    lst, delivered, received_while_busy = asyncio.run(main())
    assert received_while_busy == 5001  # read everything while the consumer slept
    assert lst.dropped == 5001 - 1 - 100
    assert len(delivered) == 101
    assert delivered[-1].payload == "q5000"  # the newest are kept


def test_reconnect_after_backend_killed(pg_dsn):
    async def main():
        col = Collector()
        lst = await started(Listener(make_conninfo(pg_dsn), ["Re Connect"], on_batch=col.on_batch,
                                     on_status=col.on_status,
                                     backoff=Backoff(initial=0.05, cap=0.5)))
        await asyncio.to_thread(notify, pg_dsn, "Re Connect", "before")
        await col.wait_for(1)
        first_pid = lst.backend_pid

        def kill():
            with psycopg.connect(pg_dsn, autocommit=True) as c:
                c.execute("SELECT pg_terminate_backend(%s)", (first_pid,))

        await asyncio.to_thread(kill)
        for _ in range(200):
            if lst.backend_pid != first_pid and lst.status.state is State.LISTENING:
                break
            await asyncio.sleep(0.02)
        await asyncio.to_thread(notify, pg_dsn, "Re Connect", "after")
        await col.wait_for(2)
        await lst.stop()
        return col, lst, first_pid

    col, lst, first_pid = asyncio.run(main())
    kinds = [(e.kind, e.payload if e.kind == KIND_NOTIFY else "") for e in col.events]
    assert kinds == [(KIND_NOTIFY, "before"), (KIND_GAP, ""), (KIND_NOTIFY, "after")]
    gap = col.events[1]
    assert "lost" in gap.payload and gap.is_gap
    assert lst.backend_pid != first_pid and lst.gaps == 1
    recon = [s for s in col.statuses if s.state is State.RECONNECTING and s.attempt >= 1]
    assert recon and recon[0].reason and recon[0].delay == pytest.approx(0.05)


def test_connect_failure_reports_failed(tmp_path):
    async def main():
        col = Collector()
        lst = Listener(make_conninfo(f"host={tmp_path} connect_timeout=2"), ["x"],
                       on_batch=col.on_batch, on_status=col.on_status)
        return await lst.run(), col

    status, _ = asyncio.run(main())
    assert status.state is State.FAILED
    assert "No such file" in status.reason or "connect" in status.reason
    assert "\n" not in status.reason


def test_bad_channel_rejected_before_anything_is_sent():
    from pgwatch_gui.core.pg.notify import NotifyError

    with pytest.raises(NotifyError):
        Listener("", ["x" * 64], on_batch=print)
    with pytest.raises(NotifyError):
        Listener("", [""], on_batch=print)

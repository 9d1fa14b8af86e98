"""A connection that dies silently, and a server that goes away (issue 10, defects 6, 7).

Through tests/pgproxy.py: `blackhole()` swallows every byte of the open connections
without closing them (a NAT or firewall that forgot the connection); `down()`/`up()`
is the server going away and coming back.
"""

from __future__ import annotations

import asyncio
import time

from pgwatch_gui.core.pg.connection import KEEPALIVES, _timeout_kwargs, connect
from pgwatch_gui.core.stream.events import KIND_GAP
from pgwatch_gui.core.stream.listener import Listener
from pgwatch_gui.core.stream.status import State
from tests.core.test_listener import Collector, notify
from tests.pgproxy import PgProxy


class Timeline(Collector):
    """A Collector that stamps each status with time.monotonic()."""

    def __init__(self) -> None:
        super().__init__()
        self.stamped: list[tuple[float, object]] = []
        self.changed = asyncio.Event()

    def on_status(self, st):
        super().on_status(st)
        self.stamped.append((time.monotonic(), st))
        self.changed.set()

    async def until(self, pred, timeout: float):
        async def wait():
            while True:
                for t, st in self.stamped:
                    if pred(st):
                        return t, st
                self.changed.clear()
                await self.changed.wait()
        return await asyncio.wait_for(wait(), timeout)

    def after(self, t0: float):
        return [(t, st) for t, st in self.stamped if t >= t0]


async def sentinel_arrives(col: Collector, dsn: str, channel: str, n: int) -> None:
    """Send a sentinel until one is read: the listener is really back (no sleep)."""
    for _ in range(50):
        await asyncio.to_thread(notify, dsn, channel, "sentinel")
        try:
            await col.wait_for(n, timeout=0.5)
            return
        except asyncio.TimeoutError:
            continue
    raise AssertionError("the listener never received the sentinel")


def test_a_silently_dead_connection_is_noticed_reconnected_and_marked(pg_dsn):
    with PgProxy(pg_dsn) as proxy:
        async def main():
            col = Timeline()
            lst = Listener(proxy.dsn(), ["a"], on_batch=col.on_batch, on_status=col.on_status,
                           heartbeat_interval=1.0, heartbeat_timeout=1.0)
            lst.start()
            await lst.wait_listening(10)
            await sentinel_arrives(col, pg_dsn, "a", 1)
            first_pid = lst.backend_pid
            t0 = time.monotonic()
            proxy.blackhole()
            t_lost, st = await col.until(
                lambda s: s.state is State.RECONNECTING and "heartbeat" in s.reason, 15)
            t_back, _ = await col.until(lambda s: s.state is State.LISTENING
                                        and s.pid != first_pid, 15)
            await sentinel_arrives(col, pg_dsn, "a", 2)
            await lst.stop()
            return col, t_lost - t0, t_back - t0, st

        col, noticed, back, st = asyncio.run(main())
    print(f"dead connection noticed after {noticed:.2f} s, listening again after {back:.2f} s")
    # idle 1 s + 1 s unanswered, and a little slack for a loaded machine
    assert noticed < 4.0
    assert "presumed dead" in st.reason
    gaps = [e for e in col.events if e.kind == KIND_GAP]
    assert len(gaps) == 1 and "heartbeat" in gaps[0].payload


def test_back_within_about_2_s_after_the_server_returns(pg_dsn):
    outage = 4.0
    with PgProxy(pg_dsn) as proxy:
        async def main():
            col = Timeline()
            lst = Listener(proxy.dsn(), ["a"], on_batch=col.on_batch, on_status=col.on_status)
            lst.start()
            await lst.wait_listening(10)
            proxy.down()
            await col.until(lambda s: s.state is State.RECONNECTING, 10)
            await asyncio.sleep(outage)  # the outage itself: a duration, not a wait-and-see
            t_up = time.monotonic()
            proxy.up()
            await col.until(lambda s: any(t >= t_up and x.state is State.LISTENING
                                          for t, x in col.stamped), 15)
            back_after = [t for t, s in col.after(t_up) if s.state is State.LISTENING]
            await sentinel_arrives(col, pg_dsn, "a", 1)
            attempts = max(s.attempt for _, s in col.stamped)
            await lst.stop()
            return col, back_after[0] - t_up if back_after else None, attempts

        col, back, attempts = asyncio.run(main())
    print(f"outage {outage:g} s: listening again {back:.2f} s after the server returned, "
          f"{attempts} attempts")
    assert back is not None and back < 2.5
    assert attempts <= outage / 0.25 + 2  # bounded: never a tight loop
    assert sum(e.kind == KIND_GAP for e in col.events) == 1


def test_keepalives_are_on_unless_the_connection_string_sets_them(pg_dsn):
    assert _timeout_kwargs("host=h", None, keepalives=True).items() >= KEEPALIVES.items()
    own = _timeout_kwargs("host=h keepalives_idle=99", None, keepalives=True)
    assert "keepalives" not in own and "keepalives_idle" not in own
    assert "keepalives" not in _timeout_kwargs("host=h", None)
    with PgProxy(pg_dsn) as proxy:
        async def main():
            async with await connect(proxy.dsn(), keepalives=True) as conn:
                return conn.pgconn.info
        info = {o.keyword.decode(): (o.val or b"").decode() for o in asyncio.run(main())}
    assert info["keepalives"] == "1" and info["keepalives_idle"] == "10"
    assert info["keepalives_interval"] == "5" and info["keepalives_count"] == "3"

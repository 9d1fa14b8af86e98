"""The LISTEN loop: one psycopg AsyncConnection, any number of channels.

A Listener reads every notification as soon as it arrives, turns it into an Event
and hands Events to its consumer in batches: the first event after a quiet spell
goes out at once (on the next loop turn, together with whatever arrived in the same
packet), and while the stream is busy at most one batch per `batch_interval`.

It never stops reading because the consumer is slow: events wait in a bounded
backlog, and past `max_backlog` the oldest are dropped and counted. A stalled
reader would fill the server's notification queue, after which every writer whose
trigger calls pg_notify fails.

On a lost connection it reconnects with capped exponential backoff, LISTENs again
on every channel, and emits a gap marker Event: whatever was sent meanwhile is
lost to LISTEN, and the user must see where.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator

import psycopg

from pgwatch_gui.core.pg.connection import connect, one_line
from pgwatch_gui.core.pg.notify import check_channel, quote_listen, send_notify
from pgwatch_gui.core.stream.batching import BatchConsumer, Batcher
from pgwatch_gui.core.stream.events import make_gap, new_event
from pgwatch_gui.core.stream.status import Backoff, State, Status

# Longest a read callback keeps draining the socket before the event loop gets a turn.
# Measured (tests/benchmarks/bench_ingest.py): +35-40 % app throughput against one
# consume_input() per callback; the longest loop stall stays under 30 ms.
READ_BUDGET = 0.004


class Listener:
    def __init__(
        self,
        conninfo: str,
        channels: Iterable[str] = (),
        *,
        on_batch: BatchConsumer,
        on_status: Callable[[Status], None] | None = None,
        profile: str = "",
        max_backlog: int = 100_000,
        batch_interval: float = 0.016,
        backoff: Backoff | None = None,
        max_attempts: int | None = None,
        seq: Iterator[int] | None = None,
    ) -> None:
        self.conninfo = conninfo
        self.profile = profile
        self._channels: list[str] = []
        for ch in channels:
            if check_channel(ch) not in self._channels:
                self._channels.append(ch)
        self._on_status = on_status
        self.backoff = backoff or Backoff()
        self.max_attempts = max_attempts
        self._seq = seq if seq is not None else itertools.count(1)

        self._batches = Batcher(on_batch, max_backlog=max_backlog, interval=batch_interval)
        self._backlog = self._batches.backlog
        self.gaps = 0

        self._conn: psycopg.AsyncConnection | None = None
        self._pid: int | None = None
        self._commands: deque[tuple[Callable, asyncio.Future]] = deque()
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._listening = asyncio.Event()
        self.status = Status(State.IDLE, profile)

    # ---- public API ---------------------------------------------------------------

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self._channels)

    @property
    def backend_pid(self) -> int | None:
        return self._pid

    @property
    def backlog(self) -> int:
        return len(self._backlog)

    @property
    def received(self) -> int:
        return self._batches.received

    @property
    def dropped(self) -> int:
        return self._batches.dropped

    @property
    def batch_interval(self) -> float:
        return self._batches.interval

    @batch_interval.setter
    def batch_interval(self, value: float) -> None:
        self._batches.interval = value

    def start(self) -> asyncio.Task:
        """Run in the background on the current loop; returns the task."""
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self.run())
        return self._task

    async def stop(self) -> None:
        self._stopping = True
        self._listening.clear()
        if self._wake is not None:
            self._wake.set()
        task = self._task
        if task is not None and not task.done() and task is not asyncio.current_task():
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=5)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def wait_listening(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._listening.wait(), timeout)

    async def listen(self, channel: str) -> None:
        """Start listening on a channel (now if connected, else at the next connect).

        The channel shows in `channels` only once its LISTEN is in effect, so whoever
        waits on `channels` may send at once and the notification will arrive.
        """
        check_channel(channel)
        if channel in self._channels:
            return
        try:
            await self._run_command(lambda conn: conn.execute(quote_listen("LISTEN", channel)))
        except psycopg.OperationalError:
            pass  # the connection went away: the reconnect LISTENs on every channel
        if channel not in self._channels:
            self._channels.append(channel)
        self._emit_status(self.status.state)

    async def unlisten(self, channel: str) -> None:
        if channel not in self._channels:
            return
        self._channels.remove(channel)
        await self._run_command(lambda conn: conn.execute(quote_listen("UNLISTEN", channel)))
        self._emit_status(self.status.state)

    async def notify(self, channel: str, payload: str = "") -> None:
        """Send a notification from the listening session (its events come back marked own)."""
        if self._conn is None or self.status.state is not State.LISTENING:
            raise psycopg.OperationalError("not connected")
        await self._run_command(lambda conn: send_notify(conn, channel, payload), required=True)

    # ---- the loop ---------------------------------------------------------------

    async def run(self) -> Status:
        """Connect, LISTEN, read until stop(). Returns the final status."""
        self._stopping = False
        self._wake = asyncio.Event()
        attempt = 0
        connected_once = False
        lost_at: float | None = None
        lost_reason = ""
        try:
            while not self._stopping:
                self._emit_status(
                    State.RECONNECTING if connected_once else State.CONNECTING, attempt=attempt
                )
                try:
                    conn = await connect(self.conninfo)
                except psycopg.Error as exc:
                    reason = one_line(exc)
                    if not connected_once or self._out_of_attempts(attempt + 1):
                        self._emit_status(State.FAILED, reason=reason)
                        return self.status
                    attempt += 1
                    await self._backoff(attempt, reason)
                    continue
                try:
                    async with conn:
                        self._conn = conn
                        self._pid = conn.info.backend_pid
                        for ch in list(self._channels):
                            await conn.execute(quote_listen("LISTEN", ch))
                        connected_once = True
                        attempt = 0
                        if lost_at is not None:
                            self._batches.add(
                                make_gap(next(self._seq), self.profile, lost_at, time.time(),
                                         lost_reason)
                            )
                            self.gaps += 1
                            lost_at = None
                        self._emit_status(State.LISTENING)
                        self._listening.set()
                        await self._session(conn)
                except psycopg.OperationalError as exc:
                    self._listening.clear()
                    self._conn = None
                    if self._stopping:
                        break
                    if lost_at is None:
                        lost_at = time.time()
                        lost_reason = one_line(exc)
                    attempt += 1
                    if self._out_of_attempts(attempt):
                        self._emit_status(State.FAILED, reason=one_line(exc))
                        return self.status
                    self._fail_commands(exc)
                    await self._backoff(attempt, one_line(exc))
                except psycopg.Error as exc:
                    # LISTEN refused (a hot standby, a missing privilege...): retrying won't help.
                    self._emit_status(State.FAILED, reason=one_line(exc))
                    return self.status
                finally:
                    self._conn = None
                    self._listening.clear()
        finally:
            self._fail_commands(psycopg.OperationalError("listener stopped"))
            self._batches.flush()
        await self._batches.drain()
        self._emit_status(State.STOPPED)
        return self.status

    def _out_of_attempts(self, attempt: int) -> bool:
        return self.max_attempts is not None and attempt > self.max_attempts

    async def _backoff(self, attempt: int, reason: str) -> None:
        delay = self.backoff.delay(attempt)
        self._emit_status(State.RECONNECTING, attempt=attempt, delay=delay, reason=reason)
        assert self._wake is not None
        self._wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    async def _session(self, conn: psycopg.AsyncConnection) -> None:
        """Read until stopped; between reads, run queued commands (LISTEN, NOTIFY...).

        A command waits on the same socket as the reader, so it interrupts the reader,
        runs, and the reader resumes. Notifications that psycopg reads while a command
        runs reach the backlog through the notify handler.
        """
        assert self._wake is not None
        own_pid = self._pid

        def on_notify(n: psycopg.Notify) -> None:
            self._batches.add(new_event(next(self._seq), time.time(), self.profile, n.channel,
                                    n.pid, n.payload, n.pid == own_pid))

        conn.add_notify_handler(on_notify)
        while not self._stopping:
            self._wake.clear()
            reader = asyncio.ensure_future(self._read(conn))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                done, _ = await asyncio.wait({reader, waker}, return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                reader.cancel()
                waker.cancel()
                raise
            if reader in done:
                waker.cancel()
                reader.result()  # raises OperationalError on a lost connection
                continue
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader  # a failure that beat the cancel is raised here
            while self._commands:
                command, fut = self._commands.popleft()
                try:
                    result = await command(conn)
                except psycopg.OperationalError as exc:
                    if not fut.done():
                        fut.set_exception(exc)
                    raise
                except Exception as exc:
                    if not fut.done():
                        fut.set_exception(exc)
                else:
                    if not fut.done():
                        fut.set_result(result)

    async def _read(self, conn: psycopg.AsyncConnection) -> None:
        """Read until the connection fails (raises) or the task is cancelled.

        One reader callback stays on the socket and drains libpq's queue of
        notifications each time data arrives, rather than a new wait (and a new socket
        notifier, under qasync) per read and an async-generator step per notification.
        Notifications that psycopg reads while a command runs reach the backlog through
        the notify handler installed in `_session`.
        """
        pgconn = conn.pgconn
        loop = asyncio.get_running_loop()
        failed: asyncio.Future = loop.create_future()
        fd = pgconn.socket

        clock = time.perf_counter
        now = time.time
        enc = conn.info.encoding
        seq = self._seq
        profile = self.profile
        own_pid = self._pid
        batches = self._batches
        backlog = batches.backlog
        append = backlog.append

        def on_readable() -> None:
            # One consume_input() reads at most libpq's 16 kB buffer (~70 notifications
            # of a busy stream); going back to the event loop for each costs more than
            # the reading. So keep reading while data keeps coming, for up to
            # READ_BUDGET, then let the loop run (flushes, the screen, commands).
            # What `Batcher.add` does per notification is done here per chunk (the counters,
            # the clock, the flush); each notification costs one Event and an append.
            try:
                until = clock() + READ_BUDGET
                while True:
                    pgconn.consume_input()
                    n = pgconn.notifies()
                    if n is None:
                        break
                    t = now()
                    before = len(backlog)
                    count = 0
                    while n is not None:
                        pid = n.be_pid
                        append(new_event(next(seq), t, profile,
                                         n.relname.decode(enc, "replace"), pid,
                                         n.extra.decode(enc, "replace"), pid == own_pid))
                        count += 1
                        n = pgconn.notifies()
                    batches.added(before, count)
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

    async def _run_command(self, command: Callable, *, required: bool = False) -> object:
        if self._conn is None or self._wake is None:
            if required:
                raise psycopg.OperationalError("not connected")
            return None
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self._commands.append((command, fut))
        self._wake.set()
        return await fut

    def _fail_commands(self, exc: BaseException) -> None:
        while self._commands:
            _, fut = self._commands.popleft()
            if not fut.done():
                fut.set_exception(exc)

    def mark_failed(self, reason: str) -> None:
        """Its supervisor gave up on it (its task kept dying of unexpected errors)."""
        self._emit_status(State.FAILED, reason=reason)

    def _emit_status(self, state: State, **kw: object) -> None:
        self.status = Status(state, self.profile, pid=self._pid, channels=self.channels, **kw)
        if self._on_status is not None:
            self._on_status(self.status)

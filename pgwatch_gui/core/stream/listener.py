"""The LISTEN loop: one psycopg AsyncConnection, any number of channels.

A Listener reads every notification as soon as it arrives, turns it into an Event
and hands Events to its consumer in batches: the first event after a quiet spell
goes out at once (on the next loop turn, together with whatever arrived in the same
packet), and while the stream is busy at most one batch per `batch_interval`.

It never stops reading because the consumer is slow: events wait in a bounded
backlog, and past `max_backlog` the oldest are dropped and counted. A stalled
reader would fill the server's notification queue, after which every writer whose
trigger calls pg_notify fails.

On a lost connection (or one silent past the heartbeat, see wire.py) it reconnects
with backoff capped near 2 s, LISTENs again on every channel, and emits a gap marker
Event: whatever was sent meanwhile is lost to LISTEN, and the user must see where.
Between backoff steps it watches the server's port and reconnects as soon as a port seen
closed accepts again; a login refused (a password that stopped working) is not retried:
the listener fails with the reason and `auth_failed` set (reconnect.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

import psycopg

from pgwatch_gui.core.pg.connection import connect, one_line
from pgwatch_gui.core.pg.errors import RouteError, route_reason
from pgwatch_gui.core.pg.notify import check_channel, quote_listen, send_notify
from pgwatch_gui.core.stream import wire
from pgwatch_gui.core.stream.batching import BatchConsumer, Batcher
from pgwatch_gui.core.stream.events import make_gap
from pgwatch_gui.core.stream.reader import read_notifications
from pgwatch_gui.core.stream.reconnect import PortWatch, auth_failure
from pgwatch_gui.core.stream.source import EventSource
from pgwatch_gui.core.stream.status import Backoff, State, Status


class Route(Protocol):
    """Where to connect, asked before each connect (core.ssh.route.TunnelRoute)."""

    async def conninfo(self) -> str: ...
    async def close(self) -> None: ...



class Listener(EventSource):
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
        route: Route | None = None,
        heartbeat_interval: float = wire.HEARTBEAT_INTERVAL,
        heartbeat_timeout: float = wire.HEARTBEAT_TIMEOUT,
        raw: bool = False,
    ) -> None:
        self.conninfo = conninfo
        # raw: batches carry each read's notifications as one chunks.NotifyChunk (listen)
        self.raw = raw
        # An SSH tunnel (core.ssh.route.TunnelRoute): asked for the string before each
        # connect, it reopens a lost tunnel; closed when the listener stops.
        self.route = route
        self.profile = profile
        self._channels: list[str] = []
        for ch in channels:
            if check_channel(ch) not in self._channels:
                self._channels.append(ch)
        self._on_status = on_status
        self.backoff = backoff or wire.RECONNECT_BACKOFF
        self.max_attempts = max_attempts
        # Through a tunnel the local forward always answers: nothing to watch there.
        self.ports = PortWatch(conninfo if route is None else "")
        self._seq = seq if seq is not None else itertools.count(1)

        self._batches = Batcher(on_batch, max_backlog=max_backlog, interval=batch_interval)
        self.gaps = 0

        self._conn: psycopg.AsyncConnection | None = None
        self._pid: int | None = None
        self._commands: deque[tuple[Callable, asyncio.Future]] = deque()
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_timeout = heartbeat_timeout
        self._last_word = wire.LastWord()
        self._last_rx = 0.0  # time.monotonic() of the last data read
        self._on_notify = None
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

    async def stop(self) -> None:
        self._stopping = True
        self._listening.clear()
        if self._wake is not None:
            self._wake.set()
        await self._end_task(5)

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
                    if self.route is not None:
                        self.conninfo = await self.route.conninfo()
                    conn = await connect(self.conninfo, keepalives=True)
                except (psycopg.Error, RouteError) as exc:
                    reason = one_line(exc)
                    permanent = isinstance(exc, RouteError) and not exc.retry
                    refused = not isinstance(exc, RouteError) and auth_failure(exc)
                    if (permanent or refused or not connected_once
                            or self._out_of_attempts(attempt + 1)):
                        self._emit_status(State.FAILED, reason=reason, auth_failed=refused)
                        return self.status
                    attempt += 1
                    await self._backoff(attempt, reason)
                    continue
                try:
                    async with conn:
                        self._conn = conn
                        self._pid = conn.info.backend_pid
                        self._on_notify = wire.attach(conn, self._batches.add, self._seq,
                                                      self.profile, self._last_word)
                        for ch in list(self._channels):
                            await conn.execute(quote_listen("LISTEN", ch))
                        connected_once = True
                        attempt = 0
                        self.ports.connected()
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
                    reason = route_reason(self.route, self._last_word.reason(exc, one_line(exc)))
                    if lost_at is None:
                        lost_at = time.time()
                        lost_reason = reason
                    attempt += 1
                    if self._out_of_attempts(attempt):
                        self._emit_status(State.FAILED, reason=reason)
                        return self.status
                    self._fail_commands(exc)
                    await self._backoff(attempt, reason)
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
            if self.route is not None:
                with contextlib.suppress(Exception):
                    await self.route.close()
        await self._batches.drain()
        self._emit_status(State.STOPPED)
        return self.status

    async def _backoff(self, attempt: int, reason: str) -> None:
        if self._stopping:
            return
        delay = self.backoff.delay(attempt)
        self._emit_status(State.RECONNECTING, attempt=attempt, delay=delay, reason=reason)
        assert self._wake is not None
        self._wake.clear()
        await self.ports.wait(delay, self._wake)

    async def _session(self, conn: psycopg.AsyncConnection) -> None:
        """Read until stopped; between reads, run queued commands (LISTEN, NOTIFY...).

        A command waits on the same socket as the reader, so it interrupts the reader,
        runs, and the reader resumes. Notifications that psycopg reads while a command
        runs reach the backlog through the notify handler.
        """
        assert self._wake is not None
        self._last_rx = time.monotonic()
        while not self._stopping:
            if not self._commands:
                # Only when nothing waits: a command queued while the LISTENs were
                # replayed set the wake-up already, and clearing it would strand it.
                self._wake.clear()
            reader = asyncio.ensure_future(self._read(conn))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                done = await wire.first_or_quiet({reader, waker}, lambda: self._last_rx,
                                                 self.heartbeat_interval)
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
            if not done:  # quiet for heartbeat_interval: is the server still there?
                waker.cancel()
                await wire.heartbeat(conn, self.heartbeat_timeout, self._on_notify)
                self._last_rx = time.monotonic()
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
        """Read until the connection fails (raises) or the task is cancelled."""

        def touch() -> None:
            self._last_rx = time.monotonic()

        await read_notifications(conn, self._batches, self._seq, profile=self.profile,
                                 own_pid=self._pid, touch=touch, raw=self.raw)

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


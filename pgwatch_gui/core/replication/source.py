"""ChangeSource: row changes from a temporary logical slot, as Events, beside the Listener.

It has the Listener's shape (start/stop, a status callback, Events in batches to a
consumer), so a window or a command treats it as one more connection. Its life:
check the server and role (one-line refusals), create the publication (unless an
existing one is given), open a replication connection, create a TEMPORARY pgoutput
slot, stream. Every message is read as soon as it arrives, on the event loop, with
libpq's socket watched by `add_reader`; the server hears the flushed position in a
standby status update every `status_interval` and whenever it asks. On stop the
publication it created is dropped; the slot goes with its connection.

A lost connection cannot be resumed (the temporary slot went with it): it
reconnects with a new slot from the server's current position and emits a gap
Event saying that changes committed meanwhile are not in the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
from psycopg import pq

from pgwatch_gui.core.connection import connect, one_line
from pgwatch_gui.core.events import KIND_GAP, Event, new_change_event
from pgwatch_gui.core.listener import Backoff, BatchConsumer, State, Status
from pgwatch_gui.core.replication import publication as pubs
from pgwatch_gui.core.replication.batching import Batcher
from pgwatch_gui.core.replication.checks import (
    ReplicationRefused,
    explain,
    gather_facts,
    refusal,
)
from pgwatch_gui.core.replication.pgoutput import DecodeError, Decoder
from pgwatch_gui.core.replication.protocol import (
    XLOGDATA_HEADER,
    parse_keepalive,
    parse_xlogdata,
    standby_status,
)
from pgwatch_gui.core.replication.slot import create_slot, open_replication, start_streaming

READ_BUDGET = 0.004  # as the Listener: longest drain of the socket per loop turn
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


@dataclass(frozen=True)
class ChangeStatus(Status):
    """A Listener Status (LISTENING means streaming) plus what a change stream adds."""

    publication: str = ""
    slot: str = ""
    watching: str = ""
    lag_bytes: int = 0
    lag_seconds: float = 0.0

    def describe(self) -> str:
        if self.state is State.LISTENING:
            lag = (f"; {self.lag_bytes:,} bytes, {self.lag_seconds:.1f} s behind"
                   if self.lag_bytes else "")
            return (f"streaming changes of {self.watching} (publication {self.publication}, "
                    f"temporary slot {self.slot}){lag}")
        if self.state is State.RECONNECTING:
            text = f"reconnecting with a new slot in {self.delay:.1f} s (attempt {self.attempt})"
            return f"{text}: {self.reason}" if self.reason else text
        return super().describe()


class ChangeSource:
    def __init__(
        self,
        conninfo: str,
        plan: pubs.WatchPlan | None = None,
        *,
        setup: pubs.Setup | None = None,
        on_batch: BatchConsumer,
        on_status: Callable[[Status], None] | None = None,
        on_setup: Callable[[pubs.Setup], None] | None = None,
        on_leftovers: Callable[[list[pubs.Leftover]], None] | None = None,
        profile: str = "",
        max_backlog: int = 100_000,
        batch_interval: float = 0.016,
        status_interval: float = 10.0,
        backoff: Backoff | None = None,
        max_attempts: int | None = None,
        seq: Iterator[int] | None = None,
    ) -> None:
        self.conninfo = conninfo
        self.plan = plan or pubs.WatchPlan()
        self.setup = setup
        self.profile = profile
        self.status_interval = status_interval
        self.backoff = backoff or Backoff(cap=2.0)
        self.max_attempts = max_attempts
        self._on_status = on_status
        self._on_setup = on_setup
        self._on_leftovers = on_leftovers
        self._seq = seq if seq is not None else itertools.count(1)
        self._batcher = Batcher(on_batch, max_backlog, batch_interval)
        self.decoder: Decoder | None = None
        self.changes = 0
        self.gaps = 0
        self.flushed = 0  # the LSN the server has been told is processed
        self.server_end = 0  # the server's end of WAL, as last heard
        self._position = 0  # start LSN of the last message read
        self._slot = ""
        self._created = False
        self._stopping = False
        self._stop: asyncio.Future | None = None
        self._task: asyncio.Task | None = None
        self._streaming = asyncio.Event()
        self.status: Status = ChangeStatus(State.IDLE, profile)

    # ---- public API ---------------------------------------------------------------

    @property
    def received(self) -> int:
        return self._batcher.received

    @property
    def dropped(self) -> int:
        return self._batcher.dropped

    @property
    def backlog(self) -> int:
        return len(self._batcher.backlog)

    @property
    def channels(self) -> tuple[str, ...]:
        return (self.setup.name,) if self.setup else ()

    def start(self) -> asyncio.Task:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self.run())
        return self._task

    async def stop(self) -> None:
        self._stopping = True
        self._streaming.clear()
        if self._stop is not None and not self._stop.done():
            self._stop.set_result(None)
        task = self._task
        if task is not None and not task.done() and task is not asyncio.current_task():
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=10)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def wait_streaming(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._streaming.wait(), timeout)

    # ---- the life of a stream -----------------------------------------------------

    async def run(self) -> Status:
        self._stopping = False
        self._stop = asyncio.get_running_loop().create_future()
        self._emit(State.CONNECTING)
        try:
            await self._prepare()
        except ReplicationRefused as exc:
            return self._emit(State.FAILED, reason=str(exc))
        except psycopg.Error as exc:
            return self._emit(State.FAILED, reason=explain(exc))
        except Exception as exc:
            return self._emit(State.FAILED, reason=f"{exc.__class__.__name__}: {one_line(exc)}")
        try:
            await self._stream_until_stopped()
        except Exception as exc:  # supervised: a failure is shown, never silent
            self._emit(State.FAILED, reason=f"{exc.__class__.__name__}: {one_line(exc)}")
        finally:
            await self._cleanup()
        await self._batcher.drain()
        if self.status.state is not State.FAILED:
            self._emit(State.STOPPED)
        return self.status

    async def _prepare(self) -> None:
        async with await connect(self.conninfo) as conn:
            facts = await gather_facts(conn)
            reason = refusal(facts)
            if reason:
                raise ReplicationRefused(reason)
            if self._on_leftovers is not None:
                found = await pubs.leftovers(conn)
                if found:
                    self._on_leftovers(found)
            if self.setup is None:
                self.setup = await pubs.plan_setup(conn, self.plan, superuser=facts.superuser)
            if self._on_setup is not None:
                self._on_setup(self.setup)
            await pubs.create(conn, self.setup)
            self._created = self.setup.created_here

    async def _cleanup(self) -> None:
        if not (self._created and self.setup):
            return
        try:
            async with await connect(self.conninfo) as conn:
                await pubs.drop(conn, self.setup.name)
            self._created = False
        except psycopg.Error as exc:
            self._emit(State.FAILED, reason=f"could not drop publication {self.setup.name} "
                       f"({one_line(exc)}); it is listed for removal at the next start")

    async def _stream_until_stopped(self) -> None:
        assert self.setup is not None
        attempt = 0
        streamed_once = False
        lost_at: float | None = None
        lost_reason = ""
        while not self._stopping:
            if streamed_once:
                self._emit(State.RECONNECTING, attempt=attempt)
            try:
                conn = await open_replication(self.conninfo)
            except psycopg.Error as exc:
                if not streamed_once or self._out_of_attempts(attempt + 1):
                    self._emit(State.FAILED, reason=explain(exc))
                    return
                attempt += 1
                await self._backoff(attempt, one_line(exc))
                continue
            alive = True
            try:
                # Not `async with conn`: leaving it would send COMMIT into the COPY stream.
                try:
                    self._slot = self.setup.slot + (f"_{self.gaps + 1}" if streamed_once else "")
                    self.decoder = Decoder(self._key_hint)
                    self.flushed = self._position = await create_slot(conn.pgconn, self._slot)
                    await start_streaming(conn.pgconn, self._slot, self.setup.name)
                    streamed_once, attempt = True, 0
                    if lost_at is not None:
                        self._gap(lost_at, lost_reason)
                        lost_at = None
                    self._emit(State.LISTENING)
                    self._streaming.set()
                    await self._read(conn.pgconn)
                finally:
                    alive = conn.pgconn.status == pq.ConnStatus.OK
                    await conn.close()
            except psycopg.Error as exc:
                self._streaming.clear()
                if self._stopping:
                    return
                if alive and not streamed_once:
                    self._emit(State.FAILED, reason=explain(exc))  # refused, not lost
                    return
                if lost_at is None:
                    lost_at, lost_reason = time.time(), one_line(exc)
                attempt += 1
                if self._out_of_attempts(attempt):
                    self._emit(State.FAILED, reason=one_line(exc))
                    return
                await self._backoff(attempt, one_line(exc))
            except DecodeError as exc:
                self._emit(State.FAILED, reason=f"cannot decode the stream: {exc}")
                return
            finally:
                self._streaming.clear()

    def _key_hint(self, schema: str, table: str) -> tuple[str, ...] | None:
        return self.setup.primary_keys.get((schema, table)) if self.setup else None

    def _gap(self, lost_at: float, reason: str) -> None:
        now = time.time()
        lost = time.strftime("%H:%M:%S", time.localtime(lost_at))
        text = (f"connection lost at {lost} ({reason}); streaming again after "
                f"{now - lost_at:.1f} s with a new slot. A temporary slot cannot resume: "
                "row changes committed meanwhile are not in this stream.")
        self._batcher.put(Event(next(self._seq), now, self.profile, "", 0, text, kind=KIND_GAP))
        self.gaps += 1

    def _out_of_attempts(self, attempt: int) -> bool:
        return self.max_attempts is not None and attempt > self.max_attempts

    async def _backoff(self, attempt: int, reason: str) -> None:
        delay = self.backoff.delay(attempt)
        self._emit(State.RECONNECTING, attempt=attempt, delay=delay, reason=reason)
        assert self._stop is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._stop), delay)

    # ---- reading ------------------------------------------------------------------

    async def _read(self, pgconn: pq.abc.PGconn) -> None:
        """Read until stopped (returns) or the connection fails (raises)."""
        loop = asyncio.get_running_loop()
        failed: asyncio.Future = loop.create_future()
        fd = pgconn.socket
        decoder = self.decoder
        assert decoder is not None and self.setup is not None
        feed = decoder.feed
        put_many = self._batcher.put_many
        seq = self._seq
        profile = self.profile
        channel = self.setup.name
        clock = time.perf_counter
        last_status = time.monotonic()

        def fail(exc: BaseException) -> None:
            loop.remove_reader(fd)
            if not failed.done():
                failed.set_exception(exc)

        def send_status() -> None:
            nonlocal last_status
            last_status = time.monotonic()
            pgconn.put_copy_data(standby_status(self.flushed, self.flushed, self.flushed))
            if pgconn.flush() == 1:  # rare: the socket is full; finish when it drains
                loop.add_writer(fd, lambda: pgconn.flush() == 1 or loop.remove_writer(fd))

        def on_readable() -> None:
            try:
                until = clock() + READ_BUDGET
                while True:
                    pgconn.consume_input()
                    got = 0
                    while True:
                        n, data = pgconn.get_copy_data(1)
                        if n <= 0:
                            break
                        got += 1
                        kind = data[0]
                        if kind == 119:  # 'w'
                            start, end, _ = parse_xlogdata(data)
                            self._position = start
                            if end > self.server_end:
                                self.server_end = end
                            envs = feed(bytes(data[XLOGDATA_HEADER:]))
                            if envs:
                                t = time.time()
                                put_many([new_change_event(next(seq), t, profile, channel,
                                                           _dumps(env), env) for env in envs])
                                self.changes += len(envs)
                            elif not decoder.in_transaction and decoder.last_commit_end:
                                self.flushed = max(self.flushed, decoder.last_commit_end)
                        elif kind == 107:  # 'k'
                            end, _sent, reply = parse_keepalive(data)
                            self.server_end = max(self.server_end, end)
                            if not decoder.in_transaction:  # everything up to `end` is read
                                self._position = self.flushed = max(self.flushed, end)
                            if reply:
                                send_status()
                    if n == -1:
                        fail(psycopg.OperationalError("the server ended the stream"))
                        return
                    if n < -1:
                        fail(psycopg.OperationalError(pgconn.get_error_message()))
                        return
                    if not got or clock() > until:
                        break
            except DecodeError as exc:
                fail(exc)
            except Exception as exc:  # consume_input fails when the server is gone
                fail(exc if isinstance(exc, psycopg.OperationalError)
                     else psycopg.OperationalError(str(exc)))

        def tick() -> None:
            nonlocal ticker
            if time.monotonic() - last_status >= self.status_interval:
                with contextlib.suppress(Exception):
                    send_status()
            self._emit(State.LISTENING)
            ticker = loop.call_later(1.0, tick)

        on_readable()
        ticker = loop.call_later(1.0, tick)
        if not failed.done():
            loop.add_reader(fd, on_readable)
        assert self._stop is not None
        try:
            await asyncio.wait({failed, self._stop}, return_when=asyncio.FIRST_COMPLETED)
            if failed.done():
                failed.result()
            else:
                with contextlib.suppress(Exception):
                    send_status()
        finally:
            ticker.cancel()
            loop.remove_reader(fd)
            loop.remove_writer(fd)
            self._batcher.flush()

    # ---- status -------------------------------------------------------------------

    def lag(self) -> tuple[int, float]:
        """(bytes, seconds) the stream is behind the server's end of WAL."""
        behind = max(0, self.server_end - self._position) if self._position else 0
        d = self.decoder
        secs = 0.0
        if behind and d is not None and d.commit_time is not None:
            secs = max(0.0, time.time() - d.commit_time)
        return behind, secs

    def _emit(self, state: State, **kw) -> Status:
        lag_bytes, lag_seconds = self.lag() if state is State.LISTENING else (0, 0.0)
        setup = self.setup
        self.status = ChangeStatus(
            state, self.profile, channels=self.channels,
            publication=setup.name if setup else "", slot=self._slot,
            watching=self.plan.describe(), lag_bytes=lag_bytes, lag_seconds=lag_seconds, **kw)
        if self._on_status is not None:
            self._on_status(self.status)
        return self.status

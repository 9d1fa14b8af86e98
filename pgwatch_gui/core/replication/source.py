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
import time
from collections.abc import Callable, Iterator

import psycopg
from psycopg import pq

from pgwatch_gui.core.pg.connection import connect, one_line
from pgwatch_gui.core.pg.errors import RouteError, route_reason
from pgwatch_gui.core.replication import publication as pubs
from pgwatch_gui.core.replication.change_status import ChangeStatus
from pgwatch_gui.core.replication.checks import (
    ReplicationRefused,
    explain,
    gather_facts,
    refusal,
)
from pgwatch_gui.core.replication.follow import FOLLOW_INTERVAL, SchemaFollower
from pgwatch_gui.core.replication.pgoutput import DecodeError, Decoder
from pgwatch_gui.core.replication.reader import StreamReader
from pgwatch_gui.core.replication.slot import create_slot, open_replication, start_streaming
from pgwatch_gui.core.stream.batching import BatchConsumer, Batcher
from pgwatch_gui.core.stream.events import KIND_GAP, Event
from pgwatch_gui.core.stream.listener import Route
from pgwatch_gui.core.stream.source import EventSource
from pgwatch_gui.core.stream.status import Backoff, State, Status


class _Stopped(Exception):
    """stop() was called while a step of starting was still waiting on the server."""


SLOW_SLOT = ("creating the slot waits for transactions already open on the server to end "
             "(see pg_stat_activity)")


class ChangeSource(EventSource):
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
        silence_limit: float = 30.0,
        backoff: Backoff | None = None,
        max_attempts: int | None = None,
        seq: Iterator[int] | None = None,
        route: Route | None = None,
        raw: bool = False,
        follow_interval: float = FOLLOW_INTERVAL,
    ) -> None:
        self.conninfo = conninfo
        self.raw = raw  # batches carry ChangeChunks, not Events (`changes`)
        # A schema's tables created while streaming are added (follow.py) this often.
        self.follow_interval = follow_interval
        self._superuser = False
        self._follower: asyncio.Task | None = None
        # A route (an SSH tunnel) shared with the connection's listener, which owns it:
        # asked for the string before each connect (it reopens a lost tunnel), never closed.
        self.route = route
        self.plan = plan or pubs.WatchPlan()
        self.setup = setup
        self.profile = profile
        self.status_interval = status_interval
        self.silence_limit = silence_limit
        self.backoff = backoff or Backoff(cap=2.0)
        self.max_attempts = max_attempts
        self._on_status = on_status
        self._on_setup = on_setup
        self._on_leftovers = on_leftovers
        self._seq = seq if seq is not None else itertools.count(1)
        self._batches = Batcher(on_batch, max_backlog=max_backlog, interval=batch_interval)
        self.reader: StreamReader | None = None
        self.changes = 0  # over every connection of this source
        self.gaps = 0
        self._slot = ""
        self._created = False
        self._stopping = False
        self._stop: asyncio.Future | None = None
        self._task: asyncio.Task | None = None
        self._streaming = asyncio.Event()
        self.status: Status = ChangeStatus(State.IDLE, profile)

    # ---- public API ---------------------------------------------------------------

    @property
    def channels(self) -> tuple[str, ...]:
        return (self.setup.name,) if self.setup else ()

    async def stop(self) -> None:
        self._stopping = True
        self._streaming.clear()
        if self._stop is not None and not self._stop.done():
            self._stop.set_result(None)
        await self._end_task(10)

    @property
    def left_behind(self) -> bool:
        """True once stopped when the publication it created could not be dropped."""
        return bool(self._created and self.setup)

    async def wait_streaming(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._streaming.wait(), timeout)

    # ---- the life of a stream -----------------------------------------------------

    async def run(self) -> Status:
        """Check, publish, stream until stop(); returns the final status. Runs once."""
        self._stop = asyncio.get_running_loop().create_future()
        if self._stopping:  # stop() came before the task's first step
            return self._emit(State.STOPPED)
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
        await self._batches.drain()
        if self.status.state is not State.FAILED:
            self._emit(State.STOPPED)
        return self.status

    async def _prepare(self) -> None:
        async with await connect(await self._conninfo()) as conn:
            facts = await gather_facts(conn)
            creates = not (self.plan.publication or (self.setup and not self.setup.created_here))
            reason = refusal(facts, creates_publication=creates)
            if reason:
                raise ReplicationRefused(reason)
            if self._on_leftovers is not None:
                found = await pubs.leftovers(conn)
                if found:
                    self._on_leftovers(found)
            self._superuser = facts.superuser
            if self.setup is None:
                self.setup = await pubs.plan_setup(conn, self.plan, superuser=facts.superuser)
            if self._on_setup is not None:
                self._on_setup(self.setup)
            await pubs.create(conn, self.setup)
            self._created = self.setup.created_here

    async def _cleanup(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(BaseException):
                await self._follower
            self._follower = None
        if not (self._created and self.setup):
            return
        try:
            async with await connect(await self._conninfo()) as conn:
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
                conn = await self._unless_stopped(self._open_replication())
            except _Stopped:
                return
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
                    slow = asyncio.get_running_loop().call_later(
                        2.0, lambda: self._emit(State.CONNECTING, reason=SLOW_SLOT))
                    try:
                        start = await self._unless_stopped(create_slot(conn.pgconn, self._slot))
                    finally:
                        slow.cancel()
                    await self._unless_stopped(
                        start_streaming(conn.pgconn, self._slot, self.setup.name))
                    self.reader = StreamReader(
                        Decoder(self._key_hint, self._generated_hint), self._batches,
                        self._seq, profile=self.profile, channel=self.setup.name, start=start,
                        status_interval=self.status_interval,
                        silence_limit=self.silence_limit,
                        on_tick=lambda: self._emit(State.LISTENING), raw=self.raw)
                    streamed_once, attempt = True, 0
                    if lost_at is not None:
                        self._gap(lost_at, lost_reason)
                        lost_at = None
                    self._emit(State.LISTENING)
                    self._streaming.set()
                    if self._follower is None and self.plan.schema and self._created:
                        self._follower = asyncio.ensure_future(self._follow(self.plan.schema))
                    assert self._stop is not None
                    try:
                        await self.reader.run(conn.pgconn, self._stop)
                    finally:
                        self.changes += self.reader.changes
                finally:
                    alive = conn.pgconn.status == pq.ConnStatus.OK
                    await conn.close()
            except psycopg.Error as exc:
                self._streaming.clear()
                if self._stopping:
                    return
                if alive and (not streamed_once
                              or not isinstance(exc, psycopg.OperationalError)):
                    # Refused (at the start, or by the decoder: a publication dropped
                    # under it...), not lost: a new slot would meet the same refusal.
                    self._emit(State.FAILED, reason=explain(exc))
                    return
                reason = route_reason(self.route, one_line(exc))
                if lost_at is None:
                    lost_at, lost_reason = time.time(), reason
                attempt += 1
                if self._out_of_attempts(attempt):
                    self._emit(State.FAILED, reason=reason)
                    return
                await self._backoff(attempt, reason)
            except _Stopped:
                return
            except DecodeError as exc:
                self._emit(State.FAILED, reason=f"cannot decode the stream: {exc}")
                return
            finally:
                self._streaming.clear()

    async def _conninfo(self) -> str:
        if self.route is not None:
            try:
                self.conninfo = await self.route.conninfo()
            except RouteError as exc:  # the tunnel cannot open: like a failed connect
                raise psycopg.OperationalError(str(exc)) from None
        return self.conninfo

    async def _open_replication(self) -> psycopg.AsyncConnection:
        return await open_replication(await self._conninfo())

    async def _unless_stopped(self, aw):
        """Await `aw`, unless stop() comes first: then cancel it and raise _Stopped."""
        assert self._stop is not None
        task = asyncio.ensure_future(aw)
        await asyncio.wait({task, self._stop}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise _Stopped

    def _key_hint(self, schema: str, table: str) -> tuple[str, ...] | None:
        return self.setup.primary_keys.get((schema, table)) if self.setup else None

    def _generated_hint(self, schema: str, table: str) -> tuple[str, ...]:
        return self.setup.generated.get((schema, table), ()) if self.setup else ()

    async def _follow(self, schema: str) -> None:
        """While streaming a schema it created a publication for: add the schema's new
        tables to it, and say so in a marker row (follow.py)."""
        assert self.setup is not None
        follower = SchemaFollower(schema, self.setup, superuser=self._superuser)
        conn = None
        try:
            while True:
                await asyncio.sleep(self.follow_interval)
                try:
                    if conn is None or conn.closed:
                        conn = await connect(await self._conninfo())
                    self.setup, notes = await follower.check(conn, self.setup)
                except psycopg.Error:  # looked again next time (a lost link is the reader's)
                    if conn is not None:
                        await conn.close()
                    conn = None
                    continue
                except Exception as exc:  # never silent: said in the stream, then no more
                    self._note(f"new tables of schema {schema} are no longer followed: "
                               f"{exc.__class__.__name__}: {one_line(exc)}")
                    return
                for note in notes:
                    self._note(note)
        finally:
            if conn is not None:
                await conn.close()

    def _note(self, text: str) -> None:
        """A marker row (kind gap) that says something about the stream."""
        self._batches.add(Event(next(self._seq), time.time(), self.profile, "", 0, text,
                                kind=KIND_GAP))

    def _gap(self, lost_at: float, reason: str) -> None:
        now = time.time()
        lost = time.strftime("%H:%M:%S", time.localtime(lost_at))
        text = (f"connection lost at {lost} ({reason}); streaming again after "
                f"{now - lost_at:.1f} s with a new slot. A temporary slot cannot resume: "
                "row changes committed meanwhile are not in this stream.")
        self._batches.add(Event(next(self._seq), now, self.profile, "", 0, text, kind=KIND_GAP))
        self.gaps += 1

    async def _backoff(self, attempt: int, reason: str) -> None:
        delay = self.backoff.delay(attempt)
        self._emit(State.RECONNECTING, attempt=attempt, delay=delay, reason=reason)
        assert self._stop is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._stop), delay)

    # ---- reading ------------------------------------------------------------------

    # ---- status -------------------------------------------------------------------

    def _emit(self, state: State, **kw) -> Status:
        reader = self.reader
        lag_bytes, lag_seconds = reader.lag() if reader and state is State.LISTENING else (0, 0.0)
        setup = self.setup
        self.status = ChangeStatus(
            state, self.profile, channels=self.channels,
            publication=setup.name if setup else "", slot=self._slot,
            watching=self.plan.describe(), lag_bytes=lag_bytes, lag_seconds=lag_seconds,
            latency=reader.latency if reader else 0.0, **kw)
        if self._on_status is not None:
            self._on_status(self.status)
        return self.status

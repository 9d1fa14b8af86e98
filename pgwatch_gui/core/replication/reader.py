"""Reading one replication connection's COPY stream, never stopping, on the event loop.

libpq's socket is watched with `add_reader`; each callback drains every complete
message libpq holds and keeps reading while data keeps coming, for up to
READ_BUDGET, then lets the loop run. XLogData goes to the pgoutput decoder and the
row changes of each read to the batcher as Events (or, raw, as one ChangeChunk: the
`changes` command writes its lines from them); keepalives are answered when the server asks,
and a standby status update with the flushed position goes out every
`status_interval` seconds. The flushed position is the end of the last commit
read, or the server's end of WAL when a keepalive arrives between transactions.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import struct
import time
from collections import deque
from collections.abc import Callable, Iterator

import psycopg
from psycopg import pq

from pgwatch_gui.core.replication.pgoutput import Change, DecodeError, Decoder
from pgwatch_gui.core.replication.protocol import (
    XLOGDATA_HEADER,
    parse_keepalive,
    standby_status,
)
from pgwatch_gui.core.stream.batching import Batcher
from pgwatch_gui.core.stream.chunks import ChangeChunk
from pgwatch_gui.core.stream.events import new_change_event

READ_BUDGET = 0.004  # as the Listener: longest drain of the socket per loop turn
_XLOG_POSITIONS = struct.Struct("!QQ").unpack_from  # XLogData's start and server WAL end
_skip = deque(maxlen=0).extend


class StreamReader:
    """The read side of one streaming connection, and how far it has got."""

    def __init__(self, decoder: Decoder, batcher: Batcher, seq: Iterator[int], *,
                 profile: str, channel: str, start: int, status_interval: float,
                 silence_limit: float = 30.0, on_tick: Callable[[], None],
                 raw: bool = False) -> None:
        self.decoder = decoder
        self.raw = raw  # hand over ChangeChunks (`changes`) rather than Events
        self._batcher = batcher
        self._seq = seq
        self.profile = profile
        self.channel = channel
        self.status_interval = status_interval
        self.silence_limit = silence_limit
        self._on_tick = on_tick
        self.flushed = start  # the LSN the server has been told is processed
        self.server_end = start  # the server's end of WAL, as last heard
        self._position = start  # start LSN of the last message read
        self.latency = 0.0  # seconds from the last commit to its arrival here
        self.changes = 0

    async def run(self, pgconn: pq.abc.PGconn, stop: asyncio.Future) -> None:
        """Read until `stop` is done (returns) or the connection fails (raises)."""
        loop = asyncio.get_running_loop()
        failed: asyncio.Future = loop.create_future()
        fd = pgconn.socket
        decoder = self.decoder
        feed = decoder.feed
        generated = decoder.inserts.get  # the generated inserts, called here: a call less
        general = decoder.insert_general  # for an Insert the generated one does not take
        get_copy_data = pgconn.get_copy_data
        clock = time.perf_counter
        now = time.time
        last_status = last_heard = time.monotonic()

        def fail(exc: BaseException) -> None:
            loop.remove_reader(fd)
            if not failed.done():
                failed.set_exception(exc)

        def send_status(reply: bool = False) -> None:
            nonlocal last_status
            last_status = time.monotonic()
            pgconn.put_copy_data(standby_status(self.flushed, self.flushed, self.flushed,
                                                reply=reply))
            if pgconn.flush() == 1:  # rare: the socket is full; finish when it drains
                loop.add_writer(fd, lambda: pgconn.flush() == 1 or loop.remove_writer(fd))

        def on_readable() -> None:
            nonlocal last_heard
            try:
                until = clock() + READ_BUDGET
                while True:
                    pgconn.consume_input()
                    got = 0
                    changes: list = []
                    add, extend = changes.append, changes.extend
                    last = None  # the last XLogData: its position is where the read got
                    while True:
                        n, data = get_copy_data(1)
                        if n <= 0:
                            break
                        got += 1
                        kind = data[0]
                        if kind == 119:  # 'w'
                            last = data
                            msg = data[XLOGDATA_HEADER:].tobytes()
                            if msg[0] == 73:  # Insert, the most frequent: no dispatch
                                fast = generated(msg[1:5])
                                change = None if fast is None else fast(msg, decoder.txn_tail)
                                add(general(msg) if change is None else change)
                                continue
                            found = feed(msg)
                            if found:
                                extend(found)
                            elif (not decoder.in_transaction
                                  and decoder.last_commit_end > self.flushed):
                                self.flushed = decoder.last_commit_end
                                self.latency = now() - (decoder.last_commit_time or 0)
                        elif kind == 107:  # 'k'
                            last = self._positions(last)
                            end, _sent, reply = parse_keepalive(data)
                            self.server_end = max(self.server_end, end)
                            if not decoder.in_transaction:  # everything up to `end` is read
                                self._position = self.flushed = max(self.flushed, end)
                            if reply:
                                send_status()
                    self._positions(last)
                    if changes:
                        self._hand_over(changes, now())
                    if n == -1:  # the stream ended: with the server's error, if it sent one
                        res = pgconn.get_result()
                        if res is not None and res.status == pq.ExecStatus.FATAL_ERROR:
                            fail(psycopg.errors.error_from_result(res, encoding="utf-8"))
                        else:
                            fail(psycopg.OperationalError("the server ended the stream"))
                        return
                    if n < -1:
                        fail(psycopg.OperationalError(pgconn.get_error_message()))
                        return
                    if got:
                        last_heard = time.monotonic()
                    if not got or clock() > until:
                        break
            except DecodeError as exc:
                fail(exc)
            except Exception as exc:  # consume_input fails when the server is gone
                fail(exc if isinstance(exc, psycopg.OperationalError)
                     else psycopg.OperationalError(str(exc)))

        def tick() -> None:
            # The heartbeat: every status update asks the server to answer, so a link
            # that died without closing (NAT, firewall) shows as silence.
            nonlocal ticker
            t = time.monotonic()
            if t - last_heard > self.silence_limit:
                fail(psycopg.OperationalError(
                    f"no word from the server for {t - last_heard:.0f} s"))
                return
            if t - last_status >= self.status_interval:
                with contextlib.suppress(Exception):
                    send_status(reply=True)
            self._on_tick()
            ticker = loop.call_later(every, tick)

        every = min(1.0, self.status_interval)
        on_readable()
        ticker = loop.call_later(every, tick)
        if not failed.done():
            loop.add_reader(fd, on_readable)
        try:
            await asyncio.wait({failed, stop}, return_when=asyncio.FIRST_COMPLETED)
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


    def _positions(self, data) -> None:
        """Where the stream got: the start of the last XLogData read, the server's end."""
        if data is not None:
            position, end = _XLOG_POSITIONS(data, 1)
            self._position = position
            if end > self.server_end:
                self.server_end = end

    def _hand_over(self, changes: list[Change], t: float) -> None:
        """The row changes of one read to the batcher: as Events, or (raw) as one
        ChangeChunk, all stamped with the time of the read."""
        backlog = self._batcher.backlog
        before = len(backlog)
        n = len(changes)
        self.changes += n
        seq = self._seq
        first = next(seq)
        if n > 1:
            _skip(itertools.islice(seq, n - 1))  # first .. first + n - 1
        if self.raw:
            backlog.append(ChangeChunk(t, first, changes, self.profile, self.channel))
            self._batcher.added_chunk(before, n)
            return
        profile, channel = self.profile, self.channel
        backlog.extend([new_change_event(s, t, profile, channel, c[0].decode("utf-8"), len(c[0]))
                        for s, c in zip(itertools.count(first), changes)])
        self._batcher.added(before, n)

    def lag(self) -> tuple[int, float]:
        """(bytes, seconds) the stream is behind the server's end of WAL."""
        behind = max(0, self.server_end - self._position) if self._position else 0
        d = self.decoder
        secs = 0.0
        if behind and d is not None and d.commit_time is not None:
            secs = max(0.0, time.time() - d.commit_time)
        return behind, secs

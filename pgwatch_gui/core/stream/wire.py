"""The listening connection's wire, beyond the read loop: notifications psycopg reads
during a command, the server's last word before it closes, and the heartbeat.

- psycopg decodes notifications strictly with the connection's encoding; a SQL_ASCII
  database sends any bytes, and UnicodeDecodeError came out of LISTEN. `take_notifies`
  replaces its handler: bytes decoded with replacement, the size as sent.
- A FATAL message (pg_terminate_backend, a shutdown) arrives as a notice on an idle
  connection just before the socket closes; `LastWord` keeps it so a gap row can say
  "the server ended the session" rather than libpq's "server closed the connection
  unexpectedly".
- A connection a NAT or firewall drops goes silent without closing. `heartbeat` sends an
  empty query and waits for its answer for at most `timeout` seconds, on the libpq
  connection itself: psycopg's execute, cancelled, would first spend up to 10 s trying
  to cancel the query on a server it cannot reach.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import psycopg
from psycopg import pq

from pgwatch_gui.core.stream.events import Event, new_event
from pgwatch_gui.core.stream.status import Backoff

# After a loss: 0.25, 0.5, 1, 2, 2, 2 ... s. What is committed while the listener is away
# is lost to LISTEN, so it comes back within about 2 s of the server (and tries at most
# about 30 times a minute while the server stays away).
RECONNECT_BACKOFF = Backoff(initial=0.25, factor=2.0, cap=2.0)

HEARTBEAT_INTERVAL = 10.0  # seconds without data before an empty query is sent
HEARTBEAT_TIMEOUT = 5.0  # seconds the server has to answer it


class Dead(psycopg.OperationalError):
    """The server did not answer the heartbeat in time."""


def text_encoding(conn: psycopg.AsyncConnection) -> str:
    """The codec for the server's bytes; SQL_ASCII promises none, so read UTF-8."""
    enc = conn.info.encoding
    return "utf-8" if enc == "ascii" else enc


def notify_maker(conn: psycopg.AsyncConnection, seq, profile: str, own_pid: int | None
                 ) -> Callable[[pq.PGnotify], Event]:
    enc = text_encoding(conn)

    def make(n) -> Event:
        extra = n.extra
        return new_event(next(seq), time.time(), profile, n.relname.decode(enc, "replace"),
                         n.be_pid, extra.decode(enc, "replace"), n.be_pid == own_pid,
                         len(extra))
    return make


def take_notifies(conn: psycopg.AsyncConnection, add: Callable[[Event], None], seq,
                  profile: str, own_pid: int | None) -> Callable[[pq.PGnotify], None]:
    """Route the notifications psycopg reads (during LISTEN, NOTIFY...) to `add`."""
    make = notify_maker(conn, seq, profile, own_pid)

    def on_notify(n) -> None:
        add(make(n))

    conn.pgconn.notify_handler = on_notify
    return on_notify


def attach(conn: psycopg.AsyncConnection, add: Callable[[Event], None], seq, profile: str,
           last_word: LastWord) -> Callable[[pq.PGnotify], None]:
    """Right after connecting, before any LISTEN (a notification can come with its
    reply): our notify handler, and `last_word` listening for the server's FATAL."""
    last_word.message = ""
    conn.add_notice_handler(last_word)
    return take_notifies(conn, add, seq, profile, conn.info.backend_pid)


class LastWord:
    """Remembers a FATAL/PANIC notice: why the server is about to close the session."""

    def __init__(self) -> None:
        self.message = ""

    def __call__(self, diag: psycopg.errors.Diagnostic) -> None:
        try:
            if diag.severity_nonlocalized in ("FATAL", "PANIC"):
                self.message = diag.message_primary or ""
        except Exception:  # a notice must never take the listener down
            pass

    def reason(self, exc: BaseException, fallback: str) -> str:
        said, self.message = self.message, ""
        if said:
            return f"the server ended the session: {said}"
        if isinstance(exc, Dead):
            return str(exc)
        return fallback


async def first_or_quiet(aws: set, last_rx: Callable[[], float], interval: float) -> set:
    """Wait for the first of `aws` to finish; return the finished ones, or an empty set
    once nothing has been read (`last_rx()`, a time.monotonic()) for `interval` s."""
    while True:
        quiet = time.monotonic() - last_rx()
        done, _ = await asyncio.wait(aws, return_when=asyncio.FIRST_COMPLETED,
                                     timeout=max(0.0, interval - quiet))
        if done or time.monotonic() - last_rx() >= interval:
            return done


async def heartbeat(conn: psycopg.AsyncConnection, timeout: float,
                    on_notify: Callable[[pq.PGnotify], None]) -> None:
    """An empty query that must be answered within `timeout` s; raises Dead if not.

    Call only while nothing else uses the connection (the reader is stopped)."""
    pgconn = conn.pgconn
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    fd = pgconn.socket

    async def ready(writer: bool = False) -> None:
        fut = loop.create_future()
        add, remove = (loop.add_writer, loop.remove_writer) if writer else (
            loop.add_reader, loop.remove_reader)
        add(fd, lambda: fut.done() or fut.set_result(None))
        try:
            await asyncio.wait_for(fut, max(0.0, deadline - loop.time()))
        except asyncio.TimeoutError:
            raise Dead(f"no answer from the server within {timeout:g} s (heartbeat): "
                       "the connection is presumed dead") from None
        finally:
            remove(fd)

    try:
        pgconn.send_query(b"")
        while pgconn.flush():
            await ready(writer=True)
        while True:
            while pgconn.is_busy():
                await ready()
                pgconn.consume_input()
                while (n := pgconn.notifies()) is not None:
                    on_notify(n)
            res = pgconn.get_result()
            if res is None:
                break
            if res.status == pq.ExecStatus.FATAL_ERROR:
                msg = (res.error_message or b"").decode("utf-8", "replace").strip()
                raise psycopg.OperationalError(msg or "the heartbeat query failed")
        while (n := pgconn.notifies()) is not None:
            on_notify(n)
    except psycopg.Error:
        raise
    except Exception as exc:  # libpq failures surface as e.g. OperationalError already
        raise psycopg.OperationalError(str(exc)) from None

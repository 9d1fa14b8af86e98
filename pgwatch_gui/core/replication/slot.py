"""The replication connection: open it, create a temporary slot, start streaming.

psycopg has no replication API, so the walsender's commands go through `psycopg.pq`
directly, in the simple query protocol the walsender needs, without blocking the
event loop: send, then wait for the socket with `add_reader` until the result is in.
A TEMPORARY slot belongs to its connection: when the connection ends for any
reason (a clean stop, a crash, kill -9, a lost network) the server drops it, and
nothing is left that keeps WAL on the server.
"""

from __future__ import annotations

import asyncio

import psycopg
from psycopg import conninfo as _ci
from psycopg import pq, sql

from pgwatch_gui.core.pg.connection import connect
from pgwatch_gui.core.replication.protocol import lsn_text, parse_lsn

PROTO_VERSION = "1"


# TCP keepalives, unless the connection string sets its own: with the reader's heartbeat
# (a status update asking for an answer) a link that died without closing shows.
KEEPALIVES = {"keepalives": "1", "keepalives_idle": "15", "keepalives_interval": "5",
              "keepalives_count": "3"}


def replication_conninfo(conninfo: str) -> str:
    """The same target as a logical replication connection, text in UTF-8."""
    given = _ci.conninfo_to_dict(conninfo)
    extra = {k: v for k, v in KEEPALIVES.items() if k not in given}
    return _ci.make_conninfo(conninfo, replication="database", client_encoding="UTF8", **extra)


async def open_replication(conninfo: str) -> psycopg.AsyncConnection:
    conn = await connect(replication_conninfo(conninfo))
    conn.pgconn.nonblocking = 1
    return conn


async def _wait(fd: int, writable: bool = False) -> None:
    loop = asyncio.get_running_loop()
    fut = loop.create_future()

    def ready() -> None:
        if not fut.done():
            fut.set_result(None)

    add, remove = (loop.add_writer, loop.remove_writer) if writable else (
        loop.add_reader, loop.remove_reader)
    add(fd, ready)
    try:
        await fut
    finally:
        remove(fd)


async def flush(pgconn: pq.abc.PGconn) -> None:
    """Send what libpq holds; waits for the socket rather than blocking the loop."""
    while pgconn.flush() == 1:
        await _wait(pgconn.socket, writable=True)


async def simple_query(pgconn: pq.abc.PGconn, query: bytes) -> pq.abc.PGresult:
    """Run one command in the simple query protocol; the last result (COPY_BOTH stops there).

    Raises psycopg.OperationalError when the connection fails, and psycopg.Error
    (with the server's SQLSTATE class) for a command the server refuses.
    """
    pgconn.send_query(query)
    await flush(pgconn)
    last = None
    while True:
        pgconn.consume_input()
        while not pgconn.is_busy():
            res = pgconn.get_result()
            if res is None:
                return _checked(pgconn, last)
            last = res
            if res.status == pq.ExecStatus.COPY_BOTH:
                return res
        await _wait(pgconn.socket)


def _checked(pgconn: pq.abc.PGconn, res: pq.abc.PGresult | None) -> pq.abc.PGresult:
    if res is None:
        raise psycopg.OperationalError("the server sent no result")
    if res.status == pq.ExecStatus.FATAL_ERROR:
        raise psycopg.errors.error_from_result(res, encoding="utf-8")
    if pgconn.status != pq.ConnStatus.OK:
        raise psycopg.OperationalError(pgconn.get_error_message())
    return res


def create_slot_command(slot: str) -> bytes:
    # The pre-15 spelling of the options, which every server from 10 on still accepts.
    return sql.SQL("CREATE_REPLICATION_SLOT {} TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT"
                   ).format(sql.Identifier(slot)).as_bytes(None)


def start_command(slot: str, publication: str, start: int = 0) -> bytes:
    return sql.SQL("START_REPLICATION SLOT {} LOGICAL {} (proto_version {}, publication_names {})"
                   ).format(sql.Identifier(slot), sql.SQL(lsn_text(start)),
                            sql.Literal(PROTO_VERSION),
                            sql.Literal(sql.Identifier(publication).as_string(None))
                            ).as_bytes(None)


async def create_slot(pgconn: pq.abc.PGconn, slot: str) -> int:
    """Create the temporary slot; returns its consistent point (the LSN streaming starts at)."""
    res = await simple_query(pgconn, create_slot_command(slot))
    value = res.get_value(0, 1)
    return parse_lsn(value.decode()) if value else 0


async def start_streaming(pgconn: pq.abc.PGconn, slot: str, publication: str) -> None:
    res = await simple_query(pgconn, start_command(slot, publication))
    if res.status != pq.ExecStatus.COPY_BOTH:
        raise psycopg.OperationalError("START_REPLICATION did not start streaming")

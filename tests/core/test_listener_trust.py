"""The listener under hostile input and awkward timing (issue 10, defects 3, 8, 11)."""

from __future__ import annotations

import asyncio
import uuid

import psycopg
from psycopg import sql

from pgwatch_gui.core.pg.connection import make_conninfo
from pgwatch_gui.core.stream.events import KIND_GAP
from pgwatch_gui.core.stream.listener import Listener
from pgwatch_gui.core.stream.status import Backoff
from tests.conftest import dsn_for
from tests.core.test_listener import Collector, notify, started


def _sql_ascii_db(pg_server: str) -> tuple[str, str]:
    name = f"pgw_ascii_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server, autocommit=True) as c:
        c.execute(sql.SQL("CREATE DATABASE {} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' "
                          "TEMPLATE template0").format(sql.Identifier(name)))
    return name, dsn_for(pg_server, dbname=name)


def _drop(pg_server: str, name: str) -> None:
    with psycopg.connect(pg_server, autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_sql_ascii_bytes_that_are_not_utf8_decode_with_replacement(pg_server):
    """Latin-1 bytes from a SQL_ASCII database, both on the read path and while psycopg
    runs a command (the LISTEN that adds a channel): shown with U+FFFD, size as sent."""
    name, dsn = _sql_ascii_db(pg_server)
    send = ("SELECT pg_notify(%s, convert_from('\\x636166e9'::bytea, 'SQL_ASCII'))")

    def bad(channel: str) -> None:
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(send, (channel,))

    async def main():
        col = Collector()
        lst = await started(Listener(make_conninfo(dsn), ["a"], on_batch=col.on_batch))
        await asyncio.to_thread(bad, "a")  # the read path
        await col.wait_for(1)
        # A notification queued on the server before our LISTEN command answers: psycopg
        # reads it inside execute() and hands it to the notify handler.
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as other:
            async with other.transaction():
                await other.execute(send, ("a",))
                await other.execute("SELECT pg_notify('a', 'sentinel')")
            await lst.listen("b")
        await col.wait_for(3)
        await lst.stop()
        return col

    try:
        col = asyncio.run(main())
    finally:
        _drop(pg_server, name)
    evs = col.notifies()
    assert [e.payload for e in evs] == ["caf\ufffd", "caf\ufffd", "sentinel"]
    assert [e.size for e in evs] == [4, 4, 8]  # the bytes the server sent


def test_a_command_queued_while_listens_are_replayed_completes(pg_dsn):
    """`_session` cleared the wake-up that `_run_command` set during the LISTEN replay
    after a reconnect, so the command hung until some other command arrived."""
    channels = [f"ch{i}" for i in range(300)]

    async def main():
        col = Collector()
        lst = await started(Listener(make_conninfo(pg_dsn), channels, on_batch=col.on_batch,
                                     backoff=Backoff(initial=0.05, cap=0.05)))
        old_pid = lst.backend_pid
        with psycopg.connect(pg_dsn, autocommit=True) as c:
            c.execute("SELECT pg_terminate_backend(%s)", (old_pid,))
        # Wait (a loop turn at a time) until the new connection replays its LISTENs.
        for _ in range(1_000_000):
            if lst._conn is not None and lst.backend_pid != old_pid \
                    and not lst._listening.is_set():
                break
            await asyncio.sleep(0)
        else:
            raise AssertionError("never caught the replay")
        await asyncio.wait_for(lst.listen("late"), 5)
        assert "late" in lst.channels
        await asyncio.to_thread(notify, pg_dsn, "late", "x")
        await col.wait_for(1)
        await lst.stop()
        return col

    col = asyncio.run(main())
    gaps = [e for e in col.events if e.kind == KIND_GAP]
    assert len(gaps) == 1
    assert "the server ended the session" in gaps[0].payload


def test_gap_reason_after_pg_terminate_backend_says_the_server_ended_the_session(pg_dsn):
    async def main():
        col = Collector()
        lst = await started(Listener(make_conninfo(pg_dsn), ["a"], on_batch=col.on_batch,
                                     on_status=col.on_status,
                                     backoff=Backoff(initial=0.05, cap=0.05)))
        with psycopg.connect(pg_dsn, autocommit=True) as c:
            c.execute("SELECT pg_terminate_backend(%s)", (lst.backend_pid,))
        await asyncio.to_thread(notify, pg_dsn, "a", "x")  # may be lost; the gap is not
        while not any(e.kind == KIND_GAP for e in col.events):
            col.arrived.clear()
            await asyncio.wait_for(col.arrived.wait(), 10)
        await lst.stop()
        return col

    col = asyncio.run(main())
    gap = next(e for e in col.events if e.kind == KIND_GAP)
    assert "the server ended the session" in gap.payload, gap.payload

"""Helpers for trigger tests: run core's async functions, collect notifications."""

from __future__ import annotations

import asyncio
import json

import psycopg

from pgwatch_gui.core.stream.payloads import SHAPE_ENVELOPE, decode_payload
from pgwatch_gui.core.triggers import manage as triggers
from pgwatch_gui.core.triggers.spec import TriggerSpec


def call(dsn: str, fn, *args, **kwargs):
    """Run `await fn(conn, *args)` on a fresh autocommit AsyncConnection."""

    async def go():
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            return await fn(conn, *args, **kwargs)

    # A private loop: asyncio.run() would unset the current loop, which UI tests (qasync) own.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(go())
    finally:
        loop.close()


def install(dsn: str, *specs: TriggerSpec) -> triggers.Plan:
    async def go(conn):
        plan = await triggers.plan_install(conn, list(specs))
        await triggers.execute(conn, plan)
        return plan

    return call(dsn, go)


def remove(dsn: str, *tables: tuple[str | None, str]) -> triggers.Plan:
    async def go(conn):
        plan = await triggers.plan_remove(conn, list(tables))
        await triggers.execute(conn, plan)
        return plan

    return call(dsn, go)


def remove_all(dsn: str) -> triggers.Plan:
    async def go(conn):
        plan = await triggers.plan_remove_all(conn)
        await triggers.execute(conn, plan)
        return plan

    return call(dsn, go)


def listen(db: psycopg.Connection, *channels: str) -> None:
    for ch in channels:
        db.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(ch)))


def received(db: psycopg.Connection, count: int, timeout: float = 3.0) -> list[tuple[str, dict]]:
    """The next `count` notifications as (channel, payload dict); each must be an envelope."""
    out = []
    for n in db.notifies(timeout=timeout, stop_after=count):
        decoded = decode_payload(n.payload)
        assert decoded.shape == SHAPE_ENVELOPE, n.payload
        assert len(n.payload.encode()) < 8000
        out.append((n.channel, json.loads(n.payload)))
    assert len(out) == count, f"expected {count} notifications, got {out}"
    return out


def nothing_more(db: psycopg.Connection, timeout: float = 0.3) -> None:
    extra = list(db.notifies(timeout=timeout, stop_after=1))
    assert not extra, [n.payload for n in extra]


NOTHING_LEFT = {"triggers": 0, "functions": 0, "schema": 0}  # pgwatch_leftovers() when clean


def pgwatch_leftovers(db: psycopg.Connection) -> dict[str, int]:
    """Everything this tool could have left behind: triggers, functions, the schema."""
    row = db.execute("""
        SELECT (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgwatch%%') AS triggers,
               (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname = 'pgwatch' OR p.proname LIKE 'pgwatch%%') AS functions,
               (SELECT count(*) FROM pg_namespace WHERE nspname = 'pgwatch') AS schema
    """).fetchone()
    return {"triggers": row[0], "functions": row[1], "schema": row[2]}

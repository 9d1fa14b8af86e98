"""Facts about the server that the status bar shows, read on a connection of their own.

`pg_notification_queue_usage()` is the share (0..1) of the server's notification queue
in use. PostgreSQL keeps each notification until the slowest listener has read it; when
the queue is full, every transaction that calls pg_notify fails at commit. The listening
connection never runs this query: its job is to read.
"""

from __future__ import annotations

import psycopg

QUEUE_USAGE_SQL = "SELECT pg_notification_queue_usage()"
QUEUE_WARN = 0.5  # warn above half full


async def notification_queue_usage(conn: psycopg.AsyncConnection) -> float:
    cur = await conn.execute(QUEUE_USAGE_SQL)
    row = await cur.fetchone()
    return float(row[0]) if row and row[0] is not None else 0.0


def notification_queue_usage_sync(conn: psycopg.Connection) -> float:
    row = conn.execute(QUEUE_USAGE_SQL).fetchone()
    return float(row[0]) if row and row[0] is not None else 0.0


def describe_queue_usage(usage: float) -> str:
    """0.000123 -> '0.01%'; 0.5 -> '50.0%'."""
    pct = usage * 100
    if pct == 0:
        return "0%"
    if pct < 0.1:
        return f"{pct:.2f}%"
    return f"{pct:.1f}%"

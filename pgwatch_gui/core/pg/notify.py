"""Channel-name and payload rules, and sending one notification.

PostgreSQL refuses a channel name of 64 bytes or more and a payload of 8,000 bytes
or more (and the refusal aborts the sender's transaction), so both are checked here
before anything is sent.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

MAX_PAYLOAD_BYTES = 7999  # pg_notify raises "payload string too long" at 8000
MAX_CHANNEL_BYTES = 63  # NAMEDATALEN - 1


class NotifyError(ValueError):
    """A channel name or payload that PostgreSQL would refuse."""


def payload_size(payload: str) -> int:
    return len(payload.encode("utf-8", "surrogatepass"))


def check_channel(channel: str) -> str:
    if not channel:
        raise NotifyError("channel name is empty")
    if "\x00" in channel:
        raise NotifyError("channel name contains a NUL character")
    size = len(channel.encode("utf-8", "surrogatepass"))
    if size > MAX_CHANNEL_BYTES:
        raise NotifyError(
            f"channel name is {size} bytes; PostgreSQL allows at most {MAX_CHANNEL_BYTES}"
        )
    return channel


def check_payload(payload: str) -> str:
    if "\x00" in payload:
        raise NotifyError("payload contains a NUL character, which PostgreSQL cannot send")
    size = payload_size(payload)
    if size > MAX_PAYLOAD_BYTES:
        raise NotifyError(
            f"payload is {size:,} bytes; PostgreSQL refuses payloads of 8,000 bytes or more"
        )
    return payload


NOTIFY_QUERY = "SELECT pg_notify(%s, %s)"


async def send_notify(conn: psycopg.AsyncConnection, channel: str, payload: str = "") -> None:
    check_channel(channel)
    check_payload(payload)
    await conn.execute(NOTIFY_QUERY, (channel, payload))


def send_notify_sync(conn: psycopg.Connection, channel: str, payload: str = "") -> None:
    check_channel(channel)
    check_payload(payload)
    conn.execute(NOTIFY_QUERY, (channel, payload))


def quote_listen(verb: str, channel: str) -> sql.Composed:
    """LISTEN/UNLISTEN with the channel quoted: `Foo` stays `Foo`, `Order Events` works."""
    return sql.SQL(verb + " {}").format(sql.Identifier(channel))


# ---- the server's notification queue ---------------------------------------------------

QUEUE_WARN_AT = 0.5  # warn when pg_notification_queue_usage() reaches this fraction
QUEUE_CHECK_INTERVAL = 5.0  # seconds between two looks


def queue_usage_sync(conn: psycopg.Connection) -> float:
    """pg_notification_queue_usage(): how full the server's queue is, 0.0 .. 1.0.

    It fills when some listening session does not read (a stalled client, or one in a
    long transaction); once full, every pg_notify() on the server fails."""
    row = conn.execute("SELECT pg_notification_queue_usage()").fetchone()
    return float(row[0]) if row and row[0] is not None else 0.0


class QueueAlarm:
    """Says when the queue crosses `warn_at` (once), and when it is back under half of it."""

    def __init__(self, warn_at: float = QUEUE_WARN_AT) -> None:
        self.warn_at = warn_at
        self.raised = False

    def check(self, usage: float) -> str | None:
        if not self.raised and usage >= self.warn_at:
            self.raised = True
            return (f"the server's notification queue is {usage:.4%} full (warning at "
                    f"{self.warn_at:.4%}): a listening session is not reading; once it is "
                    "full, every pg_notify() on the server fails")
        if self.raised and usage < self.warn_at / 2:
            self.raised = False
            return f"the server's notification queue is down to {usage:.4%} full"
        return None

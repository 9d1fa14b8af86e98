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

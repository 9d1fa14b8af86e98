"""The streaming replication protocol's framing, on bytes: XLogData, keepalives, replies.

Inside COPY_BOTH the server sends `w` (XLogData: a pgoutput message with its WAL
position) and `k` (primary keepalive); the client answers with `r` (standby status
update) carrying the position it has written, flushed and applied. Times are
microseconds since 2000-01-01 UTC. Positions (LSNs) are 64-bit numbers written
`16/B374D848` by the server.
"""

from __future__ import annotations

import struct
import time

PG_EPOCH = 946_684_800  # 2000-01-01 00:00:00 UTC in Unix seconds

XLOGDATA = struct.Struct("!QQQ")  # start, end of WAL on the server, send time
XLOGDATA_HEADER = 1 + XLOGDATA.size
KEEPALIVE = struct.Struct("!QQB")  # end of WAL on the server, send time, reply requested
_STATUS = struct.Struct("!cQQQqB")


def lsn_text(lsn: int) -> str:
    """123456789 -> '0/75BCD15', as PostgreSQL writes a pg_lsn."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_lsn(text: str) -> int:
    """'16/B374D848' -> the number; ValueError for anything else."""
    hi, sep, lo = text.strip().partition("/")
    if not sep:
        raise ValueError(f"not an LSN: {text!r}")
    return (int(hi, 16) << 32) | int(lo, 16)


def pg_time(unix: float) -> int:
    """Unix seconds -> the protocol's microseconds since 2000-01-01."""
    return int((unix - PG_EPOCH) * 1_000_000)


def unix_time(pg_us: int) -> float:
    return pg_us / 1_000_000 + PG_EPOCH


def standby_status(written: int, flushed: int, applied: int, *, now: float | None = None,
                   reply: bool = False) -> bytes:
    """A standby status update ('r') telling the server how far the client has got."""
    t = pg_time(time.time() if now is None else now)
    return _STATUS.pack(b"r", written, flushed, applied, t, 1 if reply else 0)


def parse_keepalive(msg: bytes) -> tuple[int, float, bool]:
    """A 'k' message -> (server WAL end, send time as Unix seconds, reply requested)."""
    wal_end, sent, reply = KEEPALIVE.unpack_from(msg, 1)
    return wal_end, unix_time(sent), bool(reply)


def parse_xlogdata(msg: bytes) -> tuple[int, int, memoryview]:
    """A 'w' message -> (start LSN, server WAL end, the pgoutput message)."""
    start, wal_end, _sent = XLOGDATA.unpack_from(msg, 1)
    return start, wal_end, memoryview(msg)[XLOGDATA_HEADER:]

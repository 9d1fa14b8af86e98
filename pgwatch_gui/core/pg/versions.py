"""Versions that matter in a bug report: this app, Python, psycopg, libpq, and a server's."""

from __future__ import annotations

import platform
import sys

import psycopg

from pgwatch_gui import __version__
from pgwatch_gui.core.pg.connection import connect, one_line


def format_pg_version(number: int) -> str:
    """PostgreSQL's version number (170005, 90624) as people write it (17.5, 9.6.24)."""
    if number <= 0:
        return "unknown"
    if number >= 100000:
        return f"{number // 10000}.{number % 10000}"
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"


def library_versions() -> list[tuple[str, str]]:
    """(name, version) of the app and the Qt-free libraries under it, in display order."""
    try:
        libpq = format_pg_version(psycopg.pq.version())
    except Exception as exc:  # a broken libpq is exactly what an About box must show
        libpq = f"unavailable ({one_line(exc)})"
    frozen = " (bundle)" if getattr(sys, "frozen", False) else ""
    return [
        ("pgwatch-gui", __version__ + frozen),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("psycopg", f"{psycopg.__version__} ({psycopg.pq.__impl__})"),
        ("libpq", libpq),
    ]


async def server_version(conninfo: str, *, timeout: int = 5) -> str:
    """The server's version as it reports it, e.g. "18.0" or "16.4 (Debian 16.4-1)"."""
    async with await connect(conninfo, connect_timeout=timeout) as conn:
        text = conn.info.parameter_status("server_version")
        return text or format_pg_version(conn.info.server_version)

"""Connection strings, connecting, and turning connection errors into one readable line.

libpq conventions are honoured as they are: a URI or a ``key=value`` string, and
for anything left out the ``PG*`` environment variables, service files and
``.pgpass``. Nothing here ever puts a password into a message.
"""

from __future__ import annotations

import sys

import psycopg
from psycopg import conninfo as _ci

from pgwatch_gui.core.pg.dsn import ConnectionConfigError, conninfo_dict, parse_dsn
from pgwatch_gui.core.pg.errors import one_line

APPLICATION_NAME = "pgwatch-gui"
DEFAULT_CONNECT_TIMEOUT = 10

# TCP keepalives for connections that wait a long time for the server (the listener):
# a peer gone without a word (a NAT or firewall dropping the connection) is noticed
# after about idle + interval * count = 25 s of silence. A connection string that sets
# any keepalives parameter keeps its own. (Ignored on Unix-domain sockets.)
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
              "keepalives_count": 3}


def make_conninfo(dsn: str | None = None, **overrides: object) -> str:
    """Merge a URI or key=value string with keyword overrides (None values are skipped).

    Raises ConnectionConfigError with a readable message for a malformed string.
    """
    params = {k: v for k, v in overrides.items() if v is not None and v != ""}
    params.setdefault("application_name", APPLICATION_NAME)
    try:
        return _ci.make_conninfo(dsn or "", **params)
    except psycopg.ProgrammingError:
        pass
    # libpq quotes the bad part of a string, which may be the password: a URI with a
    # raw password (p@ss:w/rd%) is read leniently, and no error repeats credentials.
    return lenient_conninfo(dsn, **params)


def lenient_conninfo(dsn: str | None, **overrides: object) -> str:
    """A URI or key=value string read leniently (parse_dsn), merged with overrides."""
    parsed = parse_dsn(dsn or "")  # raises ConnectionConfigError without the password
    base: dict[str, object] = {**parsed.params, "password": parsed.password}
    base.setdefault("application_name", APPLICATION_NAME)
    base.update({k: v for k, v in overrides.items() if v is not None and v != ""})
    try:
        return _ci.make_conninfo("", **{k: v for k, v in base.items() if v})
    except psycopg.ProgrammingError as exc:
        raise ConnectionConfigError(f"invalid connection string: {one_line(exc)}") from None


def redact(conninfo: str) -> str:
    """The connection string with any password removed, safe for screens and logs."""
    try:
        params = _ci.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "<invalid connection string>"
    params.pop("password", None)
    return _ci.make_conninfo("", **params)


def describe_target(conninfo: str) -> str:
    """A short human name for where a connection string points: user@host:port/db."""
    try:
        p = _ci.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "<invalid connection string>"
    if p.get("service"):
        return f"service={p['service']}"
    host = p.get("host") or "local socket"
    if host.startswith("/"):
        host = "local socket"
    port = f":{p['port']}" if p.get("port") else ""
    user = f"{p['user']}@" if p.get("user") else ""
    db = f"/{p['dbname']}" if p.get("dbname") else ""
    return f"{user}{host}{port}{db}"


def _timeout_kwargs(conninfo: str, connect_timeout: int | None,
                    keepalives: bool = False) -> dict[str, object]:
    """A connect timeout unless the connection string sets its own; with `keepalives`,
    KEEPALIVES unless the string sets any of them."""
    params = conninfo_dict(conninfo)
    kw: dict[str, object] = {}
    if "connect_timeout" not in params:
        kw["connect_timeout"] = connect_timeout or DEFAULT_CONNECT_TIMEOUT
    if keepalives and not any(k.startswith("keepalives") for k in params):
        kw.update(KEEPALIVES)
    return kw


async def connect(
    conninfo: str, *, autocommit: bool = True, connect_timeout: int | None = None,
    keepalives: bool = False,
) -> psycopg.AsyncConnection:
    """Open an AsyncConnection (autocommit by default) on the running loop.

    `keepalives`: turn on TCP keepalives (KEEPALIVES) unless the string sets them."""
    return await psycopg.AsyncConnection.connect(
        conninfo, autocommit=autocommit,
        **_timeout_kwargs(conninfo, connect_timeout, keepalives))


def connect_sync(
    conninfo: str, *, autocommit: bool = True, connect_timeout: int | None = None
) -> psycopg.Connection:
    return psycopg.Connection.connect(
        conninfo, autocommit=autocommit, **_timeout_kwargs(conninfo, connect_timeout))


def use_selector_loop_policy() -> None:
    """psycopg refuses Windows' default Proactor loop; asyncio.run() must make a selector loop."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import asyncio

        asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())

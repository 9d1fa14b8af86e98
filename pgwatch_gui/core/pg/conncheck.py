"""Test a connection: can this tool LISTEN here, and install triggers?

`check_connection(conninfo)` connects once and reports, in a ConnectionReport:
server version, current user and database, whether the server is a hot standby
(LISTEN is refused there), whether the endpoint looks like a transaction pooler
(where LISTEN is accepted but silently gets nothing), whether the user may create
triggers, and how full the server's notification queue is.

It is a coroutine: cancelling the task cancels the test, and the whole test is
bounded by `timeout`. It never raises for a database problem: a failure is a
report with ok=False and the server's message in one line (password masked).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass, field

import psycopg

from pgwatch_gui.core.pg.connection import connect, conninfo_dict, one_line
from pgwatch_gui.core.pg.notify import quote_listen

SELFTEST_WAIT = 2.0  # seconds to wait for our own NOTIFY to come back

_FACTS_SQL = """
SELECT current_setting('server_version'),
       current_setting('server_version_num')::int,
       current_user,
       current_database(),
       pg_is_in_recovery(),
       pg_notification_queue_usage(),
       pg_backend_pid(),
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
"""

# Tables (outside the system schemas) and those the user may put triggers on; schemas
# where the user may create the trigger function; CREATE on the database (for a
# `pgwatch` schema of its own).
_PRIVILEGES_SQL = """
SELECT count(*) AS tables,
       count(*) FILTER (WHERE has_table_privilege(c.oid, 'TRIGGER')) AS trigger_tables,
       (SELECT count(*) FROM pg_namespace s
         WHERE s.nspname NOT LIKE 'pg\\_%' AND s.nspname <> 'information_schema'
           AND has_schema_privilege(s.oid, 'CREATE')) AS create_schemas,
       has_database_privilege(current_database(), 'CREATE') AS create_in_db
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
"""


@dataclass
class ConnectionReport:
    ok: bool
    error: str = ""  # the server's (or libpq's) message, one line, no password
    elapsed: float = 0.0
    target: str = ""
    server_version: str = ""
    server_version_num: int = 0
    current_user: str = ""
    database: str = ""
    superuser: bool = False
    in_recovery: bool | None = None  # a hot standby: LISTEN is refused
    pooler: str = ""  # why the endpoint looks like a pooler ("" when it does not)
    pool_mode: str = ""  # PgBouncer's pool_mode when the endpoint says it
    listen_works: bool | None = None  # our own NOTIFY came back (None: not tried)
    tables: int = 0
    trigger_tables: int = 0  # tables the user may create triggers on
    create_schemas: int = 0  # schemas the user may create the trigger function in
    create_in_db: bool = False  # may create a schema of its own
    can_create_triggers: bool | None = None
    queue_usage: float | None = None  # pg_notification_queue_usage(), 0.0 .. 1.0
    warnings: list[str] = field(default_factory=list)
    # Through an SSH tunnel: (level, text) per step before PostgreSQL (core.ssh.check),
    # and the unknown host key the user may accept (a core.ssh.errors.HostKeyUnknown).
    route_steps: list[tuple[str, str]] = field(default_factory=list)
    host_key_unknown: object | None = None

    @property
    def can_listen(self) -> bool:
        return self.ok and not self.in_recovery and self.listen_works is not False

    def lines(self) -> list[str]:
        """The report for people, one finding per line."""
        return [text for _, text in self.findings()]

    def findings(self) -> list[tuple[str, str]]:
        """(level, text) per finding; level is "ok", "info", "warning" or "error"."""
        if not self.ok:
            return [*self.route_steps, ("error", f"Connection failed: {self.error}")]
        out = [
            *self.route_steps,
            ("ok", f"Server: PostgreSQL {self.server_version}"),
            ("ok", f"Connected as {self.current_user} to database {self.database}"
             + (" (superuser)" if self.superuser else "")),
        ]
        if self.in_recovery:
            out.append(("error", "Hot standby: yes — LISTEN is refused on a standby; "
                                 "use the primary"))
        else:
            out.append(("ok", "Hot standby: no"))
        if self.pooler:
            level = "error" if self.listen_works is False else "warning"
            out.append((level, f"Pooler: {self.pooler}"))
        if self.listen_works is True:
            out.append(("ok", "LISTEN/NOTIFY self-test: passed"))
        elif self.listen_works is False:
            out.append(("error", "LISTEN/NOTIFY self-test: FAILED — LISTEN gets nothing here "
                                 "(a transaction pooler?); connect to the server directly"))
        level = "ok" if self.can_create_triggers else "warning"
        out.append((level, f"Triggers: {self.trigger_summary()}"))
        if self.queue_usage is not None:
            level = "warning" if self.queue_usage > 0.5 else "info"
            out.append((level, f"Notification queue: {self.queue_usage:.1%} used"))
        out.extend(("warning", f"Warning: {w}") for w in self.warnings)
        return out

    def trigger_summary(self) -> str:
        if self.can_create_triggers is None:
            return "unknown"
        if self.superuser:
            return "yes (superuser)"
        if not self.can_create_triggers:
            if self.tables and not self.trigger_tables:
                return f"no — no TRIGGER privilege on any of {self.tables} tables"
            if not (self.create_schemas or self.create_in_db):
                return "no — no schema where you may create the trigger function"
            return "no tables yet" if not self.tables else "no"
        return (f"yes, on {self.trigger_tables} of {self.tables} tables"
                if self.tables else "yes")


async def check_connection(conninfo: str, *, timeout: float = 15.0,
                           selftest_wait: float = SELFTEST_WAIT) -> ConnectionReport:
    """Connect and collect the facts above; bounded by `timeout` seconds, cancellable."""
    started = time.monotonic()
    try:
        target = _target(conninfo)
    except Exception as exc:
        return ConnectionReport(ok=False, error=one_line(exc))
    report = ConnectionReport(ok=False, target=target)
    try:
        await asyncio.wait_for(_run(conninfo, report, timeout, selftest_wait), timeout)
    except asyncio.TimeoutError:
        report.ok = False
        report.error = f"no answer within {timeout:g} s (timed out)"
    except (psycopg.Error, OSError) as exc:
        report.ok = False
        report.error = _strip_prefix(one_line(exc))
    report.elapsed = time.monotonic() - started
    return report


def _strip_prefix(text: str) -> str:
    prefix = "connection failed: "
    return text[len(prefix):] if text.lower().startswith(prefix) else text


def _target(conninfo: str) -> str:
    from pgwatch_gui.core.pg.connection import describe_target

    conninfo_dict(conninfo)  # raises for a malformed string
    return describe_target(conninfo)


async def _run(conninfo: str, report: ConnectionReport, timeout: float,
               selftest_wait: float) -> None:
    conn = await connect(conninfo, connect_timeout=max(1, int(timeout)))
    async with conn:
        cur = await conn.execute(_FACTS_SQL)
        row = await cur.fetchone()
        assert row is not None
        (report.server_version, report.server_version_num, report.current_user,
         report.database, report.in_recovery, report.queue_usage, server_pid,
         superuser) = row
        report.superuser = bool(superuser)
        report.ok = True
        await _privileges(conn, report)
        await _pooler(conn, report, server_pid, conninfo)
        if not report.in_recovery:
            await _selftest(conn, report, selftest_wait)
        if report.queue_usage and report.queue_usage > 0.5:
            report.warnings.append(
                "the notification queue is more than half full: a listener is not reading"
            )


async def _privileges(conn: psycopg.AsyncConnection, report: ConnectionReport) -> None:
    try:
        cur = await conn.execute(_PRIVILEGES_SQL)
        row = await cur.fetchone()
    except psycopg.Error as exc:
        report.warnings.append(f"could not check privileges: {one_line(exc)}")
        return
    assert row is not None
    report.tables, report.trigger_tables, report.create_schemas, report.create_in_db = row
    may_define = bool(report.create_schemas or report.create_in_db)
    report.can_create_triggers = report.superuser or (report.trigger_tables > 0 and may_define)


async def _pooler(conn: psycopg.AsyncConnection, report: ConnectionReport,
                  server_pid: int, conninfo: str) -> None:
    reasons: list[str] = []
    host = conninfo_dict(conninfo).get("host", "") or ""
    if "-pooler" in host.lower():
        reasons.append("the host name contains '-pooler' (a pooled endpoint, as on Neon)")
    try:
        cur = await conn.execute("SHOW pool_mode")
        row = await cur.fetchone()
        report.pool_mode = str(row[0]) if row else ""
    except psycopg.errors.UndefinedObject:
        pass  # PostgreSQL itself: "unrecognized configuration parameter"
    except psycopg.Error as exc:
        # Poolers that refuse SHOW for unknown settings answer with their own error.
        if "pgbouncer" in one_line(exc).lower():
            reasons.append("PgBouncer answered")
    if report.pool_mode:
        reasons.append(f"PgBouncer pool_mode={report.pool_mode}")
    if conn.info.backend_pid != server_pid:
        reasons.append("the backend process id differs from the server's (a proxy in between)")
    report.pooler = "; ".join(reasons)


async def _selftest(conn: psycopg.AsyncConnection, report: ConnectionReport,
                    wait: float) -> None:
    """LISTEN on a fresh channel, NOTIFY it, and see whether it comes back."""
    channel = f"pgwatch_selftest_{uuid.uuid4().hex[:12]}"
    token = uuid.uuid4().hex
    try:
        await conn.execute(quote_listen("LISTEN", channel))
        await conn.execute("SELECT pg_notify(%s, %s)", (channel, token))
        got = False
        async for n in conn.notifies(timeout=wait, stop_after=1):
            if n.channel == channel and n.payload == token:
                got = True
        report.listen_works = got
    except psycopg.Error as exc:
        report.listen_works = False
        report.warnings.append(f"LISTEN refused: {one_line(exc)}")
    finally:
        with contextlib.suppress(psycopg.Error):
            await conn.execute(quote_listen("UNLISTEN", channel))


_PASSWORD_WANTED = ("no password supplied", "password authentication failed",
                    "password is required", "password must be")


def needs_password(message: str) -> bool:
    """Whether a connection error means "give me a (different) password"."""
    text = message.lower()
    return any(p in text for p in _PASSWORD_WANTED)

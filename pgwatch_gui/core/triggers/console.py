"""An interactive SQL session for trying triggers out: statements run in a transaction
that the user ends with commit() or rollback().

Each run() is wrapped in a savepoint, so a failing statement is undone on its own and
the transaction goes on (like psql's ON_ERROR_ROLLBACK). Notifications that the
statements queue are delivered by PostgreSQL at commit, to whoever LISTENs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import pq

from pgwatch_gui.core.pg.connection import connect
from pgwatch_gui.core.pg.errors import route_reason
from pgwatch_gui.core.triggers.catalog import server_message

MAX_ROWS = 500
_DML = {"INSERT", "UPDATE", "DELETE", "MERGE", "COPY"}
_SAVEPOINT = b"SAVEPOINT pgwatch_console"
_RELEASE = b"RELEASE SAVEPOINT pgwatch_console"
_UNDO = b"ROLLBACK TO SAVEPOINT pgwatch_console"


@dataclass
class StatementResult:
    status: str  # the command tag: "INSERT 0 1", "SELECT 3", ...
    rowcount: int
    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)  # at most MAX_ROWS
    more_rows: bool = False


@dataclass
class RunResult:
    results: list[StatementResult] = field(default_factory=list)
    error: str | None = None
    notices: list[str] = field(default_factory=list)
    in_transaction: bool = False  # a transaction is open and waits for commit or rollback

    @property
    def rows_affected(self) -> int:
        """Rows inserted, updated, deleted or merged (RETURNING or not)."""
        return sum(r.rowcount for r in self.results
                   if r.rowcount > 0 and r.status.split(" ", 1)[0] in _DML)


class ConsoleSession:
    """One connection; statements accumulate in a transaction until commit/rollback."""

    def __init__(self, conninfo: str, route: object = None) -> None:
        self.conninfo = conninfo
        self.route = route  # an SSH tunnel's route: it names the tunnel when that is down
        self._conn: psycopg.AsyncConnection | None = None
        self._notices: list[str] = []
        self.statements = 0  # run() calls in the open transaction

    @property
    def in_transaction(self) -> bool:
        c = self._conn
        return c is not None and not c.closed and c.info.transaction_status in (
            pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR)

    async def _connection(self) -> psycopg.AsyncConnection:
        if self._conn is None or self._conn.closed:
            self._conn = await connect(self.conninfo, autocommit=True)
            self._conn.add_notice_handler(
                lambda d: self._notices.append(f"{d.severity}: {d.message_primary}"))
        return self._conn

    async def run(self, text: str) -> RunResult:
        """Run the statements in `text` inside the open transaction (opening one)."""
        out = RunResult()
        if not text.strip():
            out.in_transaction = self.in_transaction
            return out
        try:
            conn = await self._connection()
            if not self.in_transaction:
                await conn.execute(b"BEGIN")
                self.statements = 0
            await conn.execute(_SAVEPOINT)
        except psycopg.Error as exc:
            out.error = self._why(exc)
            out.in_transaction = self.in_transaction
            return out
        try:
            async with conn.cursor() as cur:
                await cur.execute(text.encode())
                while True:
                    out.results.append(await self._result(cur))
                    if not cur.nextset():
                        break
            if self.in_transaction:
                await conn.execute(_RELEASE)
            self.statements += 1
        except psycopg.Error as exc:
            out.error = self._why(exc)
            out.results.clear()
            if self.in_transaction:
                try:
                    await conn.execute(_UNDO)
                    await conn.execute(_RELEASE)
                except psycopg.Error:
                    pass
        out.notices, self._notices = self._notices, []
        out.in_transaction = self.in_transaction
        return out

    def _why(self, exc: psycopg.Error) -> str:
        text = server_message(exc)
        if isinstance(exc, psycopg.OperationalError) and self.route is not None:
            return route_reason(self.route, text)
        return text

    @staticmethod
    async def _result(cur: psycopg.AsyncCursor) -> StatementResult:
        status = cur.statusmessage or ""
        if cur.description is None:
            return StatementResult(status, cur.rowcount)
        rows = await cur.fetchmany(MAX_ROWS + 1)
        return StatementResult(status, cur.rowcount, [d.name for d in cur.description],
                               rows[:MAX_ROWS], len(rows) > MAX_ROWS)

    async def commit(self) -> str | None:
        """Commit; None on success, else the server's message (the transaction is gone)."""
        return await self._end(b"COMMIT")

    async def rollback(self) -> str | None:
        return await self._end(b"ROLLBACK")

    async def _end(self, verb: bytes) -> str | None:
        if not self.in_transaction:
            return None
        assert self._conn is not None
        try:
            await self._conn.execute(verb)
        except psycopg.Error as exc:
            return self._why(exc)
        finally:
            self.statements = 0
        return None

    async def close(self) -> None:
        if self._conn is not None and not self._conn.closed:
            await self._conn.close()  # an open transaction is rolled back
        self._conn = None

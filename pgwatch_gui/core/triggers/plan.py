"""What install and remove work with: a Plan of Steps, the Installed triggers of a
table, and TriggerError (one line). The operations are in core/triggers/manage.py
(install, list) and core/triggers/removal.py (remove)."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg.rows import dict_row

from pgwatch_gui import __version__
from pgwatch_gui.core.pg.names import qualified
from pgwatch_gui.core.triggers import catalog
from pgwatch_gui.core.triggers.body import comment_safe
from pgwatch_gui.core.triggers.catalog import TriggerInfo, server_message
from pgwatch_gui.core.triggers.spec import Stored, TriggerSpec
from pgwatch_gui.core.triggers.sql import LOCK_TIMEOUT


class TriggerError(Exception):
    """Installing or removing failed; the message is one line (the server's, when it spoke)."""


def header() -> str:
    """The first step of every plan."""
    return f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';\n"


async def table_info(conn: psycopg.AsyncConnection, schema: str | None, name: str
                     ) -> catalog.TableInfo:
    """catalog.table_info, its error a TriggerError."""
    try:
        return await catalog.table_info(conn, schema, name)
    except catalog.CatalogError as exc:
        raise TriggerError(str(exc)) from None


async def query(conn: psycopg.AsyncConnection, text: str, params: object) -> list[dict]:
    """Rows of a catalog query as dicts; a server error becomes a one-line TriggerError."""
    try:
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(text, params)
            return await cur.fetchall()
    except psycopg.Error as exc:
        raise TriggerError(server_message(exc)) from None


@dataclass(frozen=True)
class Step:
    label: str  # what the step is about, e.g. 'public."Order Items"'
    sql: str


@dataclass(frozen=True)
class Plan:
    """A script of steps to run in one transaction, and what it is for."""

    action: str  # "install" or "remove"
    steps: tuple[Step, ...]
    specs: tuple[TriggerSpec, ...] = ()
    tables: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    blockers: tuple[str, ...] = ()  # why the current role cannot run it (dry runs still can)
    leftovers: tuple[str, ...] = ()  # what a removal drops besides the tables' triggers

    @property
    def sql(self) -> str:
        """The steps, as `execute` runs them inside its own transaction."""
        return "".join(s.sql for s in self.steps)

    @property
    def script(self) -> str:
        """The plan as one file that any client runs as one transaction: a header saying
        how, then BEGIN, the steps and COMMIT. It is what `--dry-run` prints, the
        window's preview shows and *Save as migration* writes, byte for byte.

        `SET client_encoding` comes first because the file is UTF-8 whatever the
        locale of the psql that runs it (as pg_dump does)."""
        what = ", ".join(self.tables) or "nothing"
        head = (f"-- pgwatch-gui {__version__}: {self.action} notify triggers on "
                f"{comment_safe(what)}\n"
                "-- One transaction (BEGIN ... COMMIT): run it with\n"
                "--   psql -v ON_ERROR_STOP=1 -f this_file.sql\n"
                "-- An error stops it before COMMIT, and nothing is changed.\n")
        notes = "".join(f"-- note: {comment_safe(n)}\n" for n in self.notes)
        notes += "".join(f"-- needs: {comment_safe(b)}\n" for b in self.blockers)
        return (head + notes + "\nSET client_encoding = 'UTF8';\nBEGIN;\n" + self.sql
                + "COMMIT;\n")

    @property
    def empty(self) -> bool:
        return not self.tables and not self.leftovers

    @property
    def channels(self) -> tuple[str, ...]:
        """Fixed channels the installed triggers send on (prefix channels are per row)."""
        out: list[str] = []
        for s in self.specs:
            if not s.per_row_channel and s.channel not in out:
                out.append(s.channel)
        return tuple(out)


@dataclass(frozen=True)
class Installed:
    """This tool's trigger(s) on one table."""

    schema: str
    table: str
    stored: Stored
    triggers: tuple[TriggerInfo, ...]
    problems: tuple[str, ...] = field(default=())
    partitions: int = 0  # partitions carrying copies of its trigger (a partitioned table)

    @property
    def spec(self) -> TriggerSpec:
        return self.stored.spec.with_table(self.schema, self.table)

    @property
    def qualified_table(self) -> str:
        return qualified(self.schema, self.table)

    @property
    def function(self) -> str:
        return self.triggers[0].function

    @property
    def enabled(self) -> bool:
        return all(t.enabled for t in self.triggers)

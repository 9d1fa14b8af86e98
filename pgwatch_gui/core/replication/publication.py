"""The publication a change stream reads: chosen tables, a schema's, every table, or one of yours.

A publication this tool creates is named `pgwatch_changes_<hex>`, carries a comment
naming its slot and the process that made it (host name and pid), is shown as SQL
before it runs, and is dropped when watching stops. A crash or `kill -9` leaves it
behind (the temporary slot itself always goes): `leftovers` lists the tool's
publications whose slot no longer exists, for removal: at once when the process that
made it is known to be gone (this host, its pid no longer running), else once it is
LEFTOVER_GRACE old (a stream elsewhere may still be creating its slot).

A table goes into a publication that publishes UPDATE and DELETE only when it has a
replica identity (a primary key, REPLICA IDENTITY USING INDEX or FULL); otherwise
the server would fail every UPDATE and DELETE on it. Named tables without one are
refused; from a schema or the whole database they are left out and listed.

Columns this tool's notify trigger never sends are left out of the publication's column
list (PostgreSQL 15+), so they never leave the server; withheld.py says how, and what
happens where that cannot be done. `Setup.notes` says it in one line per table.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from pgwatch_gui.core.replication import withheld
from pgwatch_gui.core.replication.checks import (
    PublishableTable,
    ReplicationRefused,
    find_tables,
    identity_fix,
)
from pgwatch_gui.core.replication.generated import (
    GENERATED_SENT_FROM,
    generated_columns,
    publishes_generated,
)

PREFIX = "pgwatch_changes_"
SLOT_PREFIX = "pgwatch_slot_"
MARK = "pgwatch-gui"
# A publication younger than this may belong to a stream still creating its slot.
LEFTOVER_GRACE = 60.0


@dataclass(frozen=True)
class WatchPlan:
    """What to watch: named tables, a schema, or an existing publication (else every table)."""

    tables: tuple[tuple[str, str], ...] = ()
    schema: str | None = None
    publication: str | None = None

    def describe(self) -> str:
        if self.publication:
            return f"publication {self.publication}"
        if self.tables:
            return ", ".join(f"{s}.{t}" for s, t in self.tables)
        if self.schema:
            return f"schema {self.schema}"
        return "every table"


@dataclass(frozen=True)
class Setup:
    """The publication a stream reads, and whether this tool creates (and drops) it."""

    name: str
    slot: str
    tables: tuple[PublishableTable, ...] = ()
    skipped: tuple[PublishableTable, ...] = ()  # left out: no replica identity
    created_here: bool = True
    primary_keys: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    # Tables set to REPLICA IDENTITY FULL first (old rows in every UPDATE/DELETE). This
    # stays after watching stops: it is the table's own setting.
    identity_full: tuple[PublishableTable, ...] = ()
    # Column lists: the columns published of a table whose notify trigger never sends
    # some (withheld.py); and what to tell the user about them, one line each.
    columns: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    # STORED generated columns the server will not send, per table: pgoutput sends them
    # only from PostgreSQL 18 on, with publish_generated_columns = stored (which a
    # publication made here then has); the envelope names them in `generated_missing`.
    generated: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    publish_generated: bool = False

    def statements(self, now: float | None = None) -> list[sql.Composed]:
        if not self.created_here:
            return []
        comment = json.dumps({MARK: "change stream", "slot": self.slot,
                              "created": round(now if now is not None else time.time()),
                              **maker()})
        targets = sql.SQL(", ").join(self._target(t) for t in self.tables)
        full = [sql.SQL("ALTER TABLE {} REPLICA IDENTITY FULL").format(
            sql.Identifier(t.schema, t.name)) for t in self.identity_full]
        # A partitioned table's rows then arrive under its own name, not its partitions'.
        options = []
        if any(t.kind == "p" for t in self.tables):
            options.append(sql.SQL("publish_via_partition_root = true"))
        if self.publish_generated:
            options.append(sql.SQL("publish_generated_columns = stored"))
        with_ = sql.SQL(" WITH ({})").format(sql.SQL(", ").join(options)) if options \
            else sql.SQL("")
        return [
            *full,
            sql.SQL("CREATE PUBLICATION {} FOR TABLE {}{}").format(
                sql.Identifier(self.name), targets, with_),
            sql.SQL("COMMENT ON PUBLICATION {} IS {}").format(
                sql.Identifier(self.name), sql.Literal(comment)),
        ]

    def _target(self, t: PublishableTable) -> sql.Composable:
        cols = self.columns.get((t.schema, t.name))
        if cols is None:
            return sql.Identifier(t.schema, t.name)
        return sql.SQL("{} ({})").format(sql.Identifier(t.schema, t.name),
                                         sql.SQL(", ").join(map(sql.Identifier, cols)))

    def sql_text(self) -> str:
        """The SQL to be run, as shown before it runs."""
        return "".join(s.as_string(None) + ";\n" for s in self.statements())

    def drop_statement(self) -> sql.Composed | None:
        return drop_statement(self.name) if self.created_here else None


def drop_statement(name: str) -> sql.Composed:
    return sql.SQL("DROP PUBLICATION IF EXISTS {}").format(sql.Identifier(name))


def new_names() -> tuple[str, str]:
    """(publication, slot), recognisably this tool's and unique."""
    token = uuid.uuid4().hex[:10]
    return PREFIX + token, SLOT_PREFIX + token


async def plan_setup(conn: psycopg.AsyncConnection, plan: WatchPlan, *, superuser: bool,
                     identity_full: bool = False) -> Setup:
    """What to create for `plan` (nothing for an existing publication); refuses with one line.

    identity_full: set REPLICA IDENTITY FULL on every chosen table that lacks it (named
    tables without any replica identity are then published rather than refused).
    """
    pub, slot = new_names()
    if plan.publication:
        cur = await conn.execute(
            "SELECT p.pubname, t.schemaname, t.tablename FROM pg_publication p "
            "LEFT JOIN pg_publication_tables t ON t.pubname = p.pubname WHERE p.pubname = %s",
            (plan.publication,))
        rows = await cur.fetchall()
        if not rows:
            raise ReplicationRefused(
                f"no publication named {plan.publication!r} in this database "
                "(see SELECT pubname FROM pg_publication)")
        tables = [(r[1], r[2]) for r in rows if r[1] is not None]
        sent = await publishes_generated(conn, plan.publication)
        return Setup(plan.publication, slot, created_here=False,
                     primary_keys=await primary_keys(conn, tables),
                     notes=await _sent_anyway(conn, plan.publication, tables),
                     generated={} if sent else await generated_columns(conn, tables))
    found = await find_tables(conn, tables=list(plan.tables) or None, schema=plan.schema)
    if plan.tables:
        have = {(t.schema, t.name) for t in found}
        missing = [f"{s}.{t}" for s, t in plan.tables if (s, t) not in have]
        if missing:
            raise ReplicationRefused(f"no table {missing[0]} in this database")
        not_owned = [t for t in found if not (t.owned or superuser)]
        if not_owned:
            raise ReplicationRefused(
                f"{not_owned[0].qualified}: only its owner or a superuser may publish it; "
                "ask its owner for a publication and give it with --publication")
        no_identity = [t for t in found if not t.identifies_rows]
        if no_identity and not identity_full:
            raise ReplicationRefused(identity_fix(no_identity))
        chosen, skipped = found, []
    else:
        mine = [t for t in found if t.owned or superuser]
        chosen = [t for t in mine if t.identifies_rows]
        skipped = [t for t in mine if not t.identifies_rows]
        if not chosen:
            where = f"schema {plan.schema}" if plan.schema else "this database"
            why = (f" ({identity_fix(skipped)})" if skipped else "")
            raise ReplicationRefused(
                f"no table in {where} that this role may publish{why}")
    chosen, columns, notes = await _hold_back(conn, chosen, identity_full,
                                              named=bool(plan.tables))
    names = [(t.schema, t.name) for t in chosen]
    keys = await primary_keys(conn, names)
    full = tuple(t for t in chosen if t.identity != "f") if identity_full else ()
    generated = await generated_columns(conn, names)
    sends = bool(generated) and conn.info.server_version >= GENERATED_SENT_FROM
    return Setup(pub, slot, tuple(chosen), tuple(skipped), True, keys, full, columns, notes,
                 {} if sends else generated, sends)


async def _hold_back(conn: psycopg.AsyncConnection, chosen: list[PublishableTable],
                     identity_full: bool, *, named: bool
                     ) -> tuple[list[PublishableTable], dict, tuple[str, ...]]:
    """The columns never sent by the tables' notify triggers, left out (withheld.py); a
    table that cannot hold them back is refused (named) or left out (schema, database)."""
    names = [(t.schema, t.name) for t in chosen]
    never = await withheld.never_sent(conn, names)
    if not never:
        return chosen, {}, ()
    cols = await withheld.table_columns(conn, list(never))
    cp = withheld.plan_columns(
        [((t.schema, t.name), "f" if identity_full else t.identity) for t in chosen],
        never, cols, conn.info.server_version)
    if cp.refused and named:
        raise ReplicationRefused(next(iter(cp.refused.values())))
    kept = [t for t in chosen if (t.schema, t.name) not in cp.refused]
    if not kept:
        raise ReplicationRefused(next(iter(cp.refused.values())))
    left_out = [f"left out: {why}" for why in cp.refused.values()]
    return kept, cp.lists, tuple(cp.notes() + left_out)


async def _sent_anyway(conn: psycopg.AsyncConnection, name: str,
                       tables: list[tuple[str, str]]) -> tuple[str, ...]:
    """An existing publication is used as it is: say which never-sent columns it carries."""
    never = await withheld.never_sent(conn, tables)
    if not never:
        return ()
    listed: dict[tuple[str, str], set[str]] = {}
    if conn.info.server_version >= withheld.COLUMN_LISTS_FROM:
        cur = await conn.execute("SELECT schemaname, tablename, attnames::text[] "
                                 "FROM pg_publication_tables WHERE pubname = %s", (name,))
        listed = {(r[0], r[1]): set(r[2] or ()) for r in await cur.fetchall()}
    notes = []
    for table, cols in never.items():
        sent = [c for c in cols if table not in listed or c in listed[table]]
        if sent:
            notes.append(f"publication {name} carries {table[0]}.{table[1]}'s "
                         f"{', '.join(sent)}, which its notify trigger never sends; they "
                         "WILL be streamed (and kept in the journal)")
    return tuple(notes)


async def primary_keys(conn: psycopg.AsyncConnection, tables: list[tuple[str, str]]
                       ) -> dict[tuple[str, str], tuple[str, ...]]:
    if not tables:
        return {}
    cur = await conn.execute(
        """
        SELECT n.nspname, c.relname, array_agg(a.attname::text ORDER BY k.ord)
          FROM pg_index i
          JOIN pg_class c ON c.oid = i.indrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
          CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
         WHERE i.indisprimary
           AND (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
         GROUP BY 1, 2
        """, ([s for s, _ in tables], [t for _, t in tables]))
    return {(r[0], r[1]): tuple(r[2]) for r in await cur.fetchall()}


async def existing_publications(conn: psycopg.AsyncConnection) -> list[str]:
    """Publications in this database that this tool did not make, to stream as they are."""
    cur = await conn.execute("SELECT pubname FROM pg_publication WHERE pubname NOT LIKE %s "
                             "ORDER BY 1", (PREFIX.replace("_", r"\_") + "%",))
    return [r[0] for r in await cur.fetchall()]


async def create(conn: psycopg.AsyncConnection, setup: Setup) -> None:
    """Create the publication and its comment in one transaction."""
    statements = setup.statements()
    if not statements:
        return
    async with conn.transaction():
        for stmt in statements:
            await conn.execute(stmt)


async def drop(conn: psycopg.AsyncConnection, name: str) -> None:
    await conn.execute(drop_statement(name))


def maker() -> dict[str, str | int]:
    """Who makes a publication: this host and process (for `leftovers`)."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def process_gone(host: str, pid: int) -> bool:
    """True when the process `pid` of `host` is known to have ended: only for this
    host, and only where asking does not harm it (POSIX signal 0; on Windows os.kill
    would end it, so there the answer is "not known": False)."""
    if not host or pid <= 0 or host != socket.gethostname() or os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists (another user's: PermissionError)
        return False
    return False


@dataclass(frozen=True)
class Leftover:
    name: str
    slot: str
    created: float
    host: str = ""
    pid: int = 0

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.created))
        return f"{self.name} (created {when}, its slot {self.slot} is gone)"


async def leftovers(conn: psycopg.AsyncConnection, now: float | None = None) -> list[Leftover]:
    """This tool's publications whose stream is gone (crashed, killed, lost).

    One whose slot (or a reconnect's `slot_N`) exists is in use. One without is left
    over when the process that made it is gone (this host, pid not running: `kill -9`
    a moment ago), or else when it is older than LEFTOVER_GRACE: until then a stream
    on another host may be between creating it and creating its slot."""
    cur = await conn.execute(
        "SELECT p.pubname, obj_description(p.oid, 'pg_publication') FROM pg_publication p "
        "WHERE p.pubname LIKE %s ORDER BY 1", (PREFIX.replace("_", r"\_") + "%",))
    marked = []
    for name, comment in await cur.fetchall():
        try:
            info = json.loads(comment or "")
        except ValueError:
            continue
        if not isinstance(info, dict) or MARK not in info:
            continue
        try:
            pid = int(info.get("pid") or 0)
        except (TypeError, ValueError):
            pid = 0
        marked.append(Leftover(name, str(info.get("slot", "")), float(info.get("created", 0)),
                               str(info.get("host") or ""), pid))
    if not marked:
        return []
    cur = await conn.execute("SELECT slot_name FROM pg_replication_slots")
    slots = {r[0] for r in await cur.fetchall()}
    limit = (time.time() if now is None else now) - LEFTOVER_GRACE
    return [m for m in marked
            if not any(s == m.slot or s.startswith(m.slot + "_") for s in slots)
            and (m.created < limit or process_gone(m.host, m.pid))]


async def drop_leftovers(conn: psycopg.AsyncConnection) -> list[Leftover]:
    """Drop what `leftovers` finds; returns what was dropped."""
    found = await leftovers(conn)
    for item in found:
        await drop(conn, item.name)
    return found

"""The publication a change stream reads: chosen tables, a schema's, every table, or one of yours.

A publication this tool creates is named `pgwatch_changes_<hex>`, carries a comment
naming its slot, is shown as SQL before it runs, and is dropped when watching stops.
A crash leaves it behind (the temporary slot itself always goes): `leftovers` lists
the tool's publications whose slot no longer exists, for removal.

A table goes into a publication that publishes UPDATE and DELETE only when it has a
replica identity (a primary key, REPLICA IDENTITY USING INDEX or FULL); otherwise
the server would fail every UPDATE and DELETE on it. Named tables without one are
refused; from a schema or the whole database they are left out and listed.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from pgwatch_gui.core.replication.checks import (
    PublishableTable,
    ReplicationRefused,
    find_tables,
    identity_fix,
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
    # STORED generated columns the server will not send, per table: pgoutput sends them
    # only from PostgreSQL 18 on, with publish_generated_columns = stored (which a
    # publication made here then has); the envelope names them in `generated_missing`.
    generated: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    publish_generated: bool = False

    def statements(self, now: float | None = None) -> list[sql.Composed]:
        if not self.created_here:
            return []
        comment = json.dumps({MARK: "change stream", "slot": self.slot,
                              "created": round(now if now is not None else time.time())})
        targets = sql.SQL(", ").join(sql.Identifier(t.schema, t.name) for t in self.tables)
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
        sent = await _publishes_generated(conn, plan.publication)
        return Setup(plan.publication, slot, created_here=False,
                     primary_keys=await primary_keys(conn, tables),
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
    names = [(t.schema, t.name) for t in chosen]
    keys = await primary_keys(conn, names)
    full = tuple(t for t in chosen if t.identity != "f") if identity_full else ()
    generated = await generated_columns(conn, names)
    sends = bool(generated) and conn.info.server_version >= GENERATED_SENT_FROM
    return Setup(pub, slot, tuple(chosen), tuple(skipped), True, keys, full,
                 {} if sends else generated, sends)


GENERATED_SENT_FROM = 180000  # PostgreSQL 18: publish_generated_columns


async def generated_columns(conn: psycopg.AsyncConnection, tables: list[tuple[str, str]]
                            ) -> dict[tuple[str, str], tuple[str, ...]]:
    """The STORED generated columns of these tables, in column order (none: no entry)."""
    if not tables:
        return {}
    cur = await conn.execute(
        """
        SELECT n.nspname, c.relname, array_agg(a.attname::text ORDER BY a.attnum)
          FROM pg_attribute a
          JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE a.attgenerated = 's' AND a.attnum > 0 AND NOT a.attisdropped
           AND (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
         GROUP BY 1, 2
        """, ([s for s, _ in tables], [t for _, t in tables]))
    return {(r[0], r[1]): tuple(r[2]) for r in await cur.fetchall()}


async def _publishes_generated(conn: psycopg.AsyncConnection, name: str) -> bool:
    """Whether an existing publication sends STORED generated columns (18+)."""
    if conn.info.server_version < GENERATED_SENT_FROM:
        return False
    cur = await conn.execute("SELECT pubgencols::text FROM pg_publication WHERE pubname = %s",
                             (name,))
    row = await cur.fetchone()
    return bool(row) and row[0] == "s"


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


@dataclass(frozen=True)
class Leftover:
    name: str
    slot: str
    created: float

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.created))
        return f"{self.name} (created {when}, its slot {self.slot} is gone)"


async def leftovers(conn: psycopg.AsyncConnection, now: float | None = None) -> list[Leftover]:
    """This tool's publications whose stream is gone (crashed, killed, lost)."""
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
        marked.append(Leftover(name, str(info.get("slot", "")), float(info.get("created", 0))))
    if not marked:
        return []
    cur = await conn.execute("SELECT slot_name FROM pg_replication_slots")
    slots = {r[0] for r in await cur.fetchall()}
    limit = (time.time() if now is None else now) - LEFTOVER_GRACE
    return [m for m in marked if m.created < limit
            and not any(s == m.slot or s.startswith(m.slot + "_") for s in slots)]


async def drop_leftovers(conn: psycopg.AsyncConnection) -> list[Leftover]:
    """Drop what `leftovers` finds; returns what was dropped."""
    found = await leftovers(conn)
    for item in found:
        await drop(conn, item.name)
    return found

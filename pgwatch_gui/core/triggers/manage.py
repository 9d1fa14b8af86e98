"""Install, change, list and remove this tool's notify triggers.

    plan = await plan_install(conn, [TriggerSpec("public", "orders", channel="orders")])
    print(plan.sql)            # the exact script, also what "Save as migration" writes
    await execute(conn, plan)  # one transaction: all or nothing

Installing on a table that already has the trigger changes it (CREATE OR REPLACE
FUNCTION, DROP TRIGGER IF EXISTS + CREATE TRIGGER), never duplicates it. Removing
(core/triggers/removal.py, re-exported here) drops the triggers and their function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import psycopg
from psycopg import sql

from pgwatch_gui.core.pg.names import qualified
from pgwatch_gui.core.triggers import catalog, functions
from pgwatch_gui.core.triggers.catalog import (
    PGWATCH_SCHEMA,
    CatalogError,
    TableInfo,
    TriggerInfo,
    server_message,
)
from pgwatch_gui.core.triggers.plan import (
    Installed,
    Plan,
    Step,
    TriggerError,
    header,
    query,
    table_info,
)
from pgwatch_gui.core.triggers.removal import plan_remove, plan_remove_all
from pgwatch_gui.core.triggers.spec import (
    TRIGGER_NAME,
    TRIGGER_NAMES,
    SpecError,
    TriggerSpec,
    check_spec,
)
from pgwatch_gui.core.triggers.sql import (
    Placement,
    render,
    render_schema,
    render_table,
)
from pgwatch_gui.core.triggers.when import when_problem

__all__ = [
    "Installed", "Plan", "SpecError", "Step", "TriggerError", "TriggerSpec", "check", "execute",
    "function_definition", "list_installed", "migration_text", "plan_install", "plan_remove",
    "plan_remove_all", "render",
]

Progress = Callable[[int, int, str], None]


def _placement(facts: catalog.ServerFacts, table_schema: str) -> tuple[Placement, str | None]:
    if facts.pgwatch_schema and facts.can_create_in_pgwatch:
        return Placement(PGWATCH_SCHEMA, create_schema=False), None
    if not facts.pgwatch_schema and facts.can_create_schema:
        return Placement(PGWATCH_SCHEMA, create_schema=True), None
    why = ("may not create functions in schema pgwatch" if facts.pgwatch_schema
           else "may not create schema pgwatch")
    return (Placement(table_schema, create_schema=False),
            f"{facts.user} {why}: the function goes into schema {table_schema}")


def _not_owner(info: TableInfo, user: str, verb: str) -> str | None:
    if info.owned:
        return None
    return (f"permission denied: {user} does not own table {info.qualified} (owner "
            f"{info.owner}); {verb} a trigger needs the owner's rights")


def _ours(info: TableInfo) -> list[TriggerInfo]:
    foreign = [t for t in info.triggers if t.name in TRIGGER_NAMES and not t.is_pgwatch]
    if foreign:
        raise TriggerError(
            f"{info.qualified} already has a trigger named {foreign[0].name} that "
            "pgwatch-gui did not install; rename or drop it first")
    return [t for t in info.triggers if t.is_pgwatch]


def _virtual_columns(spec: TriggerSpec, info: TableInfo) -> list[str]:
    """PostgreSQL 18 never computes a virtual generated column for a trigger: the payload
    leaves it out (a note says so); it cannot be the key or the channel column."""
    virtual = [c.name for c in info.columns if c.virtual]
    for what, names in (("channel column", [spec.channel_column]),
                        ("key column", spec.key_columns)):
        if bad := [n for n in names if n in virtual]:
            raise TriggerError(f"{info.qualified}: {what} {bad[0]!r} is a virtual generated "
                               "column, which PostgreSQL never computes for a trigger")
    gone = [c for c in virtual if c not in spec.exclude]
    if spec.payload == "keys" or not gone:
        return []
    more = f" (and {len(gone) - 1} more)" if len(gone) > 1 else ""
    return [f"{info.qualified}: virtual generated column {gone[0]!r}{more} is left out of "
            "payloads: PostgreSQL never computes it for a trigger"]


async def _table_steps(conn: psycopg.AsyncConnection, spec: TriggerSpec, info: TableInfo,
                       existing: Sequence[TriggerInfo], placement: Placement
                       ) -> tuple[list[Step], list[str]]:
    """One table's steps: its function (the table's own, named by its oid), its triggers,
    and the functions they replace once nothing else uses them.

    A partitioned table's trigger is copied to every partition: a partition whose own
    trigger of ours is in the way loses it first (a note says so); a partition covered by
    its parent's trigger is refused, naming the parent."""
    parts = await functions.partitions(conn, info.oid)
    if parts.covered_by:
        raise TriggerError(
            f"{info.qualified} is a partition of {parts.covered_by}, whose pgwatch trigger "
            f"covers it; change or remove the trigger of {parts.covered_by}")
    if foreign := [t for t in parts.own if not t.is_pgwatch]:
        raise TriggerError(
            f"partition {foreign[0].qualified_table} of {info.qualified} already has a trigger "
            f"named {foreign[0].name} that pgwatch-gui did not install; rename or drop it first")
    own = [t.oid for t in existing]
    fn_schema = placement.schema
    name = await functions.free_name(conn, info.schema, info.name, info.oid, placement, own)
    old = {(t.function_oid, t.function_schema, t.function_name) for t in (*existing, *parts.own)}
    used = await functions.still_used(conn, [f[0] for f in old], own + [t.oid for t in parts.own])
    drops = sorted((s, n) for oid, s, n in old if oid not in used and (s, n) != (fn_schema, name))
    steps, notes = [], []
    if parts.own:
        tables = sorted({t.qualified_table for t in parts.own})
        steps.append(Step(f"partitions of {info.qualified}", "".join(
            sql.SQL("DROP TRIGGER IF EXISTS {} ON {};\n").format(
                sql.Identifier(t.name), sql.Identifier(t.schema, t.table)).as_string(None)
            for t in parts.own)))
        notes.append(f"{', '.join(tables)}: its own pgwatch trigger gives way to the one "
                     f"{info.qualified} gives its partitions")
    text = render_table(spec, info.columns, key=info.key, table_oid=info.oid,
                        placement=Placement(fn_schema, False), function=name,
                        drop_functions=drops)
    return [*steps, Step(info.qualified, text)], notes


async def plan_install(conn: psycopg.AsyncConnection, specs: Sequence[TriggerSpec]) -> Plan:
    """The script installing (or changing) each spec, checked against the real tables."""
    if not specs:
        raise TriggerError("no table given")
    try:
        facts = await catalog.server_facts(conn)
    except CatalogError as exc:
        raise TriggerError(str(exc)) from None
    steps: list[Step] = []
    notes: list[str] = []
    blockers: list[str] = []
    resolved: list[TriggerSpec] = []
    schema_created = False
    infos = [await table_info(conn, spec.schema or None, spec.table) for spec in specs]
    everywhere = {c for info in infos for c in info.column_names}
    for spec, info in zip(specs, infos, strict=True):
        spec = spec.with_table(info.schema, info.name)
        if len(infos) > 1:
            # One exclude list for many tables: a table need not have every excluded column,
            # but a name no table has is a typo, and check_spec reports it.
            spec = replace(spec, exclude=tuple(
                c for c in spec.exclude if c in info.column_names or c not in everywhere))
        if any(s.schema == spec.schema and s.table == spec.table for s in resolved):
            raise TriggerError(f"{info.qualified} is named twice")
        existing = _ours(info)
        placement, note = _placement(facts, info.schema)
        if note and note not in notes:
            notes.append(note)
        blocker = _not_owner(info, facts.user, "installing")
        if blocker is None and placement.schema == info.schema and not info.can_create_in_schema:
            blocker = (f"permission denied: {facts.user} may create neither schema pgwatch nor "
                       f"functions in schema {info.schema}")
        if blocker:
            blockers.append(blocker)
        if placement.create_schema and schema_created:
            placement = Placement(placement.schema, create_schema=False)
        try:
            check_spec(spec, info.column_names, info.key)
        except SpecError as exc:
            raise TriggerError(f"{info.qualified}: {exc}") from None
        notes += _virtual_columns(spec, info)
        table_steps, table_notes = await _table_steps(conn, spec, info, existing, placement)
        notes += table_notes
        if spec.when:  # the server parses it: one expression over the table's row
            objection = await check_when(conn, info.schema, info.name, spec.when,
                                         spec.row_events)
            if objection:
                raise TriggerError(f"{info.qualified}: {objection}")
        if not steps:
            steps.append(Step("settings", header()))
        if placement.create_schema:
            steps.append(Step("schema pgwatch", render_schema(placement)))
            schema_created = True
        if not spec.key_columns and not info.key:
            notes.append(f"{info.qualified} has no primary key or replica identity index: "
                         "payloads carry no key (choose key columns)")
        steps += table_steps
        resolved.append(spec)
    return Plan("install", tuple(steps), tuple(resolved),
                tuple(qualified(s.schema, s.table) for s in resolved), tuple(notes),
                tuple(blockers))


async def execute(conn: psycopg.AsyncConnection, plan: Plan,
                  progress: Progress | None = None) -> None:
    """Run a plan in one transaction. Raises TriggerError naming the failing table."""
    if plan.blockers:
        raise TriggerError(plan.blockers[0])
    step = None
    try:
        async with conn.transaction():
            for i, step in enumerate(plan.steps):
                await conn.execute(step.sql.encode())  # bytes: no placeholder processing
                if progress is not None:
                    progress(i + 1, len(plan.steps), step.label)
    except psycopg.Error as exc:
        where = f"{step.label}: " if step is not None and step.label != "settings" else ""
        raise TriggerError(f"{where}{server_message(exc)}") from None


async def check(conn: psycopg.AsyncConnection, plan: Plan) -> str | None:
    """Run a plan and roll it back: None if the server accepts it, else its message.

    This is how a WHEN condition or a privilege is validated before installing.
    """
    step = None
    try:
        async with conn.transaction() as tx:
            for step in plan.steps:
                await conn.execute(step.sql.encode())
            raise psycopg.Rollback(tx)
    except psycopg.Error as exc:
        where = f"{step.label}: " if step is not None and step.label != "settings" else ""
        return f"{where}{server_message(exc)}"
    return None


# Which of NEW and OLD a row event has: a WHEN condition may name only those.
_SCOPES = {"INSERT": ("new",), "UPDATE": ("new", "old"), "DELETE": ("old",)}
_MISSING = {"INSERT": "OLD", "DELETE": "NEW"}


async def _explain_where(conn: psycopg.AsyncConnection, schema: str, table: str,
                         aliases: Sequence[str], text: str) -> str | None:
    tbl = sql.Identifier(schema, table)
    rows = sql.SQL(", ").join(sql.SQL("{} AS {}").format(tbl, sql.SQL(a)) for a in aliases)
    query = sql.SQL("SELECT 1 FROM {} WHERE ({})").format(rows, sql.SQL(text))
    try:
        async with conn.transaction(force_rollback=True):
            # prepare=True: Parse over the extended protocol, one statement at most.
            await conn.execute(sql.SQL("EXPLAIN {}").format(query), prepare=True)
    except psycopg.Error as exc:
        return server_message(exc)
    return None


async def check_when(conn: psycopg.AsyncConnection, schema: str, table: str,
                     text: str, events: Sequence[str] = ("UPDATE",)) -> str | None:
    """The server's objection to `text` as the table's WHEN condition, or None.

    The server parses it as one boolean expression over the table's row named NEW and
    OLD, then once for each of `events` with only the rows that event has, as CREATE
    TRIGGER ... WHEN would: NEW in a DELETE trigger or OLD in an INSERT trigger is
    refused. Prepared only, never executed, inside a transaction that is rolled back.
    """
    problem = when_problem(text)
    if problem:
        return problem
    objection = await _explain_where(conn, schema, table, ("new", "old"), text)
    if objection:
        return objection
    for event in dict.fromkeys(events):
        scope = _SCOPES.get(event)
        if scope is None or len(scope) == 2:
            continue
        if await _explain_where(conn, schema, table, scope, text) is not None:
            return f"{event} trigger's WHEN condition cannot reference {_MISSING[event]} values"
    return None


_COLUMNS_OF_INSTALLED = """
SELECT n.nspname AS schema, c.relname AS table,
       array_agg(a.attname::text ORDER BY a.attnum) AS columns
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  AND a.attgenerated::text <> 'v'
WHERE c.oid IN (SELECT tgrelid FROM pg_trigger WHERE tgname = ANY(%s))
GROUP BY n.nspname, c.relname
"""


def _function_problem(trigger: TriggerInfo) -> str | None:
    """What is wrong with the function behind one of our triggers, or None."""
    mark = trigger.mark
    if mark is None:
        when = ("; its WHEN condition is in CREATE TRIGGER, where an error fails the write"
                if " WHEN (" in trigger.definition else "")
        return ("installed by an older pgwatch-gui: its function is named after the table, "
                f"so a table made later under that name would share it{when}; install again "
                "to upgrade")
    if mark.table_oid != trigger.table_oid:
        return (f"its function {trigger.function} was made for another table "
                f"({mark.stored.spec.qualified_table}, a partitioned table it was detached "
                "from, or a dump restored); install again to give it its own")
    return None


def _problems(trigger: TriggerInfo, schema: str, table: str, columns: Sequence[str]
              ) -> tuple[str, ...]:
    stored = trigger.stored
    assert stored is not None
    out = []
    function = _function_problem(trigger)
    if function:
        out.append(function)
    have = set(columns)
    gone = [c for c in (*stored.key, *stored.columns) if c not in have]
    if gone:
        out.append(f"column {sorted(set(gone))[0]!r} no longer exists: notifications carry an "
                   "\"error\" until the trigger is installed again")
    renamed = (stored.spec.schema, stored.spec.table) != (schema, table)
    if renamed and (trigger.mark is None or trigger.mark.table_oid == trigger.table_oid):
        out.append(f"table was renamed from {qualified(stored.spec.schema, stored.spec.table)}: "
                   "payloads still name the old table until the trigger is installed again")
    if stored.spec.payload != "keys":
        new = [c for c in columns if c not in stored.columns and c not in stored.spec.exclude]
        if new:
            out.append(f"column {new[0]!r} was added after installing and is not in the payload")
    return tuple(out)


async def list_installed(conn: psycopg.AsyncConnection, schema: str | None = None,
                         table: str | None = None) -> list[Installed]:
    """This tool's triggers, one entry per table, with what has gone stale since installing
    and how many partitions a partitioned table's trigger reaches."""
    try:
        trigs = [t for t in await catalog.list_triggers(conn, schema, table) if t.is_pgwatch]
    except CatalogError as exc:
        raise TriggerError(str(exc)) from None
    if not trigs:
        return []
    rows = await query(conn, _COLUMNS_OF_INSTALLED, (list(TRIGGER_NAMES),))
    cols = {(r["schema"], r["table"]): r["columns"] for r in rows}
    copies = await functions.copies(conn, [t.oid for t in trigs])
    grouped: dict[tuple[str, str], list[TriggerInfo]] = {}
    for t in trigs:
        grouped.setdefault((t.schema, t.table), []).append(t)
    out = []
    for (sch, tab), ts in grouped.items():
        ts.sort(key=lambda t: t.name != TRIGGER_NAME)
        stored = ts[0].stored
        assert stored is not None
        out.append(Installed(sch, tab, stored, tuple(ts),
                             _problems(ts[0], sch, tab, cols.get((sch, tab), ())),
                             max(copies.get(t.oid, 0) for t in ts)))
    return out


async def function_definition(conn: psycopg.AsyncConnection, installed: Installed) -> str:
    """CREATE FUNCTION ... of the installed function, as the server has it now."""
    rows = await query(conn, "SELECT pg_get_functiondef(%s) AS d",
                        (installed.triggers[0].function_oid,))
    return rows[0]["d"]


def migration_text(plan: Plan) -> str:
    """The plan as a migration file: `plan.script` (one transaction, BEGIN ... COMMIT)."""
    return plan.script

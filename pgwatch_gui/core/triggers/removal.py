"""Remove this tool's notify triggers: from some tables, or every one in the database.

Removing drops the triggers (a partitioned table's copies on its partitions go with
them) and each function no other trigger uses; removing everything also drops the
functions of ours that no trigger uses any more (a dropped table's, say: see
core/triggers/functions.py); when schema pgwatch was created by this tool and nothing
else is left in it, it is dropped too, so removing everything leaves nothing behind.
Like installing, a removal is a Plan run in one transaction (core/triggers/manage.py
`execute`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg
from psycopg import sql

from pgwatch_gui.core.pg.names import qualified
from pgwatch_gui.core.triggers import catalog, functions
from pgwatch_gui.core.triggers.catalog import PGWATCH_SCHEMA, CatalogError, TriggerInfo
from pgwatch_gui.core.triggers.plan import Plan, Step, TriggerError, header, query, table_info
from pgwatch_gui.core.triggers.sql import SCHEMA_COMMENT


def _drop_steps(found: Sequence[TriggerInfo], functions_left: set[int]) -> list[Step]:
    steps = []
    by_table: dict[tuple[str, str], list[TriggerInfo]] = {}
    for t in found:
        by_table.setdefault((t.schema, t.table), []).append(t)
    for (schema, table), trigs in by_table.items():
        parts = [sql.SQL("DROP TRIGGER IF EXISTS {} ON {};\n").format(
            sql.Identifier(t.name), sql.Identifier(schema, table)) for t in trigs]
        for fn in {(t.function_oid, t.function_schema, t.function_name) for t in trigs}:
            if fn[0] not in functions_left:
                parts.append(sql.SQL("DROP FUNCTION IF EXISTS {}();\n").format(
                    sql.Identifier(fn[1], fn[2])))
                functions_left.add(fn[0])  # dropped once even if two tables share it
        steps.append(Step(qualified(schema, table), sql.Composed(parts).as_string(None)))
    return steps


_SCHEMA_LEFT = """
SELECT n.oid IS NOT NULL AS exists, obj_description(n.oid, 'pg_namespace') AS comment,
       (SELECT count(*) FROM pg_depend d
         WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = n.oid
           AND d.deptype = 'n'
           AND NOT (d.classid = 'pg_proc'::regclass AND d.objid = ANY(%s))) AS others
FROM (SELECT 1) AS one LEFT JOIN pg_namespace n ON n.nspname = %s
"""


async def _removal(conn: psycopg.AsyncConnection, found: Sequence[TriggerInfo],
                   leftovers: Sequence[functions.Leftover] = ()) -> Plan:
    """Drop these triggers (their copies on partitions go with them), each function no
    other trigger uses, the leftover functions, and schema pgwatch when that empties it."""
    blockers: list[str] = []
    for t in found:
        if not t.owned and not any(t.qualified_table in b for b in blockers):
            user = (await catalog.server_facts(conn)).user
            blockers.append(f"permission denied: {user} does not own table "
                            f"{t.qualified_table}; removing a trigger needs the owner's rights")
    fn_oids = sorted({t.function_oid for t in found})
    still_used = await functions.still_used(conn, fn_oids, [t.oid for t in found])
    steps = [Step("settings", header()), *_drop_steps(found, set(still_used))]
    dropped = [f for f in fn_oids if f not in still_used]
    gone = [f for f in leftovers if f.oid not in dropped]
    if gone:
        steps.append(Step("leftover functions", "".join(
            sql.SQL("DROP FUNCTION IF EXISTS {}();\n").format(
                sql.Identifier(f.schema, f.name)).as_string(None) for f in gone)))
    described = [f"function {f.describe()}" for f in gone]
    (left,) = await query(conn, _SCHEMA_LEFT, ([*dropped, *(f.oid for f in gone)],
                                               PGWATCH_SCHEMA))
    if left["exists"] and left["others"] == 0 and left["comment"] == SCHEMA_COMMENT:
        steps.append(Step("schema pgwatch", sql.SQL("DROP SCHEMA {};\n").format(
            sql.Identifier(PGWATCH_SCHEMA)).as_string(None)))
        if not found and not gone:
            described.append("schema pgwatch, empty")
    if not found and not described:
        return Plan("remove", ())
    tables = tuple(dict.fromkeys(t.qualified_table for t in found))
    return Plan("remove", tuple(steps), (), tables, (), tuple(blockers), tuple(described))


async def plan_remove(conn: psycopg.AsyncConnection,
                      tables: Iterable[tuple[str | None, str]]) -> Plan:
    """The script removing this tool's triggers from these tables (schema None: search_path)."""
    found: list[TriggerInfo] = []
    for schema, name in tables:
        info = await table_info(conn, schema, name)
        ours = [t for t in info.triggers if t.is_pgwatch]
        if not ours:
            parts = await functions.partitions(conn, info.oid)
            if parts.covered_by:
                raise TriggerError(
                    f"{info.qualified} is a partition of {parts.covered_by}, whose pgwatch "
                    f"trigger covers it; remove the trigger of {parts.covered_by}")
            raise TriggerError(f"{info.qualified} has no trigger installed by pgwatch-gui")
        found += [t for t in ours if t not in found]
    return await _removal(conn, found)


async def plan_remove_all(conn: psycopg.AsyncConnection) -> Plan:
    """The script removing every trigger this tool installed in the database, the functions
    no trigger uses any more (`functions.leftovers`) and schema pgwatch."""
    try:
        found = [t for t in await catalog.list_triggers(conn) if t.is_pgwatch]
    except CatalogError as exc:
        raise TriggerError(str(exc)) from None
    return await _removal(conn, found, await functions.leftovers(conn))

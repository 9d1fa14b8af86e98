"""Remove this tool's notify triggers: from some tables, or every one in the database.

Removing drops the triggers and their function; when schema pgwatch was created by this
tool and nothing else is left in it, it is dropped too, so removing everything leaves
nothing behind. Like installing, a removal is a Plan run in one transaction
(core/triggers/manage.py `execute`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg
from psycopg import sql

from pgwatch_gui.core.pg.names import qualified
from pgwatch_gui.core.triggers import catalog
from pgwatch_gui.core.triggers.catalog import PGWATCH_SCHEMA, CatalogError, TriggerInfo
from pgwatch_gui.core.triggers.plan import Plan, Step, TriggerError, header, query
from pgwatch_gui.core.triggers.sql import SCHEMA_COMMENT


async def _table(conn: psycopg.AsyncConnection, schema: str | None, table: str
                 ) -> catalog.TableInfo:
    try:
        return await catalog.table_info(conn, schema, table)
    except CatalogError as exc:
        raise TriggerError(str(exc)) from None


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


_FUNCTION_USERS = """
SELECT DISTINCT tgfoid FROM pg_trigger WHERE tgfoid = ANY(%s) AND NOT (oid = ANY(%s))
"""

_SCHEMA_LEFT = """
SELECT n.oid IS NOT NULL AS exists, obj_description(n.oid, 'pg_namespace') AS comment,
       (SELECT count(*) FROM pg_depend d
         WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = n.oid
           AND d.deptype = 'n'
           AND NOT (d.classid = 'pg_proc'::regclass AND d.objid = ANY(%s))) AS others
FROM (SELECT 1) AS one LEFT JOIN pg_namespace n ON n.nspname = %s
"""


async def _removal(conn: psycopg.AsyncConnection, found: Sequence[TriggerInfo]) -> Plan:
    if not found:
        return Plan("remove", ())
    blockers: list[str] = []
    for t in found:
        if not t.owned and not any(t.qualified_table in b for b in blockers):
            user = (await catalog.server_facts(conn)).user
            blockers.append(f"permission denied: {user} does not own table "
                            f"{t.qualified_table}; removing a trigger needs the owner's rights")
    trig_oids = [t.oid for t in found]
    fn_oids = sorted({t.function_oid for t in found})
    rows = await query(conn, _FUNCTION_USERS, (fn_oids, trig_oids))
    still_used = {r["tgfoid"] for r in rows}
    steps = [Step("settings", header()), *_drop_steps(found, set(still_used))]
    dropped = [f for f in fn_oids if f not in still_used]
    (left,) = await query(conn, _SCHEMA_LEFT, (dropped, PGWATCH_SCHEMA))
    if left["exists"] and left["others"] == 0 and left["comment"] == SCHEMA_COMMENT:
        steps.append(Step("schema pgwatch", sql.SQL("DROP SCHEMA {};\n").format(
            sql.Identifier(PGWATCH_SCHEMA)).as_string(None)))
    tables = tuple(dict.fromkeys(t.qualified_table for t in found))
    return Plan("remove", tuple(steps), (), tables, (), tuple(blockers))


async def plan_remove(conn: psycopg.AsyncConnection,
                      tables: Iterable[tuple[str | None, str]]) -> Plan:
    """The script removing this tool's triggers from these tables (schema None: search_path)."""
    found: list[TriggerInfo] = []
    for schema, name in tables:
        info = await _table(conn, schema, name)
        ours = [t for t in info.triggers if t.is_pgwatch]
        if not ours:
            raise TriggerError(f"{info.qualified} has no trigger installed by pgwatch-gui")
        found += [t for t in ours if t not in found]
    return await _removal(conn, found)


async def plan_remove_all(conn: psycopg.AsyncConnection) -> Plan:
    """The script removing every trigger this tool installed in the database."""
    try:
        found = [t for t in await catalog.list_triggers(conn) if t.is_pgwatch]
    except CatalogError as exc:
        raise TriggerError(str(exc)) from None
    return await _removal(conn, found)

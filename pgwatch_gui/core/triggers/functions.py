"""This tool's trigger functions in the catalog: which are ours, who still uses them,
which are left over, and what a partitioned table's triggers reach.

A function is ours when its COMMENT ON FUNCTION is a FunctionMark (the oid of the one
table it was made for, and the spec), or, for installs of pgwatch-gui 0.1 (functions
named after the table: `pgwatch."public.orders"`, `public."pgwatch_notify_orders"`), when
it lives in schema pgwatch or is named `pgwatch_notify_...` and its source starts with
the header every generated function has. A function of ours that no trigger uses is a
leftover (its table was dropped, its trigger dropped by hand, a partitioned table's
trigger removed by an older version): `trigger list` shows it, `trigger remove --all`
drops it.

Partitioned tables: CREATE TRIGGER on the parent puts a copy (tgparentid = the parent's
trigger) on every partition, and DROP TRIGGER on the parent drops the copies. So "who
uses a function" leaves out the copies of the triggers being dropped, at every level.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import psycopg

from pgwatch_gui.core.pg.names import qualified
from pgwatch_gui.core.triggers import catalog
from pgwatch_gui.core.triggers.catalog import PGWATCH_SCHEMA, TriggerInfo
from pgwatch_gui.core.triggers.plan import TriggerError, query
from pgwatch_gui.core.triggers.spec import TRIGGER_NAMES, FunctionMark
from pgwatch_gui.core.triggers.sql import Placement, function_name

HEADER = "\n-- pgwatch-gui notify trigger function for "
_HEADER_END = ", payload mode "

# tgparentid exists from PostgreSQL 13 on; to_jsonb keeps the query valid before that.
_PARENT = "COALESCE((to_jsonb(t) ->> 'tgparentid')::oid, 0)"

# The triggers in %(mine)s and their copies on partitions, at every level.
_MINE = f"""
WITH RECURSIVE mine(oid) AS (
    SELECT unnest(%(mine)s::oid[])
  UNION
    SELECT t.oid FROM pg_trigger t JOIN mine m ON {_PARENT} = m.oid
)"""

_STILL_USED = _MINE + """
SELECT DISTINCT t.tgfoid AS oid FROM pg_trigger t
WHERE t.tgfoid = ANY(%(functions)s::oid[]) AND t.oid NOT IN (SELECT oid FROM mine)
"""

_NAMED = _MINE + """
SELECT p.oid, obj_description(p.oid, 'pg_proc') AS comment,
       EXISTS (SELECT 1 FROM pg_trigger t
               WHERE t.tgfoid = p.oid AND t.oid NOT IN (SELECT oid FROM mine)) AS used
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = %(schema)s AND p.proname = %(name)s AND p.pronargs = 0
"""

_OURS = """
SELECT p.oid, n.nspname AS schema, p.proname AS name, p.prosrc AS source,
       obj_description(p.oid, 'pg_proc') AS comment,
       EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgfoid = p.oid) AS used
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype AND p.pronargs = 0
  AND l.lanname = 'plpgsql'
  AND (n.nspname = %(schema)s OR p.proname LIKE 'pgwatch\\_notify\\_%%')
ORDER BY n.nspname, p.proname
"""

_TABLE_NAMES = """
SELECT c.oid, n.nspname AS schema, c.relname AS table
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = ANY(%s::oid[])
"""

_PARTITIONS = """
WITH RECURSIVE parts(relid) AS (
    SELECT inhrelid FROM pg_inherits WHERE inhparent = %(table)s
  UNION
    SELECT i.inhrelid FROM pg_inherits i JOIN parts p ON i.inhparent = p.relid
)
SELECT array_agg(relid) AS relids FROM parts
"""

# The partitioned table whose trigger this partition's copy came from (the top one).
_COVERED_BY = f"""
WITH RECURSIVE up(oid, relid, parent) AS (
    SELECT t.oid, t.tgrelid, {_PARENT} FROM pg_trigger t
    WHERE t.tgrelid = %(table)s AND t.tgname = ANY(%(names)s) AND {_PARENT} <> 0
  UNION
    SELECT t.oid, t.tgrelid, {_PARENT} FROM pg_trigger t JOIN up ON t.oid = up.parent
)
SELECT n.nspname AS schema, c.relname AS table
FROM up JOIN pg_class c ON c.oid = up.relid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE up.parent = 0
LIMIT 1
"""

_COPIES = f"""
WITH RECURSIVE tree(root, oid, relid) AS (
    SELECT t.oid, t.oid, t.tgrelid FROM pg_trigger t WHERE t.oid = ANY(%(mine)s::oid[])
  UNION
    SELECT tree.root, t.oid, t.tgrelid FROM pg_trigger t JOIN tree ON {_PARENT} = tree.oid
)
SELECT root, count(DISTINCT relid) - 1 AS n FROM tree GROUP BY root
"""


def legacy_table(source: str | None) -> str | None:
    """The table a function of pgwatch-gui 0.1 was made for, read from its header."""
    if not source or not source.startswith(HEADER):
        return None
    line = source[len(HEADER):].split("\n", 1)[0]
    table, sep, _ = line.rpartition(_HEADER_END)
    return table if sep else None


@dataclass(frozen=True)
class Leftover:
    """A function of ours that no trigger uses."""

    oid: int
    schema: str
    name: str
    table: str  # the table it was made for (its current name when it still exists)
    reason: str  # why it is left over, for people

    @property
    def function(self) -> str:
        return f"{qualified(self.schema, self.name)}()"

    def describe(self) -> str:
        return f"{self.function}: {self.reason}"


async def still_used(conn: psycopg.AsyncConnection, functions: Iterable[int],
                     dropping: Iterable[int]) -> set[int]:
    """Which of `functions` some trigger will still use once the triggers `dropping` (and
    their copies on partitions) are gone."""
    rows = await query(conn, _STILL_USED, {"mine": sorted(set(dropping)),
                                           "functions": sorted(set(functions))})
    return {r["oid"] for r in rows}


async def free_name(conn: psycopg.AsyncConnection, schema: str, table: str, table_oid: int,
                    placement: Placement, own: Sequence[int]) -> str:
    """The function name for this table: function_name(), unless a trigger other than the
    table's own (`own`, and their copies on partitions) uses a function of that name, or
    that function is not ours; then the next alternative (`#16384-2`)."""
    for n in range(1, 100):
        name = function_name(schema, table, table_oid, placement, n)
        rows = await query(conn, _NAMED, {"mine": list(own), "schema": placement.schema,
                                          "name": name})
        if not rows:
            return name
        if not rows[0]["used"] and FunctionMark.from_comment(rows[0]["comment"]) is not None:
            return name  # ours, used by this table alone (or by nobody): replaced
    raise TriggerError(f"{qualified(schema, table)}: no free name for its trigger function "
                       f"in schema {placement.schema}")


async def leftovers(conn: psycopg.AsyncConnection) -> list[Leftover]:
    """Functions of ours that no trigger uses, with the table each was made for."""
    rows = await query(conn, _OURS, {"schema": PGWATCH_SCHEMA})
    found: list[tuple[dict, FunctionMark | None, str | None]] = []
    for r in rows:
        if r["used"]:
            continue
        mark = FunctionMark.from_comment(r["comment"])
        legacy = None if mark else legacy_table(r["source"])
        if mark is not None or legacy is not None:
            found.append((r, mark, legacy))
    oids = [m.table_oid for _, m, _ in found if m is not None]
    names = {r["oid"]: qualified(r["schema"], r["table"])
             for r in (await query(conn, _TABLE_NAMES, (oids,)) if oids else [])}
    out = []
    for r, mark, legacy in found:
        if mark is not None:
            made_for = mark.stored.spec.qualified_table
            now = names.get(mark.table_oid)
        else:
            made_for = legacy or "?"
            now = await _exists(conn, made_for)
        if now is None:
            reason = f"made for {made_for}, which no longer exists"
        elif now != made_for:
            reason = f"made for {made_for} (now {now}), whose trigger is gone"
        else:
            reason = f"made for {made_for}, whose trigger is gone"
        out.append(Leftover(r["oid"], r["schema"], r["name"], now or made_for, reason))
    return out


async def _exists(conn: psycopg.AsyncConnection, table: str) -> str | None:
    rows = await query(conn, "SELECT to_regclass(%s) IS NOT NULL AS found", (table,))
    return table if rows and rows[0]["found"] else None


@dataclass(frozen=True)
class Partitions:
    """What a table's place in a partition tree means for its trigger."""

    covered_by: str | None  # a partition whose copy of a parent's pgwatch trigger covers it
    own: tuple[TriggerInfo, ...]  # triggers with our names on its partitions, not copies


async def partitions(conn: psycopg.AsyncConnection, table_oid: int) -> Partitions:
    rows = await query(conn, _COVERED_BY, {"table": table_oid, "names": list(TRIGGER_NAMES)})
    covered = qualified(rows[0]["schema"], rows[0]["table"]) if rows else None
    (parts,) = await query(conn, _PARTITIONS, {"table": table_oid})
    own: list[TriggerInfo] = []
    if parts["relids"]:
        try:
            found = await catalog.list_triggers(conn, relids=list(parts["relids"]))
        except catalog.CatalogError as exc:
            raise TriggerError(str(exc)) from None
        own = [t for t in found if t.name in TRIGGER_NAMES]
    return Partitions(covered, tuple(own))


async def copies(conn: psycopg.AsyncConnection, triggers: Sequence[int]) -> dict[int, int]:
    """For each of these triggers, how many partitions carry a copy of it."""
    rows = await query(conn, _COPIES, {"mine": list(triggers)})
    return {r["root"]: int(r["n"]) for r in rows}

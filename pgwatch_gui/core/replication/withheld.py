"""Columns a change stream holds back: those this tool's notify trigger never sends.

A table's notify trigger installed by this tool may mark columns "never send" (its
spec's `exclude`: a password hash, an e-mail address). A change stream of the same
table must not carry them either, or they would reach the table, the journal and every
export after all. PostgreSQL 15 and later take a column list per table in a publication
(`FOR TABLE t (a, b, c)`): the columns left out never leave the server. PostgreSQL 14
and older cannot, and the dialog and `changes` say so, naming the columns.

Where a column list cannot be used the table is not silently streamed with the columns:
a column list must cover the replica identity (else every UPDATE and DELETE on the
table fails for its writers), so a table whose replica identity is FULL, or whose key
is a "never send" column, is refused when named and left out, with the reason, when it
comes from a schema or the whole database.

The trigger's spec is read from its COMMENT (JSON with a "pgwatch" member, written by
core/triggers; a format shared through the database, so this feature does not import
that one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import psycopg

COLUMN_LISTS_FROM = 150000  # server_version_num of PostgreSQL 15

Table = tuple[str, str]

_NEVER_SENT_SQL = """
SELECT n.nspname, c.relname, obj_description(t.oid, 'pg_trigger')
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT t.tgisinternal
   AND (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
   AND obj_description(t.oid, 'pg_trigger') LIKE '{%%'
"""

_COLUMNS_SQL = """
SELECT n.nspname, c.relname,
       -- STORED generated columns too where a column list may name them (18 and later)
       array_agg(a.attname::text ORDER BY a.attnum) FILTER (
           WHERE a.attgenerated = '' OR (a.attgenerated = 's'
                 AND current_setting('server_version_num')::int >= 180000)),
       array_agg(a.attname::text ORDER BY a.attnum) FILTER (
           WHERE a.attnum = ANY (COALESCE(
               (SELECT i.indkey::int2[] FROM pg_index i
                 WHERE i.indrelid = c.oid
                   AND ((c.relreplident = 'd' AND i.indisprimary)
                        OR (c.relreplident = 'i' AND i.indisreplident))
                 LIMIT 1), '{}'::int2[])))
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
 GROUP BY 1, 2
"""


def _exclude_of(comment: str | None) -> tuple[str, ...]:
    try:
        d = json.loads(comment or "")
    except ValueError:
        return ()
    if not isinstance(d, dict) or "pgwatch" not in d or not isinstance(d.get("spec"), dict):
        return ()
    cols = d["spec"].get("exclude") or ()
    return tuple(c for c in cols if isinstance(c, str)) if isinstance(cols, list) else ()


def _unnest(tables: list[Table]) -> tuple[list[str], list[str]]:
    return [s for s, _ in tables], [t for _, t in tables]


async def never_sent(conn: psycopg.AsyncConnection, tables: list[Table]
                     ) -> dict[Table, tuple[str, ...]]:
    """Per table, the columns its notify trigger(s) of this tool never send."""
    if not tables:
        return {}
    cur = await conn.execute(_NEVER_SENT_SQL, _unnest(tables))
    found: dict[Table, list[str]] = {}
    for schema, name, comment in await cur.fetchall():
        for col in _exclude_of(comment):
            have = found.setdefault((schema, name), [])
            if col not in have:
                have.append(col)
    return {k: tuple(v) for k, v in found.items()}


async def table_columns(conn: psycopg.AsyncConnection, tables: list[Table]
                        ) -> dict[Table, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Per table: (its columns a publication may list, in order; its replica identity key)."""
    if not tables:
        return {}
    cur = await conn.execute(_COLUMNS_SQL, _unnest(tables))
    return {(r[0], r[1]): (tuple(r[2] or ()), tuple(r[3] or ())) for r in await cur.fetchall()}


def _names(cols) -> str:
    return ", ".join(cols)


@dataclass(frozen=True)
class ColumnPlan:
    """What a publication lists per table, and what could not be held back (and why)."""

    lists: dict[Table, tuple[str, ...]] = field(default_factory=dict)  # the columns sent
    held_back: dict[Table, tuple[str, ...]] = field(default_factory=dict)
    refused: dict[Table, str] = field(default_factory=dict)  # cannot be streamed safely
    unprotected: dict[Table, tuple[str, ...]] = field(default_factory=dict)  # before 15

    def notes(self) -> list[str]:
        """One line each, for the dialog and `changes`."""
        out = [f"{_q(t)}: {_names(c)} held back (its notify trigger never sends them)"
               for t, c in self.held_back.items()]
        out += [f"PostgreSQL 14 and older cannot leave columns out of a publication: "
                f"{_q(t)}'s {_names(c)}, never sent by its notify trigger, WILL be streamed "
                f"(and kept in the journal); upgrade to 15+, or do not watch it"
                for t, c in self.unprotected.items()]
        return out


def _q(t: Table) -> str:
    return f"{t[0]}.{t[1]}"


def plan_columns(tables: list[tuple[Table, str]], never: dict[Table, tuple[str, ...]],
                 columns: dict[Table, tuple[tuple[str, ...], tuple[str, ...]]],
                 server_version: int) -> ColumnPlan:
    """`tables`: (table, replica identity as it will be: d, f, i, n)."""
    plan = ColumnPlan()
    for table, identity in tables:
        hidden = never.get(table)
        if not hidden:
            continue
        if server_version < COLUMN_LISTS_FROM:
            plan.unprotected[table] = hidden
            continue
        cols, key = columns.get(table, ((), ()))
        if identity == "f":
            plan.refused[table] = (
                f"{_q(table)}: its notify trigger never sends {_names(hidden)}, but with "
                "REPLICA IDENTITY FULL a publication must carry every column (else its "
                "UPDATE and DELETE fail); leave it out, or watch it without FULL")
            continue
        in_key = [c for c in hidden if c in key]
        if in_key:
            plan.refused[table] = (
                f"{_q(table)}: its notify trigger never sends {_names(in_key)}, which is "
                "its replica identity; a publication must carry it (else its UPDATE and "
                "DELETE fail), so it cannot be watched without sending it")
            continue
        plan.lists[table] = tuple(c for c in cols if c not in hidden)
        plan.held_back[table] = tuple(c for c in hidden if c in cols) or hidden
    return plan

"""What is in a database: schemas, tables, columns, keys, triggers, server facts.

Read-only queries over pg_catalog (every role may read them). Notify triggers that
this tool did not install are recognised by reading their function's source
(core.notify_source) and offered as "discovered channels". All functions take a
psycopg AsyncConnection; values go in as parameters, never into the SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from pgwatch_gui.core.pg.connection import one_line
from pgwatch_gui.core.pg.names import qualified
from pgwatch_gui.core.triggers.discovery import DiscoveredChannel, discover_channels
from pgwatch_gui.core.triggers.spec import TRIGGER_NAMES, FunctionMark, Stored

PGWATCH_SCHEMA = "pgwatch"
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


class CatalogError(Exception):
    """A catalog question the server refused (no such table, ...): one line of text."""


def server_message(exc: BaseException) -> str:
    """The server's own words for an error, on one line, without CONTEXT or LINE noise."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    if not primary:
        return one_line(exc)
    hint = getattr(diag, "message_hint", None)
    return one_line(f"{primary} (hint: {hint})" if hint else primary)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    not_null: bool = False
    comparable: bool = True  # `IS DISTINCT FROM` works on the type itself
    position: int = 0
    generated: str = ""  # pg_attribute.attgenerated: "s" stored, "v" virtual (18), "" not

    @property
    def virtual(self) -> bool:
        """A virtual generated column: PostgreSQL never computes it for a trigger."""
        return self.generated == "v"


@dataclass(frozen=True)
class TriggerInfo:
    schema: str
    table: str
    name: str
    function_schema: str
    function_name: str
    language: str
    events: tuple[str, ...]
    timing: str  # BEFORE / AFTER / INSTEAD OF
    level: str  # ROW / STATEMENT
    enabled: bool
    definition: str
    args: tuple[str, ...] = ()
    comment: str | None = None
    stored: Stored | None = None  # set for this tool's triggers
    oid: int = 0
    function_oid: int = 0
    table_oid: int = 0
    mark: FunctionMark | None = None  # the function's COMMENT, when it is one of ours
    owned: bool = True  # the current role owns the table (may drop or change the trigger)
    notifies: bool = False  # the function's source sends notifications
    channels: tuple[DiscoveredChannel, ...] = ()

    @property
    def is_pgwatch(self) -> bool:
        return self.stored is not None and self.name in TRIGGER_NAMES

    @property
    def is_other_notify(self) -> bool:
        return self.notifies and not self.is_pgwatch

    @property
    def function(self) -> str:
        return f"{qualified(self.function_schema, self.function_name)}()"

    @property
    def qualified_table(self) -> str:
        return qualified(self.schema, self.table)


@dataclass(frozen=True)
class TableSummary:
    schema: str
    name: str
    kind: str  # "table" or "partitioned table"
    estimated_rows: int | None  # None: never analysed
    pgwatch: bool = False  # carries a trigger installed by this tool
    other_notify: bool = False  # carries a notify trigger this tool did not install

    @property
    def qualified(self) -> str:
        return qualified(self.schema, self.name)


@dataclass(frozen=True)
class TableInfo:
    schema: str
    name: str
    oid: int
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    key_source: str | None = None  # "primary key", "replica identity" or None
    triggers: tuple[TriggerInfo, ...] = field(default=())
    owner: str = ""
    owned: bool = True  # the current role is (a member of) the owner: may add triggers
    can_create_in_schema: bool = True  # may create a function in the table's schema
    partitioned: bool = False  # its row triggers are copied to its partitions

    @property
    def qualified(self) -> str:
        return qualified(self.schema, self.name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class ServerFacts:
    version_num: int
    version: str
    user: str
    database: str
    superuser: bool
    can_create_schema: bool  # CREATE on the database
    pgwatch_schema: bool  # schema pgwatch exists
    can_create_in_pgwatch: bool
    pgwatch_schema_comment: str | None
    queue_usage: float  # pg_notification_queue_usage(), 0..1


_SCHEMAS = """
SELECT n.nspname FROM pg_namespace n
WHERE n.nspname <> ALL(%(system)s) AND n.nspname NOT LIKE 'pg\\_temp\\_%%'
  AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%%'
ORDER BY n.nspname
"""

_TABLES = """
SELECT n.nspname, c.relname, c.relkind,
       CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END AS est
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname <> ALL(%(system)s) AND n.nspname NOT LIKE 'pg\\_temp\\_%%'
  AND (%(schema)s::text IS NULL OR n.nspname = %(schema)s)
ORDER BY n.nspname, c.relname
"""

_RESOLVE = """
SELECT c.oid, n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner) AS owner,
       pg_has_role(c.relowner, 'USAGE') AS owned,
       has_schema_privilege(n.oid, 'CREATE') AS can_create_in_schema
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = %s::regclass
"""

_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull, a.attnum,
       a.attgenerated::text AS generated,
       (ty.typtype IN ('e', 'r') OR EXISTS (
          SELECT 1 FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
          WHERE am.amname = 'btree' AND oc.opcdefault
            AND (oc.opcintype = COALESCE(NULLIF(ty.typbasetype, 0), ty.oid)
                 OR EXISTS (SELECT 1 FROM pg_cast k
                            WHERE k.castsource = COALESCE(NULLIF(ty.typbasetype, 0), ty.oid)
                              AND k.casttarget = oc.opcintype AND k.castmethod = 'b'
                              AND k.castcontext = 'i')))) AS comparable
FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

_KEY = """
SELECT i.indisprimary, array_agg(a.attname::text ORDER BY k.ord) AS cols
FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = %s AND (i.indisprimary OR i.indisreplident)
GROUP BY i.indexrelid, i.indisprimary
ORDER BY i.indisprimary DESC
LIMIT 1
"""

_TRIGGERS = """
SELECT n.nspname AS schema, c.relname AS table, t.tgname AS name, t.oid, p.oid AS foid,
       c.oid AS relid, obj_description(p.oid, 'pg_proc') AS fcomment,
       pg_has_role(c.relowner, 'USAGE') AS owned,
       pn.nspname AS fschema, p.proname AS fname, l.lanname AS language, p.prosrc AS source,
       t.tgenabled <> 'D' AS enabled, t.tgtype, t.tgnargs, t.tgargs,
       obj_description(t.oid, 'pg_trigger') AS comment,
       pg_get_triggerdef(t.oid) AS definition
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc p ON p.oid = t.tgfoid
JOIN pg_namespace pn ON pn.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE NOT t.tgisinternal
  AND COALESCE((to_jsonb(t) ->> 'tgparentid')::oid, 0) = 0
  AND n.nspname <> ALL(%(system)s)
  AND (%(schema)s::text IS NULL OR n.nspname = %(schema)s)
  AND (%(table)s::text IS NULL OR c.relname = %(table)s)
  AND (%(relids)s::oid[] IS NULL OR c.oid = ANY(%(relids)s::oid[]))
ORDER BY n.nspname, c.relname, t.tgname
"""

_FACTS = """
SELECT current_setting('server_version_num')::int AS version_num, version() AS version,
       current_user AS user, current_database() AS database,
       COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS superuser,
       has_database_privilege(current_database(), 'CREATE') AS can_create_schema,
       s.oid IS NOT NULL AS pgwatch_schema,
       COALESCE(has_schema_privilege(s.oid, 'CREATE'), false) AS can_create_in_pgwatch,
       obj_description(s.oid, 'pg_namespace') AS pgwatch_schema_comment,
       pg_notification_queue_usage() AS queue_usage
FROM (SELECT 1) AS one
LEFT JOIN pg_namespace s ON s.nspname = %s
"""


async def _fetch(conn: psycopg.AsyncConnection, query: str, params: object = None) -> list[dict]:
    try:
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, params)
            return await cur.fetchall()
    except psycopg.Error as exc:
        raise CatalogError(server_message(exc)) from None


async def server_facts(conn: psycopg.AsyncConnection) -> ServerFacts:
    (row,) = await _fetch(conn, _FACTS, (PGWATCH_SCHEMA,))
    return ServerFacts(**row)


async def list_schemas(conn: psycopg.AsyncConnection) -> list[str]:
    rows = await _fetch(conn, _SCHEMAS, {"system": list(SYSTEM_SCHEMAS)})
    return [r["nspname"] for r in rows]


async def list_triggers(conn: psycopg.AsyncConnection, schema: str | None = None,
                        table: str | None = None, relids: list[int] | None = None
                        ) -> list[TriggerInfo]:
    """User triggers (not constraint triggers, not the copies a partitioned table's trigger
    gives its partitions), each classified: ours, other notify, plain."""
    rows = await _fetch(conn, _TRIGGERS, {"system": list(SYSTEM_SCHEMAS), "schema": schema,
                                          "table": table, "relids": relids})
    return [_trigger(r) for r in rows]


def _trigger(r: dict) -> TriggerInfo:
    tgtype = r["tgtype"]
    events = tuple(e for bit, e in ((4, "INSERT"), (16, "UPDATE"), (8, "DELETE"), (32, "TRUNCATE"))
                   if tgtype & bit)
    timing = "INSTEAD OF" if tgtype & 64 else "BEFORE" if tgtype & 2 else "AFTER"
    raw = bytes(r["tgargs"] or b"")
    args = tuple(a.decode("utf-8", "replace") for a in raw.split(b"\x00")[: r["tgnargs"]])
    mark = FunctionMark.from_comment(r["fcomment"])
    stored = None
    if r["name"] in TRIGGER_NAMES:  # ours by its own comment, or by its function's
        stored = Stored.from_comment(r["comment"]) or (mark.stored if mark else None)
    notifies, channels = (False, [])
    if stored is None and r["language"] in ("plpgsql", "sql"):
        notifies, channels = discover_channels(r["source"] or "", args)
    return TriggerInfo(
        schema=r["schema"], table=r["table"], name=r["name"], function_schema=r["fschema"],
        function_name=r["fname"], language=r["language"], events=events, timing=timing,
        level="ROW" if tgtype & 1 else "STATEMENT", enabled=r["enabled"],
        definition=r["definition"], args=args, comment=r["comment"], stored=stored,
        notifies=notifies, channels=tuple(channels), oid=r["oid"], function_oid=r["foid"],
        owned=r["owned"], table_oid=r["relid"], mark=mark,
    )


async def list_tables(conn: psycopg.AsyncConnection, schema: str | None = None
                      ) -> list[TableSummary]:
    """Tables (plain and partitioned, not partitions) with estimated rows and trigger marks."""
    rows = await _fetch(conn, _TABLES, {"system": list(SYSTEM_SCHEMAS), "schema": schema})
    marks: dict[tuple[str, str], tuple[bool, bool]] = {}
    for t in await list_triggers(conn, schema):
        ours, other = marks.get((t.schema, t.table), (False, False))
        marks[(t.schema, t.table)] = (ours or t.is_pgwatch, other or t.is_other_notify)
    out = []
    for r in rows:
        ours, other = marks.get((r["nspname"], r["relname"]), (False, False))
        kind = "partitioned table" if r["relkind"] == "p" else "table"
        out.append(TableSummary(r["nspname"], r["relname"], kind, r["est"], ours, other))
    return out


async def _resolve(conn: psycopg.AsyncConnection, schema: str | None, name: str) -> dict:
    parts = [schema, name] if schema else [name]
    text = sql.Identifier(*parts).as_string(None)
    (row,) = await _fetch(conn, _RESOLVE, (text,))
    kind, nsp, rel = row["relkind"], row["nspname"], row["relname"]
    if kind not in ("r", "p"):
        what = {"v": "a view", "m": "a materialized view", "f": "a foreign table",
                "S": "a sequence", "i": "an index", "c": "a type"}.get(kind, "not a table")
        raise CatalogError(f"{qualified(nsp, rel)} is {what}; notify triggers go on tables")
    return row


async def resolve_table(conn: psycopg.AsyncConnection, schema: str | None, name: str
                        ) -> tuple[int, str, str]:
    """(oid, schema, name) of a table; without a schema the search_path decides.

    Raises CatalogError with the server's message ("relation ... does not exist").
    """
    row = await _resolve(conn, schema, name)
    return row["oid"], row["nspname"], row["relname"]


async def table_info(conn: psycopg.AsyncConnection, schema: str | None, name: str
                     ) -> TableInfo:
    """Columns, key and triggers of one table."""
    row = await _resolve(conn, schema, name)
    oid, nsp, rel = row["oid"], row["nspname"], row["relname"]
    cols = tuple(
        Column(r["attname"], r["type"], r["attnotnull"], r["comparable"], r["attnum"],
               r["generated"].strip("\x00 "))
        for r in await _fetch(conn, _COLUMNS, (oid,))
    )
    key_rows = await _fetch(conn, _KEY, (oid,))
    key: tuple[str, ...] = ()
    source = None
    if key_rows:
        key = tuple(key_rows[0]["cols"])
        source = "primary key" if key_rows[0]["indisprimary"] else "replica identity"
    triggers = tuple(await list_triggers(conn, nsp, rel))
    return TableInfo(nsp, rel, oid, cols, key, source, triggers, row["owner"], row["owned"],
                     row["can_create_in_schema"], row["relkind"] == "p")


async def notify_triggers(conn: psycopg.AsyncConnection) -> list[TriggerInfo]:
    """Notify triggers this tool did not install, with the channels found in their source."""
    return [t for t in await list_triggers(conn) if t.is_other_notify]


def discovered_channels(triggers: list[TriggerInfo]) -> list[DiscoveredChannel]:
    """The distinct channels of these triggers, fixed ones first."""
    seen: list[DiscoveredChannel] = []
    for t in triggers:
        for ch in t.channels:
            if ch not in seen:
                seen.append(ch)
    return sorted(seen, key=lambda c: (c.kind != "fixed", c.name))

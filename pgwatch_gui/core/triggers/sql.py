"""TriggerSpec -> the exact SQL script that installs it (psycopg.sql throughout).

One PL/pgSQL function per table, never shared: named after the table's oid and marked
with it in COMMENT ON FUNCTION (core/triggers/functions.py reads the marks back),
generated for its spec with the columns written in
statically (NEW."id", never a lookup at run time), builds the payload by
concatenating constant JSON text with to_json() of each value. Constant parts (the
schema, table and column names) are JSON-encoded here, once, and passed as SQL
literals; every identifier goes through sql.Identifier.

Safety, inside the function:
- a payload of 8,000 bytes or more (pg_notify would raise and abort the user's
  write) is replaced by the keys-only payload with "truncated": true, and if even
  that is too big, by one without the key;
- a per-row channel that is NULL or longer than 63 bytes falls back to the prefix;
- any error while building the payload (a column dropped or renamed after the
  trigger was installed, a type without equality, ...) is caught and reported in
  the payload as "error": the user's INSERT, UPDATE, DELETE or TRUNCATE goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import sql

from pgwatch_gui import __version__
from pgwatch_gui.core.pg.names import MAX_IDENTIFIER_BYTES, qualified
from pgwatch_gui.core.triggers.body import Columnish, FunctionBody, comment_safe, sent_columns
from pgwatch_gui.core.triggers.spec import (
    TRIGGER_NAME,
    TRUNCATE_TRIGGER_NAME,
    FunctionMark,
    Stored,
    TriggerSpec,
    check_spec,
)

PGWATCH_SCHEMA = "pgwatch"
SCHEMA_COMMENT = ("pgwatch-gui: notify trigger functions. pgwatch-gui drops this schema "
                  "when its last trigger is removed and nothing else is left in it.")
LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class Placement:
    """Where the function goes, and whether the script creates schema pgwatch first."""

    schema: str = PGWATCH_SCHEMA
    create_schema: bool = True


def function_name(schema: str, table: str, table_oid: int, placement: Placement,
                  n: int = 1) -> str:
    """pgwatch."public.orders#16384" in schema pgwatch, else
    public."pgwatch_notify_orders#16384": the table's name when installed, for people, and
    its oid, which makes the name the table's own. A table renamed keeps its function; a
    new table under the old name gets another one, never the renamed table's.

    `n` > 1 gives the n-th alternative (`#16384-2`), for a name some other table's trigger
    still uses (a partition detached with its copy of the trigger, a dump restored under
    other oids). Long names are cut so that the oid always fits in 63 bytes."""
    tag = f"#{table_oid}" + (f"-{n}" if n > 1 else "")
    readable = f"{schema}.{table}" if placement.schema == PGWATCH_SCHEMA else \
        f"pgwatch_notify_{table}"
    raw = readable.encode("utf-8")[: MAX_IDENTIFIER_BYTES - len(tag)]
    return raw.decode("utf-8", "ignore") + tag


def _dollar_quote(body: str) -> str:
    tag, n = "$pgwatch$", 0
    while tag in body:
        n += 1
        tag = f"$pgwatch{n}$"
    return f"{tag}{body}{tag}"


def render_schema(placement: Placement) -> str:
    """CREATE SCHEMA pgwatch (and its marker comment), when the placement creates it."""
    if not placement.create_schema:
        return ""
    ident = sql.Identifier(placement.schema)
    return sql.SQL("CREATE SCHEMA IF NOT EXISTS {};\nCOMMENT ON SCHEMA {} IS {};\n").format(
        ident, ident, sql.Literal(SCHEMA_COMMENT)).as_string(None)


def render_table(spec: TriggerSpec, columns: Sequence[Columnish], *, key: Sequence[str] = (),
                 table_oid: int, placement: Placement = Placement(),
                 function: str | None = None,
                 drop_functions: Sequence[tuple[str, str]] = ()) -> str:
    """The function, triggers and comments for one table (no schema creation).

    `function` is the function's name in the placement's schema (function_name() when
    not given); `drop_functions` are dropped at the end (the table's former function)."""
    names = [c.name for c in columns]
    check_spec(spec, names, key)
    key_cols = tuple(spec.key_columns or key)
    fn_name = function or function_name(spec.schema, spec.table, table_oid, placement)
    fn = sql.Identifier(placement.schema, fn_name)
    table = sql.Identifier(spec.schema, spec.table)
    body = FunctionBody(spec, columns, key_cols).source()
    stored_spec = Stored(spec, key_cols, tuple(c.name for c in sent_columns(spec, columns)),
                         __version__)
    stored = stored_spec.to_json()
    mark = FunctionMark(table_oid, stored_spec).to_json()
    channel = spec.channel + (f"<{spec.channel_column}>" if spec.per_row_channel else "")
    title = (f"{qualified(spec.schema, spec.table)}: {', '.join(spec.events)} -> channel "
             f"{channel}, payload {spec.payload}")
    out = [
        sql.SQL("-- " + comment_safe(title) + "\n"),
        sql.SQL("CREATE OR REPLACE FUNCTION {}()\n RETURNS trigger\n LANGUAGE plpgsql\nAS ")
        .format(fn), sql.SQL(_dollar_quote(body)),
        sql.SQL(";\nCOMMENT ON FUNCTION {}() IS {};\n").format(fn, sql.Literal(mark)),
        sql.SQL("DROP TRIGGER IF EXISTS {} ON {};\n").format(sql.Identifier(TRIGGER_NAME), table),
        sql.SQL("DROP TRIGGER IF EXISTS {} ON {};\n").format(
            sql.Identifier(TRUNCATE_TRIGGER_NAME), table),
    ]
    row_events = spec.row_events
    if row_events:
        ev = []
        for e in row_events:
            if e == "UPDATE" and spec.update_of:
                ev.append(sql.SQL("UPDATE OF {}").format(
                    sql.SQL(", ").join(sql.Identifier(c) for c in spec.update_of)))
            else:
                ev.append(sql.SQL(e))
        # No CREATE TRIGGER ... WHEN: an error there fails the user's write. The condition
        # is evaluated inside the function's guarded block (body.py).
        out.append(sql.SQL(
            "CREATE TRIGGER {name}\n  AFTER {events} ON {table}\n  FOR EACH ROW\n"
            "  EXECUTE FUNCTION {fn}();\nCOMMENT ON TRIGGER {name} ON {table} IS {comment};\n"
        ).format(name=sql.Identifier(TRIGGER_NAME), events=sql.SQL(" OR ").join(ev),
                 table=table, fn=fn, comment=sql.Literal(stored)))
    if "TRUNCATE" in spec.events:
        out.append(sql.SQL(
            "CREATE TRIGGER {name}\n  AFTER TRUNCATE ON {table}\n  FOR EACH STATEMENT\n"
            "  EXECUTE FUNCTION {fn}();\nCOMMENT ON TRIGGER {name} ON {table} IS {comment};\n"
        ).format(name=sql.Identifier(TRUNCATE_TRIGGER_NAME), table=table, fn=fn,
                 comment=sql.Literal(stored)))
    for schema, name in drop_functions:
        if (schema, name) != (placement.schema, fn_name):
            out.append(sql.SQL("DROP FUNCTION IF EXISTS {}();\n").format(
                sql.Identifier(schema, name)))
    return sql.Composed(out).as_string(None)


def render(spec: TriggerSpec, columns: Sequence[Columnish], *, key: Sequence[str] = (),
           table_oid: int = 1, placement: Placement = Placement()) -> str:
    """The whole script installing `spec` on a table without this tool's trigger, to run in
    one transaction (core/triggers/manage.py plans against the real catalog)."""
    return (f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';\n" + render_schema(placement)
            + render_table(spec, columns, key=key, table_oid=table_oid, placement=placement))

"""TriggerSpec -> the exact SQL script that installs it (psycopg.sql throughout).

One PL/pgSQL function per table, generated for its spec with the columns written in
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

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import sql

from pgwatch_gui import __version__
from pgwatch_gui.core.pg.names import MAX_IDENTIFIER_BYTES, qualified
from pgwatch_gui.core.triggers.body import Columnish, FunctionBody, comment_safe, sent_columns
from pgwatch_gui.core.triggers.spec import (
    TRIGGER_NAME,
    TRUNCATE_TRIGGER_NAME,
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


def _fit(name: str, digest_of: str, force_hash: bool = False) -> str:
    """`name`, or if it is too long (or ambiguous), a cut of it plus a short hash."""
    raw = name.encode("utf-8")
    if len(raw) <= MAX_IDENTIFIER_BYTES and not force_hash:
        return name
    tag = "_" + hashlib.sha1(digest_of.encode("utf-8")).hexdigest()[:8]
    cut = raw[: MAX_IDENTIFIER_BYTES - len(tag)].decode("utf-8", "ignore")
    return cut + tag


def function_name(schema: str, table: str, placement: Placement) -> str:
    """pgwatch."public.orders" in schema pgwatch, else public."pgwatch_notify_orders"."""
    key = f"{schema}\x00{table}"
    if placement.schema == PGWATCH_SCHEMA:
        return _fit(f"{schema}.{table}", key, force_hash="." in schema + table)
    return _fit(f"pgwatch_notify_{table}", key)


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
                 placement: Placement = Placement(),
                 replaces: tuple[str, str] | None = None) -> str:
    """The function, triggers and comments for one table (no schema creation)."""
    names = [c.name for c in columns]
    check_spec(spec, names, key)
    key_cols = tuple(spec.key_columns or key)
    fn_name = function_name(spec.schema, spec.table, placement)
    fn = sql.Identifier(placement.schema, fn_name)
    table = sql.Identifier(spec.schema, spec.table)
    body = FunctionBody(spec, columns, key_cols).source()
    stored = Stored(spec, key_cols, tuple(c.name for c in sent_columns(spec, columns)),
                    __version__).to_json()
    channel = spec.channel + (f"<{spec.channel_column}>" if spec.per_row_channel else "")
    title = (f"{qualified(spec.schema, spec.table)}: {', '.join(spec.events)} -> channel "
             f"{channel}, payload {spec.payload}")
    out = [
        sql.SQL("-- " + comment_safe(title) + "\n"),
        sql.SQL("CREATE OR REPLACE FUNCTION {}()\n RETURNS trigger\n LANGUAGE plpgsql\nAS ")
        .format(fn), sql.SQL(_dollar_quote(body)),
        sql.SQL(";\n"),
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
    if replaces is not None and tuple(replaces) != (placement.schema, fn_name):
        out.append(sql.SQL("DROP FUNCTION IF EXISTS {}();\n").format(sql.Identifier(*replaces)))
    return sql.Composed(out).as_string(None)


def render(spec: TriggerSpec, columns: Sequence[Columnish], *, key: Sequence[str] = (),
           placement: Placement = Placement(), replaces: tuple[str, str] | None = None) -> str:
    """The whole script installing (or changing) `spec`, to run in one transaction."""
    return (f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';\n" + render_schema(placement)
            + render_table(spec, columns, key=key, placement=placement, replaces=replaces))

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
import json
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import sql

from pgwatch_gui import __version__
from pgwatch_gui.core.pg.names import MAX_IDENTIFIER_BYTES, qualified
from pgwatch_gui.core.pg.notify import MAX_CHANNEL_BYTES, MAX_PAYLOAD_BYTES
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
ERROR_TEXT_CHARS = 300


class _Columnish:  # the attributes render() reads; core.catalog.Column has them
    name: str
    not_null: bool
    comparable: bool


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


def _comment_safe(text: str) -> str:
    """Text for a `--` comment line: no control characters that could end the comment."""
    return "".join(ch if ch >= " " and ch != "\x7f" else "?" for ch in text)


def _j(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _concat(parts: Sequence[object], indent: str) -> sql.Composable:
    """Parts (constant JSON text or SQL expressions) joined with ||, one per line."""
    merged: list[object] = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        elif p != "":
            merged.append(p)
    items = [sql.Literal(p) if isinstance(p, str) else p for p in merged]
    return sql.SQL("\n" + indent + "|| ").join(items)


class _Body:
    """Builds the PL/pgSQL source of one spec's function."""

    def __init__(self, spec: TriggerSpec, columns: Sequence[_Columnish], key: Sequence[str]):
        self.spec = spec
        excluded = set(spec.exclude)
        self.out_cols = [c for c in columns if c.name not in excluded]
        by_name = {c.name: c for c in columns}
        self.key = [by_name[k] for k in key]
        self.after_op = '","schema":' + _j(spec.schema) + ',"table":' + _j(spec.table)

    # -- expressions ---------------------------------------------------------------
    @staticmethod
    def value(rec: str, col: _Columnish) -> sql.Composable:
        expr = sql.SQL("to_json({}.{})::text").format(sql.SQL(rec), sql.Identifier(col.name))
        if col.not_null:
            return expr
        return sql.SQL("coalesce({}, 'null')").format(expr)

    def obj(self, rec: str, cols: Sequence[_Columnish]) -> list[object]:
        if not cols:
            return ["{}"]
        parts: list[object] = []
        for i, c in enumerate(cols):
            parts += [("{" if i == 0 else ",") + _j(c.name) + ":", self.value(rec, c)]
        return [*parts, "}"]

    def key_parts(self, rec: str) -> list[object]:
        if not self.key:
            return [',"key":null']
        return [',"key":', *self.obj(rec, self.key)]

    @staticmethod
    def tail(extra: str = "") -> list[object]:
        return [extra + ',"txid":', sql.SQL("txid_current()::text"), ',"ts":',
                sql.SQL("to_json(now())::text"), "}"]

    def op_head(self, op: str | None) -> list[object]:
        """The envelope's start; op None: TG_OP at run time (in shared branches)."""
        if op is not None:
            return ['{"v":1,"op":"' + op + self.after_op]
        return ['{"v":1,"op":"', sql.SQL("TG_OP"), self.after_op]

    @staticmethod
    def distinct(col: _Columnish) -> sql.Composable:
        ident = sql.Identifier(col.name)
        if col.comparable:
            return sql.SQL("NEW.{0} IS DISTINCT FROM OLD.{0}").format(ident)
        return sql.SQL("NEW.{0}::text IS DISTINCT FROM OLD.{0}::text").format(ident)

    # -- statements ----------------------------------------------------------------
    def assign(self, var: str, parts: Sequence[object], indent: str) -> sql.Composable:
        return sql.SQL("{}{} := {};\n").format(
            sql.SQL(indent), sql.SQL(var), _concat(parts, indent + "  "))

    def channel_stmt(self, rec: str | None, indent: str) -> list[sql.Composable]:
        if not self.spec.per_row_channel:
            return []
        if rec is None:
            expr: sql.Composable = sql.Literal(self.spec.channel)
        else:
            expr = sql.SQL("{} || {}.{}::text").format(
                sql.Literal(self.spec.channel), sql.SQL(rec),
                sql.Identifier(self.spec.channel_column))
        return [sql.SQL("{}channel := {};\n").format(sql.SQL(indent), expr)]

    def branch(self, op: str, indent: str) -> list[sql.Composable]:
        mode = self.spec.payload
        rec = None if op == "TRUNCATE" else ("OLD" if op == "DELETE" else "NEW")
        stmts = self.channel_stmt(rec, indent)
        parts = self.op_head(op)
        if rec is None:
            parts += [',"key":null', *self.tail()]
            return [*stmts, self.assign("payload", parts, indent)]
        parts += self.key_parts(rec)
        if mode in ("row", "diff") and op == "INSERT":
            parts += [',"row":', *self.obj("NEW", self.out_cols)]
        elif mode in ("row", "diff") and op == "DELETE":
            parts += [',"old":', *self.obj("OLD", self.out_cols)]
        elif mode == "row" and op == "UPDATE":
            parts += [',"row":', *self.obj("NEW", self.out_cols),
                      ',"old":', *self.obj("OLD", self.out_cols), ',"changed":']
            if self.out_cols:
                cases = sql.SQL(", ").join(
                    sql.SQL("CASE WHEN {} THEN {} END").format(
                        self.distinct(c), sql.Literal(c.name))
                    for c in self.out_cols)
                parts.append(sql.SQL("to_json(array_remove(ARRAY[{}], NULL))::text").format(cases))
            else:
                parts.append("[]")
        elif mode == "diff" and op == "UPDATE":
            stmts += [sql.SQL("{}changed := ''; new_part := ''; old_part := '';\n")
                      .format(sql.SQL(indent))]
            for c in self.out_cols:
                name = sql.Literal("," + _j(c.name))
                inner = indent + "  "
                stmts.append(sql.SQL(
                    "{i}IF {cond} THEN\n"
                    "{j}changed := changed || {name};\n"
                    "{j}new_part := new_part || {named} || {new};\n"
                    "{j}old_part := old_part || {named} || {old};\n"
                    "{i}END IF;\n").format(
                        i=sql.SQL(indent), j=sql.SQL(inner), cond=self.distinct(c), name=name,
                        named=sql.Literal("," + _j(c.name) + ":"),
                        new=self.value("NEW", c), old=self.value("OLD", c)))
            parts += [',"row":{', sql.SQL("substr(new_part, 2)"), '},"old":{',
                      sql.SQL("substr(old_part, 2)"), '},"changed":[',
                      sql.SQL("substr(changed, 2)"), "]"]
        parts += self.tail()
        return [*stmts, self.assign("payload", parts, indent)]

    def dispatch(self, indent: str) -> list[sql.Composable]:
        events = self.spec.events
        if len(events) == 1:
            return self.branch(events[0], indent)
        out: list[sql.Composable] = []
        for i, op in enumerate(events):
            last = i == len(events) - 1
            word = "ELSE" if last else ("IF" if i == 0 else "ELSIF")
            cond = "" if last else f" TG_OP = '{op}' THEN"
            out.append(sql.SQL(f"{indent}{word}{cond}{' -- ' + op if last else ''}\n"))
            out += self.branch(op, indent + "  ")
        out.append(sql.SQL(f"{indent}END IF;\n"))
        return out

    def fallback(self, indent: str) -> list[sql.Composable]:
        """Payload too big: the key only (row/diff modes), then nothing but the envelope."""
        limit = sql.Literal(MAX_PAYLOAD_BYTES + 1)
        minimal = [*self.op_head(None), ',"key":null', *self.tail(',"truncated":true')]
        inner = indent + "  "
        out = [sql.SQL("{}IF octet_length(payload) >= {} THEN\n").format(sql.SQL(indent), limit)]
        if self.spec.payload != "keys" and self.key:
            recs = list(self.spec.row_events)
            head = self.op_head(None)

            def keys(rec: str, ind: str) -> sql.Composable:
                parts = [*head, *self.key_parts(rec), *self.tail(',"truncated":true')]
                return self.assign("payload", parts, ind)

            if "DELETE" in recs and len(recs) > 1:
                out += [sql.SQL(f"{inner}IF TG_OP = 'DELETE' THEN\n"), keys("OLD", inner + "  "),
                        sql.SQL(f"{inner}ELSE\n"), keys("NEW", inner + "  "),
                        sql.SQL(f"{inner}END IF;\n")]
            else:
                out.append(keys("OLD" if recs == ["DELETE"] else "NEW", inner))
            out += [sql.SQL("{}IF octet_length(payload) >= {} THEN\n").format(
                        sql.SQL(inner), limit),
                    self.assign("payload", minimal, inner + "  "), sql.SQL(f"{inner}END IF;\n")]
        else:
            out.append(self.assign("payload", minimal, inner))
        out.append(sql.SQL(f"{indent}END IF;\n"))
        return out

    def source(self) -> str:
        spec = self.spec
        per_row = spec.per_row_channel
        decl = ["  payload text;\n"]
        if per_row:
            decl.append("  channel text;\n")
        if spec.payload == "diff" and "UPDATE" in spec.events:
            decl.append("  changed text;\n  new_part text;\n  old_part text;\n")
        error = [*self.op_head(None), ',"key":null,"error":',
                 sql.SQL("to_json(SQLSTATE || ': ' || left(SQLERRM, {}))::text").format(
                     sql.Literal(ERROR_TEXT_CHARS)), *self.tail()]
        body: list[sql.Composable] = [
            sql.SQL("\n-- " + _comment_safe(
                f"pgwatch-gui notify trigger function for {qualified(spec.schema, spec.table)}, "
                f"payload mode {spec.payload}.") + "\n"
                "-- Generated from the spec in COMMENT ON TRIGGER pgwatch_notify: change it "
                "with pgwatch-gui.\n"
                "-- Payloads stay under 8,000 bytes (bigger ones become the key with "
                '"truncated": true)\n'
                "-- and errors become an \"error\" payload: a write never fails because of "
                "this function.\n"),
            sql.SQL("DECLARE\n" + "".join(decl) + "BEGIN\n  BEGIN\n"),
            *self.dispatch("    "),
        ]
        if per_row:
            body.append(sql.SQL(
                "    IF channel IS NULL OR octet_length(channel) > {} THEN\n"
                "      channel := {};\n    END IF;\n").format(
                    sql.Literal(MAX_CHANNEL_BYTES), sql.Literal(spec.channel)))
        body += self.fallback("    ")
        body.append(sql.SQL("  EXCEPTION WHEN OTHERS THEN\n"))
        if per_row:
            body.append(sql.SQL("    channel := coalesce(channel, {});\n").format(
                sql.Literal(spec.channel)))
        body.append(self.assign("payload", error, "    "))
        channel = sql.SQL("channel") if per_row else sql.Literal(spec.channel)
        body.append(sql.SQL("  END;\n  PERFORM pg_notify({}, payload);\n  RETURN NULL;\nEND\n")
                    .format(channel))
        return sql.Composed(body).as_string(None)


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


def render_table(spec: TriggerSpec, columns: Sequence[_Columnish], *, key: Sequence[str] = (),
                 placement: Placement = Placement(),
                 replaces: tuple[str, str] | None = None) -> str:
    """The function, triggers and comments for one table (no schema creation)."""
    names = [c.name for c in columns]
    check_spec(spec, names, key)
    key_cols = tuple(spec.key_columns or key)
    fn_name = function_name(spec.schema, spec.table, placement)
    fn = sql.Identifier(placement.schema, fn_name)
    table = sql.Identifier(spec.schema, spec.table)
    body = _Body(spec, columns, key_cols).source()
    stored = Stored(spec, key_cols, tuple(c.name for c in columns if c.name not in spec.exclude),
                    __version__).to_json()
    channel = spec.channel + (f"<{spec.channel_column}>" if spec.per_row_channel else "")
    title = (f"{qualified(spec.schema, spec.table)}: {', '.join(spec.events)} -> channel "
             f"{channel}, payload {spec.payload}")
    out = [
        sql.SQL("-- " + _comment_safe(title) + "\n"),
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
        when = sql.SQL("\n  WHEN ({})").format(sql.SQL(spec.when)) if spec.when else sql.SQL("")
        out.append(sql.SQL(
            "CREATE TRIGGER {name}\n  AFTER {events} ON {table}\n  FOR EACH ROW{when}\n"
            "  EXECUTE FUNCTION {fn}();\nCOMMENT ON TRIGGER {name} ON {table} IS {comment};\n"
        ).format(name=sql.Identifier(TRIGGER_NAME), events=sql.SQL(" OR ").join(ev),
                 table=table, when=when, fn=fn, comment=sql.Literal(stored)))
    if "TRUNCATE" in spec.events:
        out.append(sql.SQL(
            "CREATE TRIGGER {name}\n  AFTER TRUNCATE ON {table}\n  FOR EACH STATEMENT\n"
            "  EXECUTE FUNCTION {fn}();\nCOMMENT ON TRIGGER {name} ON {table} IS {comment};\n"
        ).format(name=sql.Identifier(TRUNCATE_TRIGGER_NAME), table=table, fn=fn,
                 comment=sql.Literal(stored)))
    if replaces is not None and tuple(replaces) != (placement.schema, fn_name):
        out.append(sql.SQL("DROP FUNCTION IF EXISTS {}();\n").format(sql.Identifier(*replaces)))
    return sql.Composed(out).as_string(None)


def render(spec: TriggerSpec, columns: Sequence[_Columnish], *, key: Sequence[str] = (),
           placement: Placement = Placement(), replaces: tuple[str, str] | None = None) -> str:
    """The whole script installing (or changing) `spec`, to run in one transaction."""
    return (f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';\n" + render_schema(placement)
            + render_table(spec, columns, key=key, placement=placement, replaces=replaces))

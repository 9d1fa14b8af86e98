"""The PL/pgSQL source of one table's notify function (psycopg.sql throughout).

The function is generated for its spec with the columns written in statically
(NEW."id", never a lookup at run time) and builds the payload by concatenating
constant JSON text with to_json() of each value. Constant parts (the schema, table and
column names) are JSON-encoded here, once, and passed as SQL literals; every
identifier goes through sql.Identifier. What the function guarantees is said in
core/triggers/sql.py, which wraps it into the install script.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from psycopg import sql

from pgwatch_gui.core.pg.names import qualified
from pgwatch_gui.core.pg.notify import MAX_CHANNEL_BYTES, MAX_PAYLOAD_BYTES
from pgwatch_gui.core.triggers.spec import TriggerSpec

ERROR_TEXT_CHARS = 300


class Columnish:  # the attributes render() reads; core.catalog.Column has them
    name: str
    not_null: bool
    comparable: bool


def comment_safe(text: str) -> str:
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


class FunctionBody:
    """Builds the PL/pgSQL source of one spec's function."""

    def __init__(self, spec: TriggerSpec, columns: Sequence[Columnish], key: Sequence[str]):
        self.spec = spec
        excluded = set(spec.exclude)
        self.out_cols = [c for c in columns if c.name not in excluded]
        by_name = {c.name: c for c in columns}
        self.key = [by_name[k] for k in key]
        self.after_op = '","schema":' + _j(spec.schema) + ',"table":' + _j(spec.table)

    # -- expressions ---------------------------------------------------------------
    @staticmethod
    def value(rec: str, col: Columnish) -> sql.Composable:
        expr = sql.SQL("to_json({}.{})::text").format(sql.SQL(rec), sql.Identifier(col.name))
        if col.not_null:
            return expr
        return sql.SQL("coalesce({}, 'null')").format(expr)

    def obj(self, rec: str, cols: Sequence[Columnish]) -> list[object]:
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
    def distinct(col: Columnish) -> sql.Composable:
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
            sql.SQL("\n-- " + comment_safe(
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

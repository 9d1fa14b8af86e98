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
from collections.abc import Callable, Sequence

from psycopg import sql

from pgwatch_gui.core.pg.names import qualified
from pgwatch_gui.core.pg.notify import MAX_CHANNEL_BYTES, MAX_PAYLOAD_BYTES
from pgwatch_gui.core.triggers.spec import TriggerSpec

ERROR_TEXT_CHARS = 300


class Columnish:  # the attributes render() reads; core.catalog.Column has them
    name: str
    type: str  # format_type(), e.g. "text", "character varying(20)"
    not_null: bool
    comparable: bool


# Types whose JSON is at least as long as octet_length() says, which reads the stored
# size without fetching or decompressing the value: a row whose text columns alone
# pass the payload limit is sent as its key at once, without building its JSON (96 MB
# of text took 0.7 s and 400 MB of memory per row version to turn into JSON, only to
# be thrown away).
_SIZED_TYPES = {"text": "{}", "character varying": "{}", "character": "{}", "bytea": "{}",
                "json": "{}::text"}


def _sized(col: Columnish) -> str | None:
    kind = getattr(col, "type", "") or ""
    if kind.endswith("]"):
        return None
    return _SIZED_TYPES.get(kind.split("(", 1)[0].strip())


def sent_columns(spec: TriggerSpec, columns: Sequence[Columnish]) -> list[Columnish]:
    """The columns a row payload carries: not excluded, and not virtual generated columns
    (PostgreSQL 18 never computes those for a trigger: NEW holds NULL)."""
    excluded = set(spec.exclude)
    return [c for c in columns
            if c.name not in excluded and getattr(c, "generated", "") != "v"]


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


# The payload's number within the transaction: PostgreSQL drops a notification that is
# identical to one already queued by the same transaction (two identical updates of a
# row, rows of a table without a key, two TRUNCATEs), and "seq" keeps each one distinct.
# A transaction-local setting counts (set_config(..., true) ends with the transaction);
# it is taken first, so an error later in the block still has a number. A rolled-back
# block (the error path) undoes set_config: the handler sets it again, and starts over
# from 0 when the setting was not a number (someone set it by hand).
# The transaction's id and start (the payload's "txid" and "ts") are the same for all its
# changes: the second change writes them as JSON into a second setting, and the others
# read that text, cheaper than txid_current() and formatting now() for every row (the
# first computes them: a transaction of one change sets no second setting).
# set_config and pg_notify are called in expressions, not with PERFORM: PERFORM runs a
# query through SPI, and two PERFORMs cost more than the rest of a keys payload.
SEQ_SETTING = "pgwatch_gui.seq"
TX_SETTING = "pgwatch_gui.tx"
_TX_JSON = "',\"txid\":' || txid_current()::text || ',\"ts\":' || to_json(now())::text"
_SEQ_NEXT = (f"    seq := set_config('{SEQ_SETTING}', (coalesce(nullif(current_setting("
             f"'{SEQ_SETTING}', true), ''), '0')::int8 + 1)::text, true);\n")
_TX_READ = (f"    IF seq = 1 THEN  -- the transaction's first change (perhaps its only one)\n"
            f"      tx := {_TX_JSON};\n"
            f"    ELSE\n      tx := current_setting('{TX_SETTING}', true);\n"
            f"      IF tx IS NULL OR tx = '' THEN  -- its second: kept for the others\n"
            f"        tx := set_config('{TX_SETTING}', {_TX_JSON}, true);\n"
            f"      END IF;\n    END IF;\n")
_SEQ_KEEP = (f"    seq := set_config('{SEQ_SETTING}', coalesce(seq, 0)::text, true);\n"
             f"    tx := coalesce(nullif(tx, ''), {_TX_JSON});\n")


class FunctionBody:
    """Builds the PL/pgSQL source of one spec's function."""

    def __init__(self, spec: TriggerSpec, columns: Sequence[Columnish], key: Sequence[str]):
        self.spec = spec
        self.out_cols = sent_columns(spec, columns)
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
        """The envelope's end: "seq", then "txid" and "ts" as the variable tx has them."""
        return [extra + ',"seq":', sql.SQL("seq::text"), sql.SQL("tx"), "}"]

    def op_head(self, op: str | None) -> list[object]:
        """The envelope's start; op None: TG_OP at run time (in shared branches)."""
        if op is not None:
            return ['{"v":1,"op":"' + op + self.after_op]
        return ['{"v":1,"op":"', sql.SQL("TG_OP"), self.after_op]

    @staticmethod
    def size_guard(recs: Sequence[str], cols: Sequence[Columnish]) -> sql.Composable | None:
        """`sum of stored sizes < limit` over the text-like columns, or None."""
        terms = []
        for rec in recs:
            for c in cols:
                form = _sized(c)
                if form is not None:
                    value = sql.SQL(form).format(sql.SQL(f"{rec}.{{}}").format(
                        sql.Identifier(c.name)))
                    cast = "::int8" if not terms else ""  # 3 x 1 GB passes int4
                    terms.append(sql.SQL("coalesce(octet_length({}){}, 0)").format(
                        value, sql.SQL(cast)))
        if not terms:
            return None
        return sql.SQL("{} < {}").format(sql.SQL(" + ").join(terms),
                                         sql.Literal(MAX_PAYLOAD_BYTES + 1))

    @staticmethod
    def guarded(guard: sql.Composable | None, stmt: Callable[[str], sql.Composable],
                indent: str, var: str = "payload") -> list[sql.Composable]:
        """stmt(indent) when the guard holds, else `var` NULL: the payload becomes NULL and
        the fallback sends the key."""
        if guard is None:
            return [stmt(indent)]
        return [sql.SQL("{}IF {} THEN  -- else too big to send\n").format(sql.SQL(indent), guard),
                stmt(indent + "  "),
                sql.SQL(f"{indent}ELSE\n{indent}  {var} := NULL;\n{indent}END IF;\n")]

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
        guard = None
        if mode in ("row", "diff") and op == "INSERT":
            guard = self.size_guard(["NEW"], self.out_cols)
            parts += [',"row":', *self.obj("NEW", self.out_cols)]
        elif mode in ("row", "diff") and op == "DELETE":
            guard = self.size_guard(["OLD"], self.out_cols)
            parts += [',"old":', *self.obj("OLD", self.out_cols)]
        elif mode == "row" and op == "UPDATE":
            guard = self.size_guard(["NEW", "OLD"], self.out_cols)
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
                def parts_of(ind: str, c: Columnish = c) -> sql.Composable:
                    return sql.SQL(
                        "{j}new_part := new_part || {named} || {new};\n"
                        "{j}old_part := old_part || {named} || {old};\n").format(
                            j=sql.SQL(ind), named=sql.Literal("," + _j(c.name) + ":"),
                            new=self.value("NEW", c), old=self.value("OLD", c))

                # a changed value too big for a payload: new_part NULL, the key is sent
                values = self.guarded(self.size_guard(["NEW", "OLD"], [c]), parts_of, inner,
                                      "new_part")
                stmts += [sql.SQL("{i}IF {cond} THEN\n{j}changed := changed || {name};\n")
                          .format(i=sql.SQL(indent), j=sql.SQL(inner), cond=self.distinct(c),
                                  name=name),
                          *values, sql.SQL("{}END IF;\n").format(sql.SQL(indent))]
            parts += [',"row":{', sql.SQL("substr(new_part, 2)"), '},"old":{',
                      sql.SQL("substr(old_part, 2)"), '},"changed":[',
                      sql.SQL("substr(changed, 2)"), "]"]
        parts += self.tail()
        return [*stmts, *self.guarded(guard, lambda ind: self.assign("payload", parts, ind),
                                      indent)]

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
        out = [sql.SQL("{}IF payload IS NULL OR octet_length(payload) >= {} THEN\n").format(
            sql.SQL(indent), limit)]
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
        decl = ["  payload text;\n  seq int8;\n  tx text;\n"]
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
            sql.SQL(_SEQ_NEXT),
            *self.when("    "),
            sql.SQL(_TX_READ),
            *self.dispatch("    "),
            *self.fallback("    "),
            sql.SQL("  EXCEPTION WHEN OTHERS THEN\n"),
            sql.SQL(_SEQ_KEEP),
            self.assign("payload", error, "    "),
            sql.SQL("  END;\n"),
        ]
        if per_row:  # after the guarded block: whatever failed in it, pg_notify gets a name
            body.append(sql.SQL(
                "  IF channel IS NULL OR octet_length(channel) > {} THEN\n"
                "    channel := {};\n  END IF;\n").format(
                    sql.Literal(MAX_CHANNEL_BYTES), sql.Literal(spec.channel)))
        channel = sql.SQL("channel") if per_row else sql.Literal(spec.channel)
        body.append(sql.SQL("  IF pg_notify({}, payload) IS NULL THEN  -- an expression: cheaper "
                            "than PERFORM\n    NULL;\n  END IF;\n  RETURN NULL;\nEND\n")
                    .format(channel))
        return sql.Composed(body).as_string(None)

    def when(self, indent: str) -> list[sql.Composable]:
        """The WHEN condition, evaluated inside the guarded block: an error in it (a cast
        that fails on one row) becomes an "error" payload, never the user's error. In
        parentheses, so that a THEN inside it (CASE) cannot end the IF."""
        if not self.spec.when:
            return []
        check = sql.SQL("IF ({}) IS NOT TRUE THEN  -- the WHEN condition\n"
                        "{}  RETURN NULL;\n{}END IF;\n")
        if "TRUNCATE" not in self.spec.events:
            return [sql.SQL(indent), check.format(sql.SQL(self.spec.when), sql.SQL(indent),
                                                  sql.SQL(indent))]
        inner = indent + "  "
        return [sql.SQL(f"{indent}IF TG_OP <> 'TRUNCATE' THEN\n{inner}"),
                check.format(sql.SQL(self.spec.when), sql.SQL(inner), sql.SQL(inner)),
                sql.SQL(f"{indent}END IF;\n")]

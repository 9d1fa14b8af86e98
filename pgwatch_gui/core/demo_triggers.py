"""Notify triggers for the demo tables, producing DESIGN.md's envelope version 1.

A stand-in for core.triggers (which installs what the user chooses): the demo needs a
few triggers in each payload mode, generated the same way, one function per table
with the table's columns written in statically. Functions live in schema ``pgwatch``,
triggers are named ``pgwatch_notify``. A payload that would reach 8,000 bytes falls
back to ``keys`` with ``"truncated": true``, so a write never fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import sql

FUNCTION_SCHEMA = "pgwatch"
TRIGGER_NAME = "pgwatch_notify"
MODES = ("keys", "row", "diff")


@dataclass(frozen=True)
class DemoTrigger:
    schema: str
    table: str
    channel: str  # the fixed channel, or the prefix when channel_column is set
    mode: str = "keys"
    channel_column: str | None = None
    exclude: tuple[str, ...] = ()
    key: tuple[str, ...] = ("id",)

    @property
    def function_name(self) -> str:
        return f"notify_{self.schema}_{self.table}"[:63]


def _obj(columns: Sequence[str], rec: str) -> sql.Composed:
    """json_build_object('a', NEW."a", ...) for the given record name."""
    parts = [
        sql.SQL("{}, {}.{}").format(sql.Literal(c), sql.SQL(rec), sql.Identifier(c))
        for c in columns
    ]
    return sql.SQL("json_build_object({})").format(sql.SQL(", ").join(parts))


def _envelope(rec: str, spec: DemoTrigger, extra: sql.Composable | None) -> sql.Composed:
    base = sql.SQL(
        "'v', 1, 'op', TG_OP, 'schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME, "
        "'key', {key}, 'txid', txid_current(), 'ts', clock_timestamp()"
    ).format(key=_obj(spec.key, rec))
    if extra is None:
        return sql.SQL("json_build_object({})::text").format(base)
    return sql.SQL("json_build_object({}, {})::text").format(base, extra)


def _diff_block(columns: Sequence[str]) -> sql.Composed:
    lines = [
        sql.SQL(
            "IF NEW.{c} IS DISTINCT FROM OLD.{c} THEN changed := changed || {lit}::text; "
            "new_part := new_part || jsonb_build_object({lit}, NEW.{c}); "
            "old_part := old_part || jsonb_build_object({lit}, OLD.{c}); END IF;"
        ).format(c=sql.Identifier(c), lit=sql.Literal(c))
        for c in columns
    ]
    return sql.SQL("\n    ").join(lines)


def render(spec: DemoTrigger, columns: Sequence[str]) -> sql.Composed:
    """The SQL script that (re)creates the function and trigger for one table."""
    if spec.mode not in MODES:
        raise ValueError(f"unknown payload mode {spec.mode!r}")
    cols = [c for c in columns if c not in spec.exclude]
    if spec.channel_column:
        channel = sql.SQL("{} || COALESCE(NEW.{c}, OLD.{c})::text").format(
            sql.Literal(spec.channel), c=sql.Identifier(spec.channel_column))
        channel_del = sql.SQL("{} || OLD.{}::text").format(
            sql.Literal(spec.channel), sql.Identifier(spec.channel_column))
    else:
        channel = channel_del = sql.Literal(spec.channel)
    if spec.mode == "keys":
        ins = upd = _envelope("NEW", spec, None)
        dele = _envelope("OLD", spec, None)
    else:
        ins = _envelope("NEW", spec, sql.SQL("'row', {}").format(_obj(cols, "NEW")))
        dele = _envelope("OLD", spec, sql.SQL("'old', {}").format(_obj(cols, "OLD")))
        if spec.mode == "row":
            upd = _envelope("NEW", spec, sql.SQL("'row', {}, 'old', {}").format(
                _obj(cols, "NEW"), _obj(cols, "OLD")))
        else:
            upd = _envelope("NEW", spec, sql.SQL(
                "'row', new_part, 'old', old_part, 'changed', to_json(changed)"))
    truncated_new = sql.SQL("json_build_object('v', 1, 'op', TG_OP, 'schema', TG_TABLE_SCHEMA, "
                            "'table', TG_TABLE_NAME, 'key', {}, 'truncated', true, "
                            "'txid', txid_current(), 'ts', clock_timestamp())::text")
    fn = sql.Identifier(FUNCTION_SCHEMA, spec.function_name)
    table = sql.Identifier(spec.schema, spec.table)
    body = sql.SQL("""
CREATE SCHEMA IF NOT EXISTS {fschema};
CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $pgwatch$
DECLARE
  payload text;
  channel text;
  changed text[] := '{{}}';
  new_part jsonb := '{{}}';
  old_part jsonb := '{{}}';
BEGIN
  IF TG_OP = 'DELETE' THEN
    channel := {channel_del};
    payload := {dele};
    IF octet_length(payload) >= 8000 THEN payload := {trunc_old}; END IF;
    PERFORM pg_notify(channel, payload);
    RETURN OLD;
  END IF;
  channel := {channel};
  IF TG_OP = 'INSERT' THEN
    payload := {ins};
  ELSE
    {diff}
    payload := {upd};
  END IF;
  IF octet_length(payload) >= 8000 THEN payload := {trunc_new}; END IF;
  PERFORM pg_notify(channel, payload);
  RETURN NEW;
END
$pgwatch$;
DROP TRIGGER IF EXISTS {trig} ON {table};
CREATE TRIGGER {trig} AFTER INSERT OR UPDATE OR DELETE ON {table}
  FOR EACH ROW EXECUTE FUNCTION {fn}();
COMMENT ON TRIGGER {trig} ON {table} IS {comment};
""").format(
        fschema=sql.Identifier(FUNCTION_SCHEMA), fn=fn, table=table,
        trig=sql.Identifier(TRIGGER_NAME), channel=channel, channel_del=channel_del,
        ins=ins, upd=upd, dele=dele,
        diff=_diff_block(cols) if spec.mode == "diff" else sql.SQL(""),
        trunc_new=truncated_new.format(_obj(spec.key, "NEW")),
        trunc_old=truncated_new.format(_obj(spec.key, "OLD")),
        comment=sql.Literal(_comment(spec)),
    )
    return body


def _comment(spec: DemoTrigger) -> str:
    import json

    return "pgwatch " + json.dumps({
        "v": 1, "table": [spec.schema, spec.table], "events": ["INSERT", "UPDATE", "DELETE"],
        "channel": spec.channel, "channel_column": spec.channel_column, "payload": spec.mode,
        "exclude": list(spec.exclude), "key": list(spec.key), "installed_by": "demo",
    })

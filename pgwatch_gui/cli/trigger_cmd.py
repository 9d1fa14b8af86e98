"""`pgwatch-gui trigger install|remove|list|show`: manage notify triggers from a shell."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg

from pgwatch_gui.cli.common import (
    CliError,
    OneLineParser,
    add_connection_args,
    resolve_conninfo,
    resolve_tables,
)
from pgwatch_gui.core.pg.connection import connect, one_line, use_selector_loop_policy
from pgwatch_gui.core.pg.names import IdentifierError, parse_identifier, parse_identifier_list
from pgwatch_gui.core.triggers import catalog, functions
from pgwatch_gui.core.triggers import manage as triggers
from pgwatch_gui.core.triggers.spec import EVENTS, PAYLOAD_MODES, TriggerSpec


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "trigger", help="install, list or remove notify triggers",
        description="Install, list or remove the notify triggers pgwatch-gui generates.")
    actions = p.add_subparsers(dest="trigger_action", metavar="ACTION", required=True,
                               parser_class=OneLineParser)

    inst = actions.add_parser(
        "install", help="install (or change) a notify trigger on tables",
        description="Install a notify trigger on each table, or change the one already "
        "there. Everything runs in one transaction. Names follow SQL rules: quote "
        'mixed case and spaces, e.g. --table \'public."Order Items"\'.')
    add_connection_args(inst)
    inst.add_argument("--table", action="append", required=True, metavar="SCHEMA.TABLE",
                      help="table to install on, in SQL form or as the event table shows it "
                      "(repeatable)")
    inst.add_argument("--events", default="insert,update,delete",
                      help="comma-separated: insert,update,delete,truncate "
                      "(default insert,update,delete)")
    ch = inst.add_mutually_exclusive_group()
    ch.add_argument("--channel", help="fixed channel name, exactly as LISTEN will spell it "
                    "(default pgwatch)")
    ch.add_argument("--channel-prefix", metavar="PREFIX",
                    help="per-row channel: PREFIX followed by the value of --channel-column")
    inst.add_argument("--channel-column", metavar="COL", help="column for per-row channels")
    inst.add_argument("--payload", choices=PAYLOAD_MODES, default="keys",
                      help="keys (default): operation and key; row: the whole row (and the "
                      "old one); diff: only the changed columns of an UPDATE")
    inst.add_argument("--exclude", default="", metavar="COL,...",
                      help="columns that must never appear in a payload")
    inst.add_argument("--when", metavar="EXPR", help="SQL condition, e.g. 'NEW.status <> "
                      "OLD.status' (only for UPDATE, or checked by the server)")
    inst.add_argument("--update-of", default="", metavar="COL,...",
                      help="fire on UPDATE only when one of these columns is set")
    inst.add_argument("--key", default="", metavar="COL,...",
                      help="key columns (default: the primary key, else the replica identity)")
    inst.add_argument("--dry-run", action="store_true",
                      help="print the script (one transaction, for psql -v ON_ERROR_STOP=1 -f) "
                      "and change nothing")
    inst.set_defaults(func=run_install)

    rem = actions.add_parser("remove", help="remove notify triggers installed by pgwatch-gui",
                             description="Remove this tool's triggers and their functions, "
                             "in one transaction.")
    add_connection_args(rem)
    which = rem.add_mutually_exclusive_group(required=True)
    which.add_argument("--table", action="append", metavar="SCHEMA.TABLE",
                       help="table to remove the trigger from (repeatable)")
    which.add_argument("--all", action="store_true",
                       help="remove every trigger pgwatch-gui installed in the database, and "
                       "its functions that no trigger uses any more (leftovers)")
    rem.add_argument("--dry-run", action="store_true",
                     help="print the script (one transaction) and change nothing")
    rem.set_defaults(func=run_remove)

    lst = actions.add_parser("list", help="list notify triggers",
                             description="List this tool's triggers with their specs, its "
                             "leftover functions (whose table or trigger is gone), and "
                             "other notify triggers with the channels found in their source.")
    add_connection_args(lst)
    lst.add_argument("--format", choices=("text", "json"), default="text")
    lst.set_defaults(func=run_list)

    show = actions.add_parser("show", help="show the installed trigger function of a table")
    add_connection_args(show)
    show.add_argument("--table", required=True, metavar="SCHEMA.TABLE")
    show.set_defaults(func=run_show)


def parse_tables(args: argparse.Namespace, texts: list[str]) -> list[tuple[str, str]]:
    """--table values, in SQL form or as the event table shows them, as the server's tables."""
    return resolve_tables(args, texts)


def _idents(option: str, text: str) -> tuple[str, ...]:
    try:
        return tuple(parse_identifier_list(text))
    except IdentifierError as exc:
        raise CliError(f"{option}: {exc}") from None


def _events(text: str) -> tuple[str, ...]:
    words = [w.strip().upper() for w in text.split(",") if w.strip()]
    bad = [w for w in words if w not in EVENTS]
    if bad or not words:
        raise CliError(f"--events: unknown event {bad[0].lower()!r}" if bad
                       else "--events: name at least one event")
    return tuple(words)


def build_spec(args: argparse.Namespace, schema: str, table: str) -> TriggerSpec:
    if args.channel_prefix is not None and not args.channel_column:
        raise CliError("--channel-prefix needs --channel-column")
    if args.channel_column and args.channel_prefix is None:
        raise CliError("--channel-column needs --channel-prefix")
    column = None
    if args.channel_column:
        try:
            column = parse_identifier(args.channel_column)
        except IdentifierError as exc:
            raise CliError(f"--channel-column: {exc}") from None
    kw: dict[str, Any] = {}
    if args.channel is not None:
        kw["channel"] = args.channel
    elif args.channel_prefix is not None:
        kw["channel"] = args.channel_prefix
    return TriggerSpec(
        schema, table, events=_events(args.events), channel_column=column,
        payload=args.payload, exclude=_idents("--exclude", args.exclude), when=args.when,
        update_of=_idents("--update-of", args.update_of), key_columns=_idents("--key", args.key),
        **kw)


def _run(args: argparse.Namespace,
         work: Callable[[psycopg.AsyncConnection], Awaitable[int]]) -> int:
    conninfo = resolve_conninfo(args)

    async def main() -> int:
        try:
            conn = await connect(conninfo)
        except psycopg.Error as exc:
            raise CliError(one_line(exc)) from None
        async with conn:
            try:
                return await work(conn)
            except (triggers.TriggerError, catalog.CatalogError) as exc:
                raise CliError(str(exc)) from None
            except psycopg.Error as exc:
                raise CliError(catalog.server_message(exc)) from None

    use_selector_loop_policy()
    return asyncio.run(main())


def _notes(plan: triggers.Plan) -> None:
    for note in plan.notes:
        print(f"pgwatch-gui: note: {note}", file=sys.stderr)
    for blocker in plan.blockers:
        print(f"pgwatch-gui: warning: {blocker}", file=sys.stderr)


def run_install(args: argparse.Namespace) -> int:
    tables = parse_tables(args, args.table)
    specs = [build_spec(args, schema or "", table) for schema, table in tables]

    async def work(conn: psycopg.AsyncConnection) -> int:
        plan = await triggers.plan_install(conn, specs)
        _notes(plan)
        if args.dry_run:
            sys.stdout.write(plan.script)
            return 0
        await triggers.execute(conn, plan)
        for spec in plan.specs:
            chan = (f"{spec.channel}<{spec.channel_column}>" if spec.per_row_channel
                    else spec.channel)
            print(f"installed on {spec.qualified_table}: {', '.join(spec.events)} -> "
                  f"channel {chan}, payload {spec.payload}")
        return 0

    return _run(args, work)


def run_remove(args: argparse.Namespace) -> int:
    tables = parse_tables(args, args.table or [])

    async def work(conn: psycopg.AsyncConnection) -> int:
        plan = await (triggers.plan_remove_all(conn) if args.all
                      else triggers.plan_remove(conn, tables))
        _notes(plan)
        if plan.empty:
            print("nothing to remove: no trigger installed by pgwatch-gui", file=sys.stderr)
            return 0
        if args.dry_run:
            sys.stdout.write(plan.script)
            return 0
        await triggers.execute(conn, plan)
        for t in plan.tables:
            print(f"removed from {t}")
        for what in plan.leftovers:
            print(f"removed leftover {what}")
        return 0

    return _run(args, work)


def installed_record(i: triggers.Installed) -> dict[str, Any]:
    return {"schema": i.schema, "table": i.table, "triggers": [t.name for t in i.triggers],
            "function": i.function, "enabled": i.enabled, "spec": i.spec.to_dict(),
            "key": list(i.stored.key), "columns": list(i.stored.columns),
            "partitions": i.partitions, "problems": list(i.problems)}


def leftover_record(f: functions.Leftover) -> dict[str, Any]:
    return {"schema": f.schema, "function": f.name, "table": f.table, "reason": f.reason}


def other_record(t: catalog.TriggerInfo) -> dict[str, Any]:
    return {"schema": t.schema, "table": t.table, "trigger": t.name, "function": t.function,
            "events": list(t.events), "timing": t.timing, "level": t.level,
            "enabled": t.enabled,
            "channels": [{"kind": c.kind, "name": c.name, "column": c.column,
                          "expression": c.expression} for c in t.channels]}


def run_list(args: argparse.Namespace) -> int:
    async def work(conn: psycopg.AsyncConnection) -> int:
        mine = await triggers.list_installed(conn)
        others = await catalog.notify_triggers(conn)
        left = await functions.leftovers(conn)
        if args.format == "json":
            print(json.dumps({"installed": [installed_record(i) for i in mine],
                              "other": [other_record(t) for t in others],
                              "leftovers": [leftover_record(f) for f in left]},
                             ensure_ascii=False))
            return 0
        print("pgwatch-gui triggers:" if mine else "pgwatch-gui triggers: none")
        for i in mine:
            s = i.spec
            chan = f"{s.channel}<{s.channel_column}>" if s.per_row_channel else s.channel
            extra = []
            if s.exclude:
                extra.append("exclude " + ",".join(s.exclude))
            if s.update_of:
                extra.append("update of " + ",".join(s.update_of))
            if s.when:
                extra.append(f"when ({s.when})")
            if i.partitions:
                extra.append(f"and its {i.partitions} partition"
                             + ("s" if i.partitions > 1 else ""))
            if not i.enabled:
                extra.append("DISABLED")
            print(f"  {i.qualified_table}  {','.join(s.events)}  channel {chan}  "
                  f"payload {s.payload}  key {','.join(i.stored.key) or '-'}"
                  + "".join(f"  {e}" for e in extra))
            for p in i.problems:
                print(f"    ! {p}")
        if left:
            print("leftover functions of pgwatch-gui (trigger remove --all drops them):")
            for f in left:
                print(f"  {f.describe()}")
        print("other notify triggers:" if others else "other notify triggers: none")
        for t in others:
            chans = ", ".join(c.describe() for c in t.channels) or "?"
            print(f"  {t.qualified_table}  {t.name}  {t.timing} {' OR '.join(t.events)}  "
                  f"{t.function}  channels: {chans}")
        return 0

    return _run(args, work)


def run_show(args: argparse.Namespace) -> int:
    ((schema, table),) = parse_tables(args, [args.table])

    async def work(conn: psycopg.AsyncConnection) -> int:
        _, sch, tab = await catalog.resolve_table(conn, schema, table)
        found = await triggers.list_installed(conn, sch, tab)
        if not found:
            raise CliError(f"{args.table} has no trigger installed by pgwatch-gui")
        print(json.dumps(installed_record(found[0]), ensure_ascii=False, indent=2))
        for t in found[0].triggers:
            print(t.definition + ";")
        print(await triggers.function_definition(conn, found[0]))
        return 0

    return _run(args, work)

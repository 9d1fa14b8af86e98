"""`pgwatch-gui changes`: print row changes from a logical replication stream, one line each."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from pgwatch_gui.cli.common import (
    CliError,
    add_connection_args,
    resolve_conninfo,
    resolve_schema_arg,
    resolve_tables,
    route_for,
    warn,
)
from pgwatch_gui.cli.ending import EXIT_FAILED, EXIT_USAGE, Ending, say, write_failure
from pgwatch_gui.cli.filter_args import add_filter_args, filter_spec_from_args
from pgwatch_gui.cli.output import ENVELOPE, LinePrinter, add_fields_arg, fields_of
from pgwatch_gui.core.filtering.engine import FilterSpec
from pgwatch_gui.core.pg.connection import connect, one_line, use_selector_loop_policy
from pgwatch_gui.core.replication.change_status import ChangeStatus
from pgwatch_gui.core.replication.publication import (
    Leftover,
    Setup,
    WatchPlan,
    drop_leftovers,
)
from pgwatch_gui.core.replication.source import ChangeSource
from pgwatch_gui.core.stream.events import KIND_CHANGE, Event
from pgwatch_gui.core.stream.status import State, Status


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "changes",
        help="print row changes through logical replication, no trigger needed",
        description="Stream committed row changes through a temporary logical replication "
        "slot (wal_level=logical, a role with REPLICATION) and print one line per change. "
        "Without --table, --schema or --publication: every table the role may publish.",
    )
    add_connection_args(p)
    what = p.add_argument_group("what to watch")
    what.add_argument("--table", action="append", default=[], metavar="SCHEMA.TABLE",
                      help='a table (repeatable), in SQL form (\'"Sales Dept"."Order Items"\') '
                      "or as the event table shows it ('Sales Dept.Order Items')")
    what.add_argument("--schema", metavar="SCHEMA", help="every table of a schema")
    what.add_argument("--publication", metavar="NAME",
                      help="an existing publication, used as it is (nothing is created)")
    p.add_argument("--count", type=int, metavar="N", help="exit 0 after N row changes")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="exit 0 when this many seconds have passed")
    p.add_argument("--format", choices=("jsonl", ENVELOPE, "text"), default="jsonl",
                   help="jsonl (default): one JSON object per line, as `listen`; envelope: "
                   "each change's envelope alone, one per line (the JSON this tool's notify "
                   "triggers send; the leanest and fastest); text: for people")
    add_fields_arg(p, "seq,op,key")
    p.add_argument("--drop-leftovers", action="store_true",
                   help="drop publications left by streams that ended without cleaning up, "
                   "then exit")
    add_filter_args(p)  # its --table is ours: the tables to watch
    p.set_defaults(func=run)


def watch_plan(args: argparse.Namespace) -> WatchPlan:
    """What to watch; --table and --schema in SQL form or as the event table shows
    them, each checked against the server (one line naming what is not there)."""
    chosen = sum(bool(x) for x in (args.table, args.schema, args.publication))
    if chosen > 1:
        raise CliError("give --table, --schema or --publication, not several of them")
    tables = tuple(resolve_tables(args, args.table))
    schema = resolve_schema_arg(args, args.schema) if args.schema else None
    return WatchPlan(tables=tables, schema=schema, publication=args.publication or None)


def run(args: argparse.Namespace) -> int:
    conninfo = resolve_conninfo(args)
    if args.count is not None and args.count < 1:
        raise CliError("--count must be at least 1")
    fields = fields_of(args)
    spec = filter_spec_from_args(args)  # a bad condition: exit 2 before connecting
    use_selector_loop_policy()
    if args.drop_leftovers:
        return asyncio.run(_drop_leftovers(conninfo))
    plan = watch_plan(args)
    return asyncio.run(_stream(conninfo, plan, args.count, args.timeout, args.format,
                               getattr(args, "profile", None) or "", spec, fields))


async def _drop_leftovers(conninfo: str) -> int:
    try:
        async with await connect(conninfo) as conn:
            dropped = await drop_leftovers(conn)
    except Exception as exc:
        raise CliError(one_line(exc)) from None
    for item in dropped:
        print(f"dropped publication {item.name}", file=sys.stderr)
    if not dropped:
        print("no leftover publication", file=sys.stderr)
    return 0


async def _stream(conninfo: str, plan: WatchPlan, count: int | None, timeout: float | None,
                  fmt: str, profile: str, spec: FilterSpec, fields: tuple[str, ...]) -> int:
    printer = LinePrinter(fmt, count=count, kind=KIND_CHANGE, spec=spec, fields=fields)
    # Signals, and a reader of stdout that went away, end it the orderly way: the
    # publication is dropped and the slot goes with its connection.
    ending = Ending().install()
    done = ending.done
    announced = False

    def on_batch(batch: list[Event]) -> None:
        ending.print_batch(printer, batch)

    def on_status(st: Status) -> None:
        nonlocal announced
        if st.state is State.LISTENING and not announced:
            announced = True
            say(st.details() if isinstance(st, ChangeStatus) else st.describe())
        elif st.state is State.RECONNECTING and st.reason:
            say(f"pgwatch-gui: {st.describe()}")
        elif st.state is State.FAILED:
            done.set()

    def on_setup(setup: Setup) -> None:
        for stmt in setup.sql_text().splitlines():
            say(f"pgwatch-gui: running: {stmt}")
        if setup.skipped:
            names = ", ".join(t.qualified for t in setup.skipped)
            warn(f"left out (no replica identity, UPDATE/DELETE would fail while published): "
                 f"{names}")
        for note in setup.notes:  # columns its notify trigger never sends (withheld.py)
            warn(note)

    def on_leftovers(found: list[Leftover]) -> None:
        for item in found:
            warn(f"leftover publication {item.describe()}: remove it with "
                 "`pgwatch-gui changes --drop-leftovers`")

    source = ChangeSource(conninfo, plan, on_batch=on_batch, on_status=on_status,
                          on_setup=on_setup, on_leftovers=on_leftovers, profile=profile,
                          batch_interval=0.0, route=route_for(conninfo), raw=True)
    task = source.start()
    try:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(done.wait(), timeout)
    finally:
        await source.stop()
        await task
        ending.close()
        failure = write_failure(printer)
    if source.status.state is State.FAILED:
        # 1: its publication is left behind (said, for --drop-leftovers); else 2: a
        # connection refused or lost for good, a refusal by the server.
        raise CliError(source.status.reason,
                       code=EXIT_FAILED if source.left_behind else EXIT_USAGE)
    if failure:
        raise CliError(failure, code=EXIT_FAILED)
    return ending.exit_code

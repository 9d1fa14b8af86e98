"""`pgwatch-gui audit`: match every committed row change of some tables against the
notification their trigger should send; exit 0 when all match, 1 when not, 2 on error.

Signals and a reader that went away end it as they end `listen` and `changes`
(cli/ending.py): the report is still printed where it can be, the publication and slot
are released, and the exit status is the signal's (130, 143, 129) or 141."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from pgwatch_gui.cli.common import (
    CliError,
    add_connection_args,
    positive_seconds,
    resolve_conninfo,
    resolve_tables,
    warn,
)
from pgwatch_gui.cli.ending import (
    EXIT_FAILED,
    EXIT_PIPE,
    STOPPED,
    Ending,
    cannot_write,
    quiet_stdout,
)
from pgwatch_gui.core.audit.auditor import GRACE
from pgwatch_gui.core.audit.plan import AuditPlan, AuditRefused, plan_audit
from pgwatch_gui.core.audit.report import discrepancy_line, summary_lines, verdict
from pgwatch_gui.core.audit.results import Discrepancy
from pgwatch_gui.core.audit.session import DONE, FAILED, STARTING, AuditSession
from pgwatch_gui.core.pg.connection import connect, one_line, use_selector_loop_policy
from pgwatch_gui.core.replication.publication import Leftover, Setup

EXIT_CLEAN, EXIT_DISCREPANCY = 0, 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "audit",
        help="check that every committed row change sent its notification",
        description="Stream the tables' committed row changes through a temporary logical "
        "replication slot (as `changes`), LISTEN on the channels of their notify triggers, "
        "and match each change to its notification. Prints each discrepancy (missing, "
        "mismatched, unexpected), then a summary per table. Exit status: 0 when every "
        "change matched, 1 when one is missing or mismatched, 2 on error.",
    )
    add_connection_args(p)
    p.add_argument("--table", action="append", default=[], metavar="SCHEMA.TABLE",
                   help="a table to audit (repeatable); without a schema, the search_path "
                   "decides")
    p.add_argument("-c", "--channel", action="append", default=[], metavar="CHANNEL",
                   help="a channel to listen on (repeatable); default: the channels the "
                   "tables' notify triggers send on")
    p.add_argument("--timeout", type=positive_seconds, metavar="SECONDS",
                   help="end the audit after this many seconds")
    p.add_argument("--count", type=int, metavar="N", help="end the audit after N row changes")
    p.add_argument("--grace", type=positive_seconds, default=GRACE, metavar="SECONDS",
                   help=f"how long one side waits for the other before it counts as missing "
                   f"or unexpected (default {GRACE:g})")
    p.add_argument("--format", choices=("text", "jsonl"), default="text",
                   help="text (default): for people; jsonl: one JSON object per line")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.table:
        raise CliError("give at least one --table to audit")
    if args.count is not None and args.count < 1:
        raise CliError("--count must be at least 1")
    conninfo = resolve_conninfo(args)
    # SQL form or as the event table shows it, checked against the server (one line).
    tables = resolve_tables(args, args.table)
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    use_selector_loop_policy()
    return asyncio.run(_audit(conninfo, tables, args))


async def _plan(conninfo: str, tables, channels: list[str]) -> AuditPlan:
    try:
        async with await connect(conninfo) as conn:
            plan = await plan_audit(conn, tables, channels)
    except AuditRefused as exc:
        raise CliError(str(exc)) from None
    except Exception as exc:
        raise CliError(one_line(exc)) from None
    for text in plan.warnings:
        warn(text)
    if plan.refused:
        raise CliError(plan.refused)
    return plan


async def _audit(conninfo: str, tables, args: argparse.Namespace) -> int:
    plan = await _plan(conninfo, tables, args.channel)
    fmt = args.format
    setup = plan.setup()
    assert setup is not None  # plan.refused said so otherwise

    ending = Ending().install()
    write_error: OSError | None = None  # the output could not be written (a full disk)

    def say(line: str) -> None:
        nonlocal write_error
        if ending.code == EXIT_PIPE or write_error is not None:
            return
        try:
            print(line, flush=True)
        except BrokenPipeError:  # `audit | head`: stop, clean up, 141
            quiet_stdout()
            ending.finish(EXIT_PIPE)
        except OSError as exc:  # a full disk: stop, clean up, one line and 1
            write_error = exc
            quiet_stdout()
            ending.finish(EXIT_FAILED)

    def on_found(found: list[Discrepancy]) -> None:
        for d in found:
            say(discrepancy_line(d, fmt))

    def on_state(state: str, detail: str) -> None:
        if detail and state not in (STARTING, DONE, FAILED):  # a failure is the error line
            print(f"pgwatch-gui: {detail}", file=sys.stderr, flush=True)

    def on_setup(s: Setup) -> None:
        for stmt in s.sql_text().splitlines():
            print(f"pgwatch-gui: running: {stmt}", file=sys.stderr, flush=True)

    def on_leftovers(found: list[Leftover]) -> None:
        for item in found:
            warn(f"leftover publication {item.describe()}: remove it with "
                 "`pgwatch-gui changes --drop-leftovers`")

    session = AuditSession(conninfo, plan, setup, grace=args.grace, count=args.count,
                           profile=getattr(args, "profile", None) or "", on_found=on_found,
                           on_state=on_state, on_setup=on_setup, on_leftovers=on_leftovers)
    loop = asyncio.get_running_loop()
    # A signal or the reader going away ends the audit (a second signal ends it at once).
    stopper = loop.create_task(_stop_when(ending, session))
    timer = loop.call_later(args.timeout, session.stop) if args.timeout else None
    try:
        outcome = await session.run()
    finally:
        if timer is not None:
            timer.cancel()
        stopper.cancel()
        ending.close()
    if outcome.error:
        raise CliError(outcome.error)
    if write_error is not None:
        raise CliError(cannot_write(write_error), code=EXIT_FAILED)
    for line in summary_lines(outcome.counts, outcome.unattributed, fmt):
        say(line)
    if outcome.ignored:
        warn(f"{outcome.ignored} notification(s) about tables not audited were left aside")
    if outcome.gaps:
        raise CliError(f"the audit is incomplete: {outcome.gaps[0]}")
    print(f"pgwatch-gui: {verdict(outcome.counts, outcome.unattributed)}", file=sys.stderr,
          flush=True)
    if ending.code in STOPPED:
        return ending.code
    return EXIT_CLEAN if outcome.clean else EXIT_DISCREPANCY


async def _stop_when(ending: Ending, session: AuditSession) -> None:
    await ending.done.wait()
    session.stop()

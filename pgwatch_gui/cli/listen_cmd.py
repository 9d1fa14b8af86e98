"""`pgwatch-gui listen`: print notifications, one line each."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading

import psycopg

from pgwatch_gui.cli.common import (
    CliError,
    add_connection_args,
    explain_loss,
    positive_seconds,
    resolve_channels,
    resolve_conninfo,
    route_for,
    warn,
)
from pgwatch_gui.cli.ending import EXIT_FAILED, Ending, say, write_failure
from pgwatch_gui.cli.filter_args import add_filter_args, filter_spec_from_args
from pgwatch_gui.cli.output import LinePrinter, add_fields_arg, fields_of
from pgwatch_gui.core.filtering.engine import FilterSpec
from pgwatch_gui.core.pg.connection import connect_sync, one_line, use_selector_loop_policy
from pgwatch_gui.core.pg.notify import (
    QUEUE_CHECK_INTERVAL,
    QUEUE_WARN_AT,
    NotifyError,
    QueueAlarm,
    check_channel,
    queue_usage_sync,
)
from pgwatch_gui.core.stream.events import KIND_NOTIFY, Event
from pgwatch_gui.core.stream.jsonl import FIELDS
from pgwatch_gui.core.stream.listener import Listener
from pgwatch_gui.core.stream.status import State, Status
from pgwatch_gui.core.stream.wire import HEARTBEAT_INTERVAL, HEARTBEAT_TIMEOUT


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "listen",
        help="print notifications as they arrive",
        description="LISTEN on one or more channels and print one line per notification. "
        "The filter options keep only matching notifications (gap lines always pass).",
    )
    add_connection_args(p)
    p.add_argument("-c", "--channel", action="append",
                   help="channel name, exactly as pg_notify spells it (repeatable; "
                   "with --profile, the profile's channels by default)")
    p.add_argument("--count", type=int, metavar="N",
                   help="exit 0 after N notifications (that pass the filter)")
    p.add_argument("--timeout", type=positive_seconds, metavar="SECONDS",
                   help="exit 0 when this many seconds have passed")
    p.add_argument("--format", choices=("jsonl", "text"), default="jsonl",
                   help="jsonl (default): one JSON object per line; text: for people")
    add_fields_arg(p, "channel,payload: the leanest and fastest")
    add_filter_args(p)
    # For tests and the curious; see docs/guide/cli.md ("Connection health").
    hidden = argparse.SUPPRESS
    p.add_argument("--heartbeat-interval", type=positive_seconds, default=HEARTBEAT_INTERVAL,
                   help=hidden)
    p.add_argument("--heartbeat-timeout", type=positive_seconds, default=HEARTBEAT_TIMEOUT,
                   help=hidden)
    p.add_argument("--queue-interval", type=positive_seconds, default=QUEUE_CHECK_INTERVAL,
                   help=hidden)
    p.add_argument("--queue-warn-at", type=float, default=QUEUE_WARN_AT, help=hidden)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    fields = fields_of(args)
    spec = filter_spec_from_args(args)
    conninfo = resolve_conninfo(args)
    try:
        channels = [check_channel(c) for c in resolve_channels(args, args.channel)]
    except NotifyError as exc:
        raise CliError(str(exc)) from None
    if not channels:
        raise CliError("give at least one -c/--channel (or a --profile that has channels)")
    if args.count is not None and args.count < 1:
        raise CliError("--count must be at least 1")
    # Whatever a payload holds must reach the terminal or file: escape, never raise.
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    use_selector_loop_policy()
    return asyncio.run(_listen(conninfo, channels, args.count, args.timeout, args.format,
                               getattr(args, "profile", None) or "", spec, args, fields))


async def _listen(conninfo: str, channels: list[str], count: int | None,
                  timeout: float | None, fmt: str, profile: str = "",
                  spec: FilterSpec | None = None, opts: argparse.Namespace | None = None,
                  fields: tuple[str, ...] = FIELDS) -> int:
    printer = LinePrinter(fmt, count=count, kind=KIND_NOTIFY, spec=spec, fields=fields)
    # Signals, and a reader of stdout that went away, end it the orderly way too.
    ending = Ending().install()
    done = ending.done

    def on_batch(batch: list[Event]) -> None:
        ending.print_batch(printer, batch)

    stop_watch = threading.Event()
    watch = threading.Thread(target=watch_queue, name="queue-watch", daemon=True, args=(
        conninfo, stop_watch, getattr(opts, "queue_interval", QUEUE_CHECK_INTERVAL),
        getattr(opts, "queue_warn_at", QUEUE_WARN_AT)))

    def on_status(st: Status) -> None:
        if st.state is State.LISTENING:
            say(st.describe())
            if watch.ident is None and not stop_watch.is_set():
                watch.start()  # once connected: a wrong --dsn is said once, not twice
        elif st.state is State.RECONNECTING and st.reason:
            say(f"pgwatch-gui: {st.describe()}")
        if st.state is State.FAILED:
            done.set()

    listener = Listener(
        conninfo, channels, on_batch=on_batch, on_status=on_status, batch_interval=0.0,
        profile=profile, route=route_for(conninfo), raw=True,
        heartbeat_interval=getattr(opts, "heartbeat_interval", HEARTBEAT_INTERVAL),
        heartbeat_timeout=getattr(opts, "heartbeat_timeout", HEARTBEAT_TIMEOUT))
    task = listener.start()
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except asyncio.TimeoutError:
        pass
    done.set()
    await listener.stop()
    await task
    ending.close()
    stop_watch.set()
    failure = write_failure(printer)
    # It is waiting on stop_watch, or between two looks: it ends at once, so wait in
    # this thread (a thread pool for the wait alone cost 1-3 ms at every exit); a look
    # that takes long (a slow server) is waited for in a thread, for up to 5 s.
    if watch.ident is not None:
        watch.join(0.05)
    if watch.is_alive():
        await asyncio.to_thread(watch.join, 5)
    if listener.status.state is State.FAILED:  # a connection refused or lost for good: 2
        raise CliError(listener.status.reason)
    if failure:
        raise CliError(failure, code=EXIT_FAILED)
    return ending.exit_code


def watch_queue(conninfo: str, stop: threading.Event, interval: float,
                warn_at: float) -> None:
    """Every `interval` s, on a connection of its own, look at how full the server's
    notification queue is and warn on stderr when it passes `warn_at`.

    A thread, not a task: when `listen` itself is what stalls (stdout piped into a
    reader that stopped), its event loop is blocked on the write, and this is exactly
    when the warning matters. A failure to look is said once and retried; it never
    stops `listen`."""
    alarm = QueueAlarm(warn_at)
    conn: psycopg.Connection | None = None
    complained = False
    try:
        while not stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = connect_sync(conninfo)
                message = alarm.check(queue_usage_sync(conn))
                if message:
                    warn(message)
                complained = False
            except psycopg.Error as exc:
                if not complained:
                    warn("cannot watch the notification queue: "
                         f"{explain_loss(conninfo, one_line(exc))}")
                    complained = True
                if conn is not None:
                    conn.close()
                    conn = None
            stop.wait(interval)
    finally:
        if conn is not None:
            conn.close()

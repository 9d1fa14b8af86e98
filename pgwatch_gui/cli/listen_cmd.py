"""`pgwatch-gui listen`: print notifications, one line each."""

from __future__ import annotations

import argparse
import asyncio
import sys

from pgwatch_gui.cli.common import (
    CliError,
    add_connection_args,
    resolve_channels,
    resolve_conninfo,
)
from pgwatch_gui.core.pg.connection import use_selector_loop_policy
from pgwatch_gui.core.pg.notify import NotifyError, check_channel
from pgwatch_gui.core.stream.events import KIND_NOTIFY, Event
from pgwatch_gui.core.stream.export import JsonlFormatter, event_to_text
from pgwatch_gui.core.stream.listener import Listener
from pgwatch_gui.core.stream.status import State, Status


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "listen",
        help="print notifications as they arrive",
        description="LISTEN on one or more channels and print one line per notification.",
    )
    add_connection_args(p)
    p.add_argument("-c", "--channel", action="append",
                   help="channel name, exactly as pg_notify spells it (repeatable; "
                   "with --profile, the profile's channels by default)")
    p.add_argument("--count", type=int, metavar="N", help="exit 0 after N notifications")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="exit 0 when this many seconds have passed")
    p.add_argument("--format", choices=("jsonl", "text"), default="jsonl",
                   help="jsonl (default): one JSON object per line; text: for people")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    conninfo = resolve_conninfo(args)
    try:
        channels = [check_channel(c) for c in resolve_channels(args, args.channel)]
    except NotifyError as exc:
        raise CliError(str(exc)) from None
    if not channels:
        raise CliError("give at least one -c/--channel (or a --profile that has channels)")
    if args.count is not None and args.count < 1:
        raise CliError("--count must be at least 1")
    use_selector_loop_policy()
    return asyncio.run(_listen(conninfo, channels, args.count, args.timeout, args.format,
                               getattr(args, "profile", None) or ""))


async def _listen(conninfo: str, channels: list[str], count: int | None,
                  timeout: float | None, fmt: str, profile: str = "") -> int:
    fmt_line = JsonlFormatter().line if fmt == "jsonl" else event_to_text
    out = sys.stdout
    done = asyncio.Event()
    seen = 0

    def on_batch(batch: list[Event]) -> None:
        nonlocal seen
        if count is None or seen + len(batch) <= count:  # the whole batch, in one map
            lines = list(map(fmt_line, batch))
            if count is not None:
                seen += sum(1 for ev in batch if ev.kind == KIND_NOTIFY)
        else:
            lines = []
            for ev in batch:
                if seen >= count:
                    break
                lines.append(fmt_line(ev))
                if ev.kind == KIND_NOTIFY:
                    seen += 1
        if lines:
            out.write("\n".join(lines) + "\n")
            out.flush()
        if count is not None and seen >= count:
            done.set()

    def on_status(st: Status) -> None:
        if st.state is State.LISTENING:
            print(st.describe(), file=sys.stderr, flush=True)
        elif st.state is State.RECONNECTING and st.reason:
            print(f"pgwatch-gui: {st.describe()}", file=sys.stderr, flush=True)
        if st.state is State.FAILED:
            done.set()

    listener = Listener(conninfo, channels, on_batch=on_batch, on_status=on_status,
                        batch_interval=0.0, profile=profile)
    task = listener.start()
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except asyncio.TimeoutError:
        pass
    await listener.stop()
    await task
    if listener.status.state is State.FAILED:
        raise CliError(listener.status.reason)
    return 0

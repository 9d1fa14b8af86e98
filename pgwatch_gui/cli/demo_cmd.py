"""`pgwatch-gui demo`: write demo changes at a set rate, without the window.

For benchmarks and soak runs. Without --dsn it runs on the embedded demo server;
with --dsn it first creates the demo schema and triggers where they are missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from pgwatch_gui.cli.common import CliError, add_connection_args, resolve_conninfo
from pgwatch_gui.cli.ending import EXIT_SIGINT, Terminated
from pgwatch_gui.core.demo.session import MAX_RATE, Demo, DemoError, GeneratorError
from pgwatch_gui.core.pg.connection import describe_target, use_selector_loop_policy


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= MAX_RATE:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_RATE:,}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="write demo changes at a set rate (no window)",
        description="Create the demo shop (schema, rows, notify triggers) where missing "
        "and write a realistic mix of changes at a set rate. Without --dsn it uses the "
        "embedded demo server.",
    )
    add_connection_args(p)
    p._option_string_actions["--dsn"].help = (
        "a database to write to (the demo schema is created there where missing); "
        "without it, the embedded demo server")
    p.add_argument("--rate", type=_rate, default=50.0, metavar="N",
                   help=f"changes per second, 0..{MAX_RATE} (default 50)")
    p.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--reset", action="store_true",
                   help="start the embedded demo database afresh (same as --demo-reset)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dsn = resolve_conninfo(args) if (args.dsn or args.profile) else None
    if args.seconds is not None and args.seconds < 0:
        raise CliError("--seconds must not be negative")
    reset = bool(args.reset or getattr(args, "demo_reset", False))
    demo = Demo(dsn=dsn, reset=reset)
    try:
        conninfo = demo.start()
    except DemoError as exc:
        raise CliError(str(exc)) from None
    gen = demo.generator(args.rate)
    where = "the embedded demo server" if demo.embedded else describe_target(conninfo)
    print(f"writing {args.rate:g} changes/s to {where}; channels: {', '.join(demo.channels)}"
          + ("" if args.seconds else "; Ctrl+C stops"), file=sys.stderr, flush=True)
    use_selector_loop_policy()
    started = time.monotonic()
    code = 0
    try:
        asyncio.run(gen.run(seconds=args.seconds))
    except KeyboardInterrupt:
        code = EXIT_SIGINT
    except Terminated as exc:  # SIGTERM, SIGHUP: the same orderly end, the summary too
        code = exc.code
    except GeneratorError as exc:
        raise CliError(f"the generator stopped: {exc}") from None
    finally:
        elapsed = time.monotonic() - started
        demo.stop()
    summary = {"changes": gen.changes, "seconds": round(elapsed, 3),
               "rate": round(gen.changes / elapsed, 1) if elapsed else 0.0,
               "target_rate": args.rate, "errors": gen.errors}
    if args.json:
        print(json.dumps(summary), flush=True)
    else:
        print(f"{gen.changes} changes in {elapsed:.1f} s ({summary['rate']:g}/s)", flush=True)
    return code

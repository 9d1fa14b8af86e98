"""Command line: ``pgwatch-gui [--demo]`` opens the window; subcommands never do.

Each subcommand lives in its own module with ``register(subparsers)``, which sets
``func`` to a function taking the parsed arguments and returning an exit code.
Qt is imported only when the window is opened.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from pgwatch_gui import __version__
from pgwatch_gui.cli import (
    audit_cmd,
    changes_cmd,
    demo_cmd,
    desktop_cmd,
    filter_cmd,
    history_cmd,
    listen_cmd,
    notify_cmd,
    profiles_cmd,
    trigger_cmd,
)
from pgwatch_gui.cli.common import CliError, OneLineParser, add_connection_args, close_tunnels
from pgwatch_gui.cli.ending import (
    EXIT_PIPE,
    EXIT_SIGINT,
    STOPPED,
    Terminated,
    exit_process,
    quiet_stdout,
    raise_on_termination,
    say,
)
from pgwatch_gui.core.host.applog import quiet_library_warnings

# Subcommand modules, in the order `--help` lists them.
COMMANDS = [listen_cmd, changes_cmd, audit_cmd, filter_cmd, history_cmd, notify_cmd, profiles_cmd,
            trigger_cmd, demo_cmd, desktop_cmd]


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="pgwatch-gui",
        description="Watch PostgreSQL LISTEN/NOTIFY change streams. "
        "Without a subcommand, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"pgwatch-gui {__version__}")
    parser.add_argument(
        "--demo", action="store_true", help="open the window on the built-in demo database"
    )
    parser.add_argument(
        "--demo-reset", action="store_true",
        help="with --demo (or the demo command): start the demo database afresh",
    )
    parser.add_argument(
        "--smoke", action="store_true",
        help="self-test and exit: offscreen, connect (--dsn, or the embedded demo server), "
        "LISTEN, receive a notification sent to itself, print ok",
    )
    parser.add_argument(
        "--no-journal", action="store_true",
        help="this time, keep no journal of the events on disk (View > History settings "
        "turns it off for good)",
    )
    add_connection_args(parser)
    parser.add_argument(
        "-c", "--channel", action="append", default=[], help="channel to listen to (repeatable)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    quiet_library_warnings()  # before anything imports asyncssh (five warnings at import)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is not None:
        raise_on_termination()  # SIGTERM, SIGHUP: `finally` blocks run, then 143, 129
    try:
        if args.command is None:
            return _run_gui(args)
        code = args.func(args)
    except CliError as exc:
        say(f"pgwatch-gui: error: {exc}")
        code = exc.code
    except KeyboardInterrupt:
        code = EXIT_SIGINT
    except Terminated as exc:
        code = exc.code
    except BrokenPipeError:
        # Output piped into `head` and the like: no traceback, the status of SIGPIPE.
        code = EXIT_PIPE
    finally:
        close_tunnels()  # SSH tunnels a --profile opened live as long as the command
    if code in STOPPED:
        # Output may be stuck in a buffer for a reader that is gone or stalled: the
        # flush at exit must neither complain nor wait for it (a kill loses it too).
        quiet_stdout()
    return code


def console_main() -> NoReturn:
    """The program (`pgwatch-gui`, `python -m pgwatch_gui`, the bundle): main(), then
    the end of the process without the interpreter's teardown (cli/ending.py
    exit_process). main() itself returns, for callers in this process."""
    try:
        code = main()
    except SystemExit as exc:  # argparse: --help, --version, bad usage
        code = exc.code
    exit_process(0 if code is None else code)


def _run_gui(args) -> int:
    from pgwatch_gui.cli.common import resolve_startup_connections

    if args.smoke:
        from pgwatch_gui.ui.shell.smoke import run_smoke

        return run_smoke(args.dsn)
    from pgwatch_gui.cli.display import check_display

    check_display()
    if args.demo:
        from pgwatch_gui.core.demo.server import busy_reason

        reason = busy_reason()
        if reason:
            raise CliError(reason)
    from pgwatch_gui.ui.shell.app import run_gui

    return run_gui(resolve_startup_connections(args), demo=args.demo, demo_reset=args.demo_reset,
                   journal=not args.no_journal)


if __name__ == "__main__":  # pragma: no cover
    console_main()

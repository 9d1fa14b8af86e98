"""Command line: ``pgwatch-gui [--demo]`` opens the window; subcommands never do.

Each subcommand lives in its own module with ``register(subparsers)``, which sets
``func`` to a function taking the parsed arguments and returning an exit code.
Qt is imported only when the window is opened.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from pgwatch_gui import __version__
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

# Subcommand -> its module (pgwatch_gui.cli.<module>), in the order `--help` lists them.
# A run of one subcommand imports only its module: `listen` starts about 100 ms sooner
# than with every subcommand's imports (audit, triggers, the demo...).
COMMANDS = {"listen": "listen_cmd", "changes": "changes_cmd", "audit": "audit_cmd",
            "filter": "filter_cmd", "history": "history_cmd", "notify": "notify_cmd",
            "profiles": "profiles_cmd", "trigger": "trigger_cmd", "demo": "demo_cmd",
            "install-desktop": "desktop_cmd"}


class _Retry(Exception):
    """The parser of one subcommand could not read the arguments: read them again with
    every subcommand's (which says what is wrong, as it always did)."""


class _TrialParser(OneLineParser):
    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        raise _Retry(message)


def build_parser(only: str | None = None, *,
                 parser_class: type[argparse.ArgumentParser] = OneLineParser
                 ) -> argparse.ArgumentParser:
    """The program's parser: every subcommand, or `only` that one."""
    parser = parser_class(
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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=parser_class)
    for name, module in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(f"pgwatch_gui.cli.{module}").register(sub)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The arguments, read by the parser of the subcommand they name when that is clear
    (its module alone is imported), else by the whole program's parser."""
    args_list = sys.argv[1:] if argv is None else list(argv)
    name = next((a for a in args_list if a in COMMANDS), None)
    if name is not None and not {"-h", "--help"} & set(args_list[:args_list.index(name)]):
        try:
            args = build_parser(name, parser_class=_TrialParser).parse_args(args_list)
        except _Retry:
            pass
        else:
            if args.command == name:
                return args
    return build_parser().parse_args(args_list)


def main(argv: Sequence[str] | None = None) -> int:
    quiet_library_warnings()  # before anything imports asyncssh (five warnings at import)
    args = parse_args(argv)
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

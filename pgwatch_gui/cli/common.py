"""What every subcommand shares: the one-line error parser and connection options."""

from __future__ import annotations

import argparse
import sys

from pgwatch_gui.core.connection import ConnectionConfigError, describe_target, make_conninfo
from pgwatch_gui.core.notify import NotifyError, check_channel


class CliError(Exception):
    """An error to print as one line on stderr, then exit with `code` (2 by default)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--dsn",
        help="connection URI or key=value string; without it the PG* environment "
        "variables, service files and .pgpass apply",
    )


def resolve_conninfo(args: argparse.Namespace) -> str:
    """The connection string a command should use, from --dsn (or the environment)."""
    try:
        return make_conninfo(getattr(args, "dsn", None))
    except ConnectionConfigError as exc:
        raise CliError(str(exc)) from None


def resolve_startup_connections(args: argparse.Namespace) -> list:
    """Connections the window opens on start: --dsn (or the PG* environment) when asked for."""
    from pgwatch_gui.ui.app import StartupConnection

    if not getattr(args, "dsn", None) and not getattr(args, "channel", None):
        return []
    conninfo = resolve_conninfo(args)
    try:
        channels = [check_channel(c) for c in args.channel]
    except NotifyError as exc:
        raise CliError(str(exc)) from None
    return [StartupConnection(describe_target(conninfo), conninfo, channels)]

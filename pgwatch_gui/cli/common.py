"""What every subcommand shares: the one-line error parser and connection options.

A `--profile` with an SSH tunnel opens the tunnel for the command's lifetime (on a
thread of its own, so synchronous and asyncio commands alike connect through it);
`close_tunnels()` closes it when the command ends.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import re
import sys
from collections.abc import Iterator

import psycopg

from pgwatch_gui.cli.ending import EXIT_FAILED, cannot_write, quiet_stdout, say
from pgwatch_gui.core.pg.connection import (
    ConnectionConfigError,
    connect_sync,
    describe_target,
    lenient_conninfo,
    one_line,
)
from pgwatch_gui.core.pg.names import IdentifierError, resolve_schema, resolve_table
from pgwatch_gui.core.pg.notify import NotifyError, check_channel
from pgwatch_gui.core.profiles.store import ProfileStore
from pgwatch_gui.core.ssh.errors import HostKeyUnknown, TunnelError

_tunnels = contextlib.ExitStack()
_routes: dict = {}  # a libpq string through a tunnel -> its ThreadedRoute

MAX_ECHO = 200  # longest piece of the user's input an error message repeats
MAX_MESSAGE = 600

_LONG_QUOTED = re.compile(r'(["\'])([^"\'\n]{' + str(MAX_ECHO) + r'})[^"\'\n]+\1')


def cap_message(message: str) -> str:
    """One line, and no more of a quoted input (a 100 kB --dsn) than MAX_ECHO characters."""
    text = " ".join(str(message).split())
    text = _LONG_QUOTED.sub(lambda m: f"{m[1]}{m[2]}…{m[1]}", text)
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE] + "…"
    return text


class CliError(Exception):
    """An error to print as one line on stderr, then exit with `code` (2 by default)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(cap_message(message))
        self.code = code


@contextlib.contextmanager
def output_errors() -> Iterator[None]:
    """Around a command's writes to stdout: one that fails for good (a full disk) is one
    line and exit 1, as `listen` says it, and what is stuck in the buffer is dropped. A
    reader that went away (`| head`) passes on to main(): 141."""
    try:
        yield
    except (BrokenPipeError, ConnectionResetError):
        raise
    except OSError as exc:
        quiet_stdout()
        raise CliError(cannot_write(exc), code=EXIT_FAILED) from None


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {cap_message(message)} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def warn(message: str) -> None:
    say(f"pgwatch-gui: warning: {message}")


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    either = group.add_mutually_exclusive_group()
    either.add_argument(
        "--dsn",
        help="connection URI or key=value string; without it the PG* environment "
        "variables, service files and .pgpass apply",
    )
    either.add_argument(
        "--profile", metavar="NAME",
        help="a saved connection profile (see `pgwatch-gui profiles list`)",
    )


def dsn_conninfo(dsn: str | None) -> str:
    """A --dsn value as a libpq string; a raw URI password with @ : / % works too."""
    try:
        return lenient_conninfo(dsn)
    except ConnectionConfigError as exc:
        raise CliError(str(exc)) from None


def open_store() -> ProfileStore:
    """The profiles file, with anything wrong with it said once on stderr."""
    store = ProfileStore.open()
    for problem in store.problems:
        warn(problem)
    return store


def profile_conninfo(store: ProfileStore, name: str) -> str:
    """The profile's libpq string; with an SSH tunnel, through the tunnel (opened now)."""
    if store.get(name) is None:
        raise CliError(f"no profile named {name!r} (see `pgwatch-gui profiles list`)")
    try:
        conninfo = store.conninfo(name)
    except ConnectionConfigError as exc:
        raise CliError(f"profile {name!r}: {exc}") from None
    profile = store.require(name)
    if not profile.uses_ssh:
        return conninfo
    return open_tunnel(name, conninfo, profile.ssh_settings(), store.ssh_secrets.get(name))


def open_tunnel(name: str, conninfo: str, settings, secret: str | None) -> str:
    """Open the profile's tunnel until the command ends; the string that goes through it."""
    from pgwatch_gui.core.ssh.route import ThreadedRoute, TunnelRoute

    try:
        threaded = ThreadedRoute(TunnelRoute(conninfo, settings, secret=secret))
        through = threaded.open()
    except HostKeyUnknown as exc:
        raise CliError(f"{exc}: if {exc.fingerprint} is the server's key, run "
                       f"`pgwatch-gui profiles trust-host-key {name} --fingerprint "
                       f"{exc.fingerprint}`") from None
    except TunnelError as exc:
        raise CliError(f"profile {name!r}: {exc}") from None
    _tunnels.callback(threaded.close)
    _routes[through] = threaded
    return through


def explain_loss(conninfo: str, reason: str) -> str:
    """Why a connection with `conninfo` failed: through a tunnel that is down, the tunnel
    and its SSH server, not the refused local end of the tunnel."""
    threaded = _routes.get(conninfo)
    return threaded.route.explain(reason) if threaded is not None else reason


def route_for(conninfo: str):
    """The route of a listener or change stream that connects with `conninfo`: the
    command's SSH tunnel when the string goes through one (asked before each connect,
    so a bastion that went away is named), else None."""
    threaded = _routes.get(conninfo)
    return threaded.borrowed() if threaded is not None else None


def close_tunnels() -> None:
    """Close every tunnel a command opened (main() calls this when the command ends)."""
    _routes.clear()
    _tunnels.close()


def resolve_conninfo(args: argparse.Namespace) -> str:
    """The connection string a command should use: --profile, --dsn, or the environment.

    Worked out once per command (a --profile's tunnel opens once, however often asked)."""
    known = getattr(args, "_conninfo", None)
    if known is not None:
        return known
    name = getattr(args, "profile", None)
    conninfo = (profile_conninfo(open_store(), name) if name
                else dsn_conninfo(getattr(args, "dsn", None)))
    args._conninfo = conninfo
    return conninfo


def resolve_tables(args: argparse.Namespace, texts: list[str], option: str = "--table"
                   ) -> list[tuple[str, str]]:
    """The (schema, table) each text names on the command's server, written in SQL form
    or as the event table shows it; CliError (one line, naming it) when there is none."""
    if not texts:
        return []
    try:
        with connect_sync(resolve_conninfo(args)) as conn:
            return [resolve_table(conn, text) for text in texts]
    except IdentifierError as exc:
        raise CliError(f"{option}: {exc}") from None
    except psycopg.Error as exc:
        raise CliError(one_line(exc)) from None


def resolve_schema_arg(args: argparse.Namespace, text: str, option: str = "--schema") -> str:
    """The schema `text` names (SQL form or as shown); CliError when there is none."""
    try:
        with connect_sync(resolve_conninfo(args)) as conn:
            return resolve_schema(conn, text)
    except IdentifierError as exc:
        raise CliError(f"{option}: {exc}") from None
    except psycopg.Error as exc:
        raise CliError(one_line(exc)) from None


def resolve_channels(args: argparse.Namespace, given: list[str] | None) -> list[str]:
    """Channels from -c, else (with --profile) the profile's own channels."""
    if given:
        return list(given)
    name = getattr(args, "profile", None)
    if name:
        profile = ProfileStore.open().get(name)
        if profile is not None:
            return list(profile.channels)
    return []


def resolve_startup_connections(args: argparse.Namespace) -> list:
    """What the window connects to on start (a list of ui.app.StartupConnection).

    `--dsn` or `--profile`: that one connection (channels from `-c`, else the
    profile's). Only `-c`: the PG* environment. Nothing: every auto-connect profile.
    """
    from pgwatch_gui.ui.shell.app import StartupConnection

    given = list(getattr(args, "channel", None) or [])
    try:
        channels = [check_channel(c) for c in given]
    except NotifyError as exc:
        raise CliError(str(exc)) from None
    name = getattr(args, "profile", None)
    if getattr(args, "dsn", None) or (channels and not name):
        conninfo = dsn_conninfo(getattr(args, "dsn", None))
        return [StartupConnection(describe_target(conninfo), conninfo, channels)]
    store = open_store()
    if name:
        profile = store.get(name)
        if profile is not None and profile.uses_ssh:  # the window opens its tunnel itself
            return [StartupConnection(name, "", channels or list(profile.channels), ssh=True)]
        conninfo = profile_conninfo(store, name)
        profile = store.require(name)
        return [StartupConnection(name, conninfo, channels or list(profile.channels))]
    return [
        StartupConnection(p.name, "", list(p.channels), ssh=True) if p.uses_ssh else
        StartupConnection(p.name, p.conninfo(store.secrets.get(p.name)), list(p.channels))
        for p in store.auto_connect()
    ]


def positive_seconds(text: str) -> float:
    """argparse type for a duration: a finite number of seconds above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{cap_message(repr(text))} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of seconds above 0")
    return value

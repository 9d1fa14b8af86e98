"""`pgwatch-gui notify`: send one notification."""

from __future__ import annotations

import argparse

import psycopg

from pgwatch_gui.cli.common import CliError, add_connection_args, resolve_conninfo
from pgwatch_gui.core.pg.connection import connect_sync, one_line
from pgwatch_gui.core.pg.notify import NotifyError, check_channel, check_payload, send_notify_sync


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("notify", help="send one notification",
                       description="Send one notification (pg_notify) on a channel.")
    add_connection_args(p)
    p.add_argument("-c", "--channel", required=True, help="channel name, case and spaces kept")
    p.add_argument("-p", "--payload", default="", help="payload text (under 8,000 bytes)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        check_channel(args.channel)
        check_payload(args.payload)
    except NotifyError as exc:
        raise CliError(str(exc)) from None
    conninfo = resolve_conninfo(args)
    try:
        with connect_sync(conninfo) as conn:
            send_notify_sync(conn, args.channel, args.payload)
    except psycopg.Error as exc:
        raise CliError(one_line(exc)) from None
    return 0

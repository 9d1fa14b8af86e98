"""`pgwatch-gui history`: print what the journal holds, in `listen`'s line format;
`--forget` removes it from disk (core/journal/forget.py)."""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from pgwatch_gui.cli.common import CliError, output_errors
from pgwatch_gui.cli.filter_args import add_filter_args, filter_spec_from_args
from pgwatch_gui.cli.output import add_fields_arg, fields_of
from pgwatch_gui.core.journal.forget import forget_file
from pgwatch_gui.core.journal.reader import open_reader
from pgwatch_gui.core.journal.store import JournalError, default_path
from pgwatch_gui.core.stream.export import TextFormatter
from pgwatch_gui.core.stream.jsonl import JsonlFormatter
from pgwatch_gui.core.stream.recording import RecordError, parse_time

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "history",
        help="print events from the journal (what the window received)",
        description="Print events the window received, from its journal on disk, oldest "
        "first, one line each (as `listen` prints them). Works while the window runs.",
    )
    p.add_argument("--profile", metavar="NAME",
                   help="only this connection's events (its name in the window)")
    p.add_argument("--since", metavar="TIME",
                   help="from this time: ISO 8601 (local time unless it has an offset), "
                   "or an age such as 90s, 10m, 2h, 7d")
    p.add_argument("--until", metavar="TIME", help="before this time (same forms as --since)")
    p.add_argument("--limit", type=int, metavar="N",
                   help="only the newest N events that match (still printed oldest first)")
    p.add_argument("--format", choices=("jsonl", "text"), default="jsonl",
                   help="jsonl (default): one JSON object per line; text: for people")
    add_fields_arg(p, "received_at,op,key")
    p.add_argument("--journal", metavar="FILE",
                   help="read this journal file instead of the user data folder's")
    g = p.add_argument_group(
        "forgetting", "remove events from the journal for good: the rows are deleted, then "
        "the file is compacted so their bytes are gone from the disk (the -wal too)")
    g.add_argument("--forget", action="store_true",
                   help="remove instead of print; needs --profile NAME or --all")
    g.add_argument("--all", action="store_true",
                   help="with --forget: every connection (and journals kept aside)")
    g.add_argument("--before", metavar="TIME",
                   help="with --forget: only events received before TIME (same forms as "
                   "--since)")
    add_filter_args(p)  # exactly the filter flags of `filter` and the window's filter bar
    p.set_defaults(func=run)


def parse_when(text: str | None, flag: str, now: float | None = None) -> float | None:
    if text is None:
        return None
    m = _RELATIVE.match(text.strip())
    if m:
        return (time.time() if now is None else now) - float(m.group(1)) * _UNIT[m.group(2)]
    try:
        return parse_time(text)
    except RecordError:
        raise CliError(f"{flag} {text!r}: give an ISO 8601 time (2026-11-30T14:00, "
                       "2026-11-30 14:00:00+01:00) or an age (90s, 10m, 2h, 7d)") from None


_NOT_WITH_FORGET = ("since", "until", "limit", "text", "where", "filter_channel", "op",
                    "filter_table")


def forget(args: argparse.Namespace) -> int:
    given = [f"--{n.replace('filter_', '').replace('_', '-')}" for n in _NOT_WITH_FORGET
             if getattr(args, n, None)]
    given += [f"--{n.replace('_', '-')}" for n in ("regex", "case_sensitive", "hide_own")
              if getattr(args, n, False)]
    if given:
        raise CliError(f"--forget removes whole events by connection and time: "
                       f"{', '.join(given)} cannot be used with it (--profile, --all, "
                       "--before can)")
    if args.all == (args.profile is not None):
        raise CliError("--forget needs --profile NAME (one connection) or --all "
                       "(every connection), and takes --before TIME to keep newer events")
    before = parse_when(args.before, "--before")
    path = Path(args.journal) if args.journal else default_path()
    try:
        done = forget_file(path, profile=args.profile, before=before,
                           everything=args.all and before is None)
    except JournalError as exc:
        raise CliError(str(exc)) from None
    if not path.exists() and not done.removed_files:
        print(f"No journal at {path}: nothing to forget.")
    else:
        print(done.line())
    return 0


def run(args: argparse.Namespace) -> int:
    if args.forget:
        return forget(args)
    if args.all or args.before is not None:
        raise CliError("--all and --before go with --forget (to print a time range, "
                       "use --since and --until)")
    since = parse_when(args.since, "--since")
    until = parse_when(args.until, "--until")
    if args.limit is not None and args.limit < 1:
        raise CliError("--limit must be at least 1")
    fields = fields_of(args)
    spec = filter_spec_from_args(args)
    fmt_line = (JsonlFormatter(fields) if args.format == "jsonl" else TextFormatter()).line
    try:
        reader = open_reader(Path(args.journal) if args.journal else None)
    except JournalError as exc:
        raise CliError(str(exc)) from None
    out = sys.stdout
    if hasattr(out, "reconfigure"):
        # A lone surrogate (kept as received) prints as \udxxx, valid in JSON too.
        out.reconfigure(errors="backslashreplace")
    with output_errors(), reader:
        lines: list[str] = []
        for ev in reader.events(since=since, until=until, profile=args.profile, spec=spec,
                                limit=args.limit):
            lines.append(fmt_line(ev))
            if len(lines) >= 1000:
                out.write("\n".join(lines) + "\n")
                lines.clear()
        if lines:
            out.write("\n".join(lines) + "\n")
        out.flush()
    return 0

"""`pgwatch-gui filter`: keep the lines of a JSON Lines recording that match a filter.

Reads the output of `listen` or an export (files, or stdin for `-` or none) and writes
each matching line exactly as it came (bytes unchanged). The filter is the window's
filter bar: the same FilterSpec, compiled by the same engine. Gap lines always pass.
A line that is not an event (not JSON, not an object, no time) is left out and counted;
the count and the first such line are said on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import BinaryIO

from pgwatch_gui.cli.common import CliError, output_errors, warn
from pgwatch_gui.cli.filter_args import add_filter_args, filter_spec_from_args
from pgwatch_gui.core.filtering.engine import EventFilter, compile_filter
from pgwatch_gui.core.filtering.facets import FacetCache
from pgwatch_gui.core.stream.events import Event
from pgwatch_gui.core.stream.recording import RecordError, record_to_event

READ_SIZE = 1 << 18  # bytes asked for per read: the lines filtered together


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "filter",
        help="keep the matching lines of a JSON Lines recording",
        description="Read JSON Lines recordings (the output of `listen`, or an export) and "
        "write the lines that match, unchanged. With no FILE, or FILE -, read stdin. "
        "All given filter parts must match; a repeated option matches any of its values.",
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="recordings to read (- = stdin)")
    add_filter_args(p)
    p.set_defaults(func=run)


class _Tally:
    def __init__(self) -> None:
        self.skipped = 0
        self.first = ""


def _open_all(names: list[str]) -> list[tuple[str, BinaryIO]]:
    opened: list[tuple[str, BinaryIO]] = []
    try:
        for name in names or ["-"]:
            if name == "-":
                opened.append(("<stdin>", sys.stdin.buffer))
            else:
                opened.append((name, open(name, "rb")))  # noqa: SIM115 - closed in run()
    except OSError as exc:
        for _, f in opened:
            if f is not sys.stdin.buffer:
                f.close()
        raise CliError(f"cannot read {exc.filename}: {exc.strerror}") from None
    return opened


def _line_batches(src: BinaryIO, size: int = READ_SIZE) -> Iterator[list[bytes]]:
    """The lines of `src` without their newline, one batch per read.

    A read returns what has arrived, so a line that came down a pipe (`listen |
    filter`) is filtered and written before the next read waits, as grep does; a
    file is read in big blocks."""
    read = getattr(src, "read1", src.read)
    rest = b""
    while True:
        data = read(size)
        if not data:
            if rest:
                yield [rest]
            return
        data = rest + data if rest else data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            continue
        rest = data[cut:]
        yield data[:cut - 1].split(b"\n")


def _events(name: str, lines: list[bytes], first_no: int, tally: _Tally
            ) -> list[tuple[bytes, Event]]:
    out = []
    for no, raw in enumerate(lines, first_no):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw.decode("utf-8", "surrogateescape"))
            out.append((raw, record_to_event(rec, no)))
        except (ValueError, RecordError, TypeError) as exc:
            tally.skipped += 1
            if not tally.first:
                reason = (str(exc).splitlines() or ["unreadable"])[0][:200]
                tally.first = f"{name} line {no}: {reason}"
    return out


def filter_stream(name: str, src: BinaryIO, out: BinaryIO, flt: EventFilter,
                  tally: _Tally) -> int:
    """Write the matching lines of `src` to `out`; returns how many."""
    written = 0
    no = 1
    for lines in _line_batches(src):
        chunk = _events(name, lines, no, tally)
        no += len(lines)
        events = [ev for _, ev in chunk]
        keep = flt.select(events, 0, FacetCache()) if flt.active else range(len(chunk))
        if keep:
            out.write(b"".join(chunk[i][0] + b"\n" for i in keep))
            out.flush()
        written += len(keep)
    return written


def run(args: argparse.Namespace) -> int:
    flt = compile_filter(filter_spec_from_args(args))
    opened = _open_all(list(args.files))
    tally = _Tally()
    out = sys.stdout.buffer
    try:
        with output_errors():
            for name, src in opened:
                filter_stream(name, src, out, flt, tally)
    finally:
        for _, f in opened:
            if f is not sys.stdin.buffer:
                f.close()
    if tally.skipped:
        warn(f"left out {tally.skipped} line(s) that are not events (first: {tally.first})")
    return 0

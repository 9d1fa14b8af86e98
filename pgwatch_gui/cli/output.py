"""Printing events as lines on stdout, for `listen` and `changes`: JSON Lines (all fields
or the chosen ones), text, or (`changes`) each change's envelope alone, only what passes
the filter flags, one write per batch, and a count to stop at.

A raw source's batches also hold chunks (a read's notifications as libpq gave them, a
read's row changes as the decoder wrote them): without a filter their JSON Lines are
made straight from them (core/stream/chunks.py), with one they become Events first.

Into a regular file (`> file`), the writes go to a thread of their own (FileWriter): the
kernel's share of a write (copying into the page cache, allocating its pages: 0.05 to
0.25 s per 90 MB here) then overlaps with making the next batch's lines. A pipe or a
terminal is written as before, in the loop's thread: a reader that stalls or goes away
(`| head`) stops the command as docs/guide/cli.md says."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import stat
import sys
import threading
from collections import deque
from itertools import chain
from operator import itemgetter
from typing import TextIO

from pgwatch_gui.cli.common import CliError
from pgwatch_gui.cli.ending import quiet_stdout, say
from pgwatch_gui.core.filtering.engine import FilterSpec, compile_filter
from pgwatch_gui.core.filtering.facets import FacetCache
from pgwatch_gui.core.stream.chunk_lines import ChunkLines
from pgwatch_gui.core.stream.chunks import ChangeChunk, NotifyChunk
from pgwatch_gui.core.stream.events import KIND_CHANGE, KIND_NOTIFY, Event
from pgwatch_gui.core.stream.export import TextFormatter
from pgwatch_gui.core.stream.jsonl import FIELDS, JsonlFormatter, parse_fields

_CHUNKS = (NotifyChunk, ChangeChunk)
ENVELOPE = "envelope"  # `changes --format envelope`: a line is a change's envelope alone


def add_fields_arg(p: argparse.ArgumentParser, example: str = "channel,payload") -> None:
    """`--fields`, as `listen`, `changes` and `history` take it."""
    p.add_argument("--fields", metavar="NAME,...", type=_fields,
                   help=f"jsonl with only these fields, in this order (e.g. {example}); "
                   "default: " + ",".join(FIELDS))


def fields_of(args: argparse.Namespace) -> tuple[str, ...]:
    """The fields of a jsonl line the command was asked for (all by default); --fields
    with another format is a usage error (one line, exit 2)."""
    fields = getattr(args, "fields", None)
    if fields and args.format != "jsonl":
        raise CliError("--fields chooses the fields of --format jsonl")
    return fields or FIELDS


def _fields(text: str) -> tuple[str, ...]:
    try:
        return parse_fields(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class EnvelopeLines:
    """`changes --format envelope`: each row change's envelope as the decoder wrote it,
    one per line (the `payload` of its jsonl line, unquoted), straight from the chunks."""

    @staticmethod
    def lines(chunks: list[ChangeChunk]) -> bytes:
        envelopes = map(_envelope, chain.from_iterable(c.items for c in chunks))
        return b"\n".join(chain(envelopes, (b"",)))

    @staticmethod
    def line(ev: Event) -> str:
        return ev.payload


_envelope = itemgetter(0)


class LinePrinter:
    """With `count`, printing stops once that many events of `kind` went out; gap rows
    are printed and not counted. When the reader of `out` went away (`| head`), `gone`
    is set and printing stops: no exception leaves print_batch."""

    def __init__(self, fmt: str, *, count: int | None = None, kind: str = KIND_NOTIFY,
                 spec: FilterSpec | None = None, out: TextIO | None = None,
                 fields: tuple[str, ...] = FIELDS) -> None:
        formatter = JsonlFormatter(fields) if fmt == "jsonl" else \
            EnvelopeLines() if fmt == ENVELOPE else TextFormatter()
        self._line = formatter.line
        self._envelopes = fmt == ENVELOPE  # only row changes are lines; notes go to stderr
        flt = compile_filter(spec) if spec is not None else None
        self._filter = flt if flt is not None and flt.active else None
        # Lines straight from a chunk's bytes: JSON Lines or envelopes, nothing to filter
        self._chunk_lines = None if self._filter is not None or fmt == "text" else \
            formatter if fmt == ENVELOPE else ChunkLines(fields)
        self.count = count
        self.kind = kind
        self.seen = 0
        self.gone = False
        self.failed: OSError | None = None  # a write failed (a full disk): nothing more
        self._out = out if out is not None else sys.stdout
        self._file: FileWriter | None = None
        self._checked_file = False

    @property
    def done(self) -> bool:
        return self.gone or self.failed is not None or \
            (self.count is not None and self.seen >= self.count)

    def print_batch(self, batch: list) -> bool:
        """Print what of `batch` passes; True once `count` is reached (or `gone`, or
        `failed`)."""
        if self.gone or self.failed is not None:
            return True
        out: list[bytes] = []
        events: list[Event] = []
        chunks: list = []
        for item in batch:
            if type(item) in _CHUNKS:
                if self._chunk_lines is None:
                    events.extend(item.events())
                    continue
                if events:
                    self._events(events, out)
                    events = []
                chunks.append(item)
            else:
                if chunks:
                    self._chunks(chunks, out)
                    chunks = []
                events.append(item)
        if chunks:
            self._chunks(chunks, out)
        if events:
            self._events(events, out)
        if out:
            try:
                self._write(b"".join(out))
            except (BrokenPipeError, ConnectionResetError):
                self.gone = True
            except OSError as exc:  # a full disk, a file too large: said by the command
                self.failed = exc
                quiet_stdout(self._out)  # the lines its buffer still holds are lost
        return self.done

    def close(self) -> None:
        """Wait until every line handed over is written (`failed` says if one could not
        be). The command calls it before it ends; at exit it happens anyway."""
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                if self.failed is None:
                    self.failed = exc

    def _chunks(self, chunks: list, out: list[bytes]) -> None:
        if self.count is not None:
            left = self.count - self.seen
            kept = []
            for c in chunks:
                if left <= 0:
                    break
                if len(c) > left:
                    c = c.head(left)
                kept.append(c)
                left -= len(c)
            chunks = kept
            self.seen += sum(len(c) for c in chunks if c.kind == self.kind)
        if chunks:
            assert self._chunk_lines is not None
            out.append(self._chunk_lines.lines(chunks))

    def _events(self, batch: list[Event], out: list[bytes]) -> None:
        if self._envelopes and any(ev.kind != KIND_CHANGE for ev in batch):
            for ev in batch:  # a gap line (a table added to the stream) is a note
                if ev.kind != KIND_CHANGE:
                    say(f"pgwatch-gui: {ev.payload}")
            batch = [ev for ev in batch if ev.kind == KIND_CHANGE]
        if self._filter is not None:
            batch = [batch[i] for i in self._filter.select(batch, 0, FacetCache())]
        fmt_line, count, kind = self._line, self.count, self.kind
        if count is None or self.seen + len(batch) <= count:  # the whole batch, in one map
            lines = list(map(fmt_line, batch))
            if count is not None:
                self.seen += sum(1 for ev in batch if ev.kind == kind)
        else:
            lines = []
            for ev in batch:
                if self.seen >= count:
                    break
                lines.append(fmt_line(ev))
                if ev.kind == kind:
                    self.seen += 1
        if lines:
            lines.append("")  # the last line's newline, without copying the joined text
            out.append("\n".join(lines).encode("utf-8", "backslashreplace"))

    def _write(self, data: bytes) -> None:
        """One write of the batch's bytes (to the binary layer under a text stdout)."""
        if not self._checked_file:
            self._checked_file = True
            self._file = FileWriter.for_stream(self._out)
        if self._file is not None:
            self._file.write(data)
            return
        buffer = getattr(self._out, "buffer", None)
        if buffer is None:
            self._out.write(data.decode("utf-8"))
            self._out.flush()
            return
        self._out.flush()  # anything written as text before goes first
        buffer.write(data)
        buffer.flush()


class FileWriter:
    """Writes bytes to a regular file on a thread of its own, in the order handed over.

    `write` returns at once unless more than MAX_PENDING bytes wait (then it waits, as a
    write would); a write that failed is raised by the next `write` or by `close`, which
    waits until everything is written. A daemon thread, drained by an atexit handler
    too: whatever was handed over is in the file before the process ends."""

    MAX_PENDING = 32 << 20

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._cond = threading.Condition()
        self._queue: deque[bytes] = deque()
        self._pending = 0
        self._error: OSError | None = None
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="output-writer", daemon=True)
        self._thread.start()
        atexit.register(self._at_exit)

    @classmethod
    def for_stream(cls, stream) -> FileWriter | None:
        """A writer for `stream`'s file when it is a regular file, else None. What the
        stream holds already is flushed first."""
        try:
            fd = stream.fileno()
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            stream.flush()
        except (AttributeError, OSError, ValueError):
            return None
        return cls(fd)

    def write(self, data: bytes) -> None:
        with self._cond:
            while self._pending > self.MAX_PENDING and self._error is None:
                self._cond.wait()
            if self._error is not None:
                raise self._error
            if self._closing:
                raise ValueError("write to a closed FileWriter")
            self._queue.append(data)
            self._pending += len(data)
            self._cond.notify_all()

    def close(self) -> None:
        """Wait until everything handed over is written; raise a write's error."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join()
        with contextlib.suppress(Exception):
            atexit.unregister(self._at_exit)
        if self._error is not None:
            raise self._error

    def _at_exit(self) -> None:
        with contextlib.suppress(OSError):  # the command has said it, or is gone by now
            self.close()

    def _run(self) -> None:
        cond, queue = self._cond, self._queue
        while True:
            with cond:
                while not queue and not self._closing:
                    cond.wait()
                if not queue:
                    return
                data = queue.popleft()
            try:
                _write_all(self._fd, data)
            except OSError as exc:
                with cond:
                    self._error = exc
                    queue.clear()
                    self._pending = 0
                    cond.notify_all()
                return
            with cond:
                self._pending -= len(data)
                cond.notify_all()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]

"""Printing events as lines on stdout, for `listen` and `changes`: JSON Lines (all fields
or the chosen ones) or text, only what passes the filter flags, one write per batch, and
a count to stop at.

A raw source's batches also hold chunks (a read's notifications as libpq gave them, a
read's row changes as the decoder wrote them): without a filter their JSON Lines are
made straight from them (core/stream/chunks.py), with one they become Events first."""

from __future__ import annotations

import sys
from typing import TextIO

from pgwatch_gui.core.filtering.engine import FilterSpec, compile_filter
from pgwatch_gui.core.filtering.facets import FacetCache
from pgwatch_gui.core.stream.chunk_lines import ChunkLines
from pgwatch_gui.core.stream.chunks import ChangeChunk, NotifyChunk
from pgwatch_gui.core.stream.events import KIND_NOTIFY, Event
from pgwatch_gui.core.stream.export import TextFormatter
from pgwatch_gui.core.stream.jsonl import FIELDS, JsonlFormatter

_CHUNKS = (NotifyChunk, ChangeChunk)


class LinePrinter:
    """With `count`, printing stops once that many events of `kind` went out; gap rows
    are printed and not counted. When the reader of `out` went away (`| head`), `gone`
    is set and printing stops: no exception leaves print_batch."""

    def __init__(self, fmt: str, *, count: int | None = None, kind: str = KIND_NOTIFY,
                 spec: FilterSpec | None = None, out: TextIO | None = None,
                 fields: tuple[str, ...] = FIELDS) -> None:
        self._line = (JsonlFormatter(fields) if fmt == "jsonl" else TextFormatter()).line
        flt = compile_filter(spec) if spec is not None else None
        self._filter = flt if flt is not None and flt.active else None
        # Lines straight from a chunk's bytes: JSON Lines, and nothing to filter
        self._chunk_lines = ChunkLines(fields) if fmt == "jsonl" and self._filter is None \
            else None
        self.count = count
        self.kind = kind
        self.seen = 0
        self.gone = False
        self._out = out if out is not None else sys.stdout

    @property
    def done(self) -> bool:
        return self.gone or (self.count is not None and self.seen >= self.count)

    def print_batch(self, batch: list) -> bool:
        """Print what of `batch` passes; True once `count` is reached (or `gone`)."""
        if self.gone:
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
        return self.done

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
        buffer = getattr(self._out, "buffer", None)
        if buffer is None:
            self._out.write(data.decode("utf-8"))
            self._out.flush()
            return
        self._out.flush()  # anything written as text before goes first
        buffer.write(data)
        buffer.flush()

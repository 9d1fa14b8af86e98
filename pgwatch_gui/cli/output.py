"""Printing events as lines on stdout, for `listen` and `changes`: JSON Lines or text,
only what passes the filter flags, one write per batch, and a count to stop at."""

from __future__ import annotations

import sys
from typing import TextIO

from pgwatch_gui.core.filtering.engine import FilterSpec, compile_filter
from pgwatch_gui.core.filtering.facets import FacetCache
from pgwatch_gui.core.stream.events import KIND_NOTIFY, Event
from pgwatch_gui.core.stream.export import TextFormatter
from pgwatch_gui.core.stream.jsonl import JsonlFormatter


class LinePrinter:
    """With `count`, printing stops once that many events of `kind` went out; gap rows
    are printed and not counted."""

    def __init__(self, fmt: str, *, count: int | None = None, kind: str = KIND_NOTIFY,
                 spec: FilterSpec | None = None, out: TextIO | None = None) -> None:
        self._line = (JsonlFormatter() if fmt == "jsonl" else TextFormatter()).line
        flt = compile_filter(spec) if spec is not None else None
        self._filter = flt if flt is not None and flt.active else None
        self.count = count
        self.kind = kind
        self.seen = 0
        self._out = out if out is not None else sys.stdout

    @property
    def done(self) -> bool:
        return self.count is not None and self.seen >= self.count

    def print_batch(self, batch: list[Event]) -> bool:
        """Print what of `batch` passes; True once `count` is reached."""
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
            self._out.write("\n".join(lines))
            self._out.flush()
        return self.done

"""Events per second over the last minutes, per channel or per table/operation.

A RateCounter keeps one bucket per second and series for a window (300 s by default).
Counting per channel costs one C-level Counter over a batch; per table/operation needs
the payload decoded, so a large batch is sampled (every k-th event, counted k times)
and the figures are then estimates.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from operator import attrgetter

from pgwatch_gui.core.filtering.facets import facets_of
from pgwatch_gui.core.stream.events import KIND_GAP, Event

MODES = ("channel", "table/op")
SAMPLE_ABOVE = 2_000  # per table/op: decode at most about this many events of a batch
_channel = attrgetter("channel")


def series_name(ev: Event, mode: str) -> str:
    if mode == "channel":
        return ev.channel
    op, table, _key = facets_of(ev)
    return f"{table or '(no table)'} {op or '(no op)'}"


class RateCounter:
    def __init__(self, window: int = 300, mode: str = "channel") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown rate mode {mode!r}")
        self.window = window
        self.mode = mode
        self._buckets: dict[int, Counter[str]] = defaultdict(Counter)
        self.sampled = False

    def clear(self) -> None:
        self._buckets.clear()
        self.sampled = False

    def add(self, batch: Sequence[Event], now: float | None = None) -> None:
        if not batch:
            return
        second = int(batch[-1].received_at if now is None else now)
        bucket = self._buckets[second]
        if self.mode == "channel":
            bucket.update(map(_channel, (e for e in batch if e.kind != KIND_GAP)))
        else:
            step = max(1, len(batch) // SAMPLE_ABOVE)
            if step > 1:
                self.sampled = True
            for ev in batch[::step]:
                if ev.kind != KIND_GAP:
                    bucket[series_name(ev, self.mode)] += step
        self._trim(second)

    def add_counts(self, rows: Sequence[tuple[int, str, int]]) -> None:
        """(second, series, count) rows, e.g. from JournalReader.counts_per_second."""
        for second, name, n in rows:
            self._buckets[int(second)][name] += n
        if rows:
            self._trim(max(int(r[0]) for r in rows))

    def _trim(self, newest: int) -> None:
        oldest = newest - self.window
        for s in [s for s in self._buckets if s <= oldest]:
            del self._buckets[s]

    def series(self, now: float, top: int = 6) -> tuple[int, dict[str, list[int]]]:
        """(first second, {series: counts per second}) over the window ending at `now`;
        the `top` busiest series by name, the rest summed as "other"."""
        end = int(now)
        start = end - self.window + 1
        totals: Counter[str] = Counter()
        for s, c in self._buckets.items():
            if s >= start:
                totals.update(c)
        names = [n for n, _ in totals.most_common(top)]
        out: dict[str, list[int]] = {n: [0] * self.window for n in names}
        rest = len(totals) > len(names)
        if rest:
            out["other"] = [0] * self.window
        for s, c in self._buckets.items():
            i = s - start
            if 0 <= i < self.window:
                for n, k in c.items():
                    out[n if n in out else "other"][i] += k
        return start, out

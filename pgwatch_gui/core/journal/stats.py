"""Statistics over a set of events: counts by channel, table and operation, the busiest
keys, payload size percentiles, gaps."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from pgwatch_gui.core.filtering.facets import facets_of
from pgwatch_gui.core.stream.events import Event


@dataclass
class Stats:
    events: int = 0
    notifications: int = 0
    gaps: int = 0
    own: int = 0
    first: float | None = None
    last: float | None = None
    by_channel: Counter[str] = field(default_factory=Counter)
    by_table: Counter[str] = field(default_factory=Counter)
    by_op: Counter[str] = field(default_factory=Counter)
    by_key: Counter[str] = field(default_factory=Counter)  # "schema.table key=.."
    sizes: dict[str, int] = field(default_factory=dict)  # p50, p90, p99, max
    total_bytes: int = 0

    @property
    def span(self) -> float:
        return (self.last - self.first) if self.first is not None and self.last else 0.0

    def top_keys(self, n: int = 10) -> list[tuple[str, int]]:
        return self.by_key.most_common(n)


def percentile(sorted_values: list[int], p: float) -> int:
    """Nearest-rank percentile of an ascending list (0 when empty)."""
    if not sorted_values:
        return 0
    k = max(0, min(len(sorted_values) - 1, math.ceil(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


def compute_stats(events: Iterable[Event]) -> Stats:
    st = Stats()
    sizes: list[int] = []
    for ev in events:
        st.events += 1
        if st.first is None or ev.received_at < st.first:
            st.first = ev.received_at
        if st.last is None or ev.received_at > st.last:
            st.last = ev.received_at
        if ev.is_gap:
            st.gaps += 1
            continue
        st.notifications += 1
        if ev.own:
            st.own += 1
        st.by_channel[ev.channel] += 1
        op, table, key = facets_of(ev)
        st.by_table[table or "(no table)"] += 1
        st.by_op[op or "(none)"] += 1
        if key:
            st.by_key[f"{table} {key}" if table else key] += 1
        sizes.append(ev.size)
    sizes.sort()
    st.total_bytes = sum(sizes)
    st.sizes = {"p50": percentile(sizes, 50), "p90": percentile(sizes, 90),
                "p99": percentile(sizes, 99), "max": sizes[-1] if sizes else 0}
    return st

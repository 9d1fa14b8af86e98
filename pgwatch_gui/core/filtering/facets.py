"""Facets: what the pickers and the table show of an event (operation, table, key).

They come out of the decoded payload, so they are kept in a compact FacetCache (a tuple
of three short strings per event): changing the filter does not decode again, and a
filter never fills the Event's own decode cache (the full parsed JSON of 100,000 rows
would cost hundreds of megabytes).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable

from pgwatch_gui.core.stream.events import KIND_GAP, Event, format_key
from pgwatch_gui.core.stream.payloads import Decoded, decode_payload, peek_payload

# (operation, schema.table, key text); "" when unknown.
Facets = tuple[str, str, str]
NO_FACETS: Facets = ("", "", "")

# Shown in the operation and table pickers for rows whose payload names none.
OP_NONE = "(none)"
TABLE_NONE = "(none)"


_shared: dict[Facets, Facets] = {}


def decoded_of(ev: Event) -> Decoded:
    """The event's decoded payload, without storing it in the event if it was not yet."""
    d = ev._decoded
    if d is None:
        if ev.is_gap:
            return ev.decoded
        d = decode_payload(ev.payload)
    return d


def qualified(d: Decoded) -> str:
    """schema.table as the table shows it ("" when the payload names no table)."""
    if d.table is None:
        return ""
    return f"{d.schema}.{d.table}" if d.schema else d.table


def facets_of(ev: Event) -> Facets:
    if ev.is_gap:
        return NO_FACETS
    d = ev._decoded
    if d is None:
        d = peek_payload(ev.payload)  # op, table and key only: the rest is not built
    f = (d.op or "", sys.intern(qualified(d)), format_key(d.key))
    if f[2] == "":
        # Share the tuple: most rows without a key have one of a few (op, table) pairs.
        shared = _shared.get(f)
        if shared is None:
            if len(_shared) > 10_000:
                _shared.clear()
            shared = _shared[f] = f
        return shared
    return f


class FacetCache:
    """Facets by a caller-chosen key (the model uses each row's absolute position).

    Keys below `floor` belong to rows that are gone (the model forgets the oldest rows
    and, when cleared, everything before its new first position): their facets are
    computed but not kept, so work that started before the rows left stores nothing."""

    def __init__(self) -> None:
        self._d: dict[int, Facets] = {}
        self.floor = 0

    def __len__(self) -> int:
        return len(self._d)

    def get(self, key: int, ev: Event) -> Facets:
        f = self._d.get(key)
        if f is None:
            f = facets_of(ev)
            if key >= self.floor:
                self._d[key] = f
        return f

    def peek(self, key: int) -> Facets | None:
        return self._d.get(key)

    def forget_range(self, start: int, stop: int) -> None:
        """The rows at start..stop-1, the oldest held, are gone."""
        self.floor = max(self.floor, stop)
        d = self._d
        if not d:
            return
        if stop - start > len(d):
            for k in [k for k in d if start <= k < stop]:
                del d[k]
        else:
            pop = d.pop
            for k in range(start, stop):
                pop(k, None)

    def clear(self, floor: int | None = None) -> None:
        """Forget every facet; with `floor`, rows before it are gone too."""
        self._d.clear()
        if floor is not None:
            self.floor = max(self.floor, floor)

    def missing(self, keyed: Iterable[tuple[int, Event]]) -> list[tuple[int, Event]]:
        """The (key, event) pairs, gap rows left out, whose facets are not cached."""
        d = self._d
        return [(k, ev) for k, ev in keyed if k not in d and ev.kind != KIND_GAP]

    def known(self) -> tuple[set[str], set[str]]:
        """(operations, tables) among the cached facets, gap rows left out."""
        held = [f for f in self._d.values() if f is not NO_FACETS]
        return {f[0] or OP_NONE for f in held}, {f[1] or TABLE_NONE for f in held}


class FacetScan:
    """Fills a FacetCache for many rows a slice at a time, so that code on an event loop
    can look at 20,000 rows (a decode each) without stopping the loop for their sum:
    `step(budget)` works for about `budget` seconds and says whether all are done."""

    SLICE = 256  # rows between looks at the clock

    def __init__(self, keyed: list[tuple[int, Event]], cache: FacetCache) -> None:
        self._keyed = keyed
        self._cache = cache
        self._i = 0

    @property
    def done(self) -> bool:
        return self._i >= len(self._keyed)

    def __len__(self) -> int:
        return len(self._keyed)

    def step(self, budget: float = 0.004) -> bool:
        clock = time.perf_counter
        until = clock() + budget
        keyed, get, i, n = self._keyed, self._cache.get, self._i, len(self._keyed)
        while i < n:
            for k, ev in keyed[i:i + self.SLICE]:
                get(k, ev)
            i += self.SLICE
            if clock() > until:
                break
        self._i = min(i, n)
        return self.done

"""Filtering Events, without Qt: free text, regular expressions, pickers, field conditions.

A FilterSpec says what the user asked for; `compile_filter` turns it into an EventFilter
whose `select()` runs over a batch once (never a per-row callback from a view). Mistakes
in a regular expression or a field condition do not raise: they land in `errors` and the
part in error is left out, so the table keeps showing something sensible while the user
types.

Cost model. Everything a filter can look at without decoding JSON (channel, payload
text) is checked first; operation, table and key come from the FacetCache
(`facets.py`), field conditions from the field language (`fields.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pgwatch_gui.core.filtering.facets import OP_NONE, TABLE_NONE, FacetCache
from pgwatch_gui.core.filtering.fields import FieldSyntaxError, fields_part, parse_fields
from pgwatch_gui.core.pg.names import TableNames
from pgwatch_gui.core.stream.events import Event


@dataclass(frozen=True)
class FilterSpec:
    text: str = ""
    regex: bool = False
    case_sensitive: bool = False
    channels: frozenset[str] = frozenset()  # empty: every channel
    ops: frozenset[str] = frozenset()  # INSERT/UPDATE/DELETE/TRUNCATE/OP_NONE
    tables: frozenset[str] = frozenset()  # "schema.table" as shown, or TABLE_NONE
    # Tables as a user types them (the command line's --table): in SQL form or as shown,
    # a name without a schema in any schema (core.pg.names.TableNames).
    table_names: frozenset[str] = frozenset()
    fields: str = ""  # field conditions, e.g. "key.id = 42 and row.status = shipped"
    hide_own: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.text or self.channels or self.ops or self.tables
                    or self.table_names or self.fields.strip() or self.hide_own)


_SPAN_SPLIT = re.compile(r"[.=,]+")  # what the table/key columns add to the payload's text
_PIECES = re.compile(r"[.=,\s]+")


@dataclass
class EventFilter:
    """A compiled FilterSpec. `errors` maps 'text' / 'fields' to a one-line message."""

    spec: FilterSpec
    errors: dict[str, str] = field(default_factory=dict)
    _parts: list[Callable[[Event, int, FacetCache], bool]] = field(default_factory=list)
    # The most common filter, plain text alone, runs as one comprehension (no call per row).
    _fast: Callable[[Sequence[Event]], list[int]] | None = None

    @property
    def active(self) -> bool:
        return bool(self._parts)

    @property
    def error(self) -> str | None:
        return "; ".join(self.errors.values()) or None

    def matches(self, ev: Event, key: int = -1, cache: FacetCache | None = None) -> bool:
        if ev.is_gap:
            return True  # a gap concerns every row after it: never hide it
        c = cache if cache is not None else FacetCache()
        return all(p(ev, key, c) for p in self._parts)

    def select(self, events: Sequence[Event], first_key: int = 0,
               cache: FacetCache | None = None) -> list[int]:
        """Indexes into `events` of the events that pass (gap markers always pass)."""
        parts = self._parts
        if not parts:
            return list(range(len(events)))
        if self._fast is not None:
            return self._fast(events)
        c = cache if cache is not None else FacetCache()
        if len(parts) == 1:
            p = parts[0]
            return [i for i, ev in enumerate(events)
                    if ev.kind == "gap" or p(ev, first_key + i, c)]
        out = []
        for i, ev in enumerate(events):
            if ev.kind == "gap":
                out.append(i)
                continue
            k = first_key + i
            for p in parts:
                if not p(ev, k, c):
                    break
            else:
                out.append(i)
        return out


def compile_filter(spec: FilterSpec) -> EventFilter:
    f = EventFilter(spec)
    parts = f._parts
    if spec.channels:
        chans = spec.channels
        parts.append(lambda ev, k, c: ev.channel in chans)
    if spec.hide_own:
        parts.append(lambda ev, k, c: not ev.own)
    if spec.text:
        text_part = _text_part(spec, f.errors)
        if text_part is not None:
            parts.append(text_part)
    if spec.ops:
        ops = frozenset("" if o == OP_NONE else o for o in spec.ops)
        parts.append(lambda ev, k, c: c.get(k, ev)[0] in ops)
    if spec.tables:
        tables = frozenset("" if t == TABLE_NONE else t for t in spec.tables)
        parts.append(lambda ev, k, c: c.get(k, ev)[1] in tables)
    if spec.table_names:
        named = TableNames(spec.table_names).matches
        parts.append(lambda ev, k, c: named(c.get(k, ev)[1]))
    if spec.fields.strip():
        try:
            groups = parse_fields(spec.fields)
        except FieldSyntaxError as exc:
            f.errors["fields"] = str(exc)
        else:
            if groups:
                parts.append(fields_part(groups))
    # The fast path stands for the whole filter, so it is chosen only once every part is
    # known: plain text must be the one and only part (else `select` would skip the
    # others while `matches` applies them).
    if len(parts) == 1 and spec.text and not spec.regex and not _SPAN_SPLIT.search(spec.text) \
            and not spec.channels and not spec.hide_own and not spec.ops and not spec.tables \
            and not spec.table_names:
        f._fast = _fast_text_select(spec.text, spec.case_sensitive)
    return f


def _text_part(spec: FilterSpec, errors: dict[str, str]):
    """Free text: the channel and the payload as received, and (plain text only) the
    table and key as the table shows them.

    Table and key come out of the payload, so a needle can match them without matching
    the payload only by spanning what the table adds ("public.orders", "id=42", "a=1,
    b=2"). Those
    rows are decoded (into the facet cache) only when every piece of the needle between
    such separators is in the payload; other rows are settled on the raw text.
    A regular expression is matched against the channel and the payload.
    """
    text = spec.text
    if spec.regex:
        try:
            rx = re.compile(text, 0 if spec.case_sensitive else re.IGNORECASE)
        except re.error as exc:
            errors["text"] = f"invalid regular expression: {exc}"
            return None
        search = rx.search
        return lambda ev, k, c: search(ev.payload) is not None or search(ev.channel) is not None
    fold = (lambda s: s) if spec.case_sensitive else str.lower
    needle = fold(text)
    pieces = [p for p in _PIECES.split(needle) if p]
    if not _SPAN_SPLIT.search(needle) or not pieces:
        if spec.case_sensitive:
            return lambda ev, k, c: needle in ev.payload or needle in ev.channel
        return lambda ev, k, c: needle in ev.payload.lower() or needle in ev.channel.lower()

    def part(ev: Event, k: int, c: FacetCache) -> bool:
        payload = fold(ev.payload)
        if needle in payload or needle in fold(ev.channel):
            return True
        for p in pieces:
            if p not in payload:
                return False
        f = c.get(k, ev)
        return needle in fold(f[1]) or needle in fold(f[2])
    return part


def _fast_text_select(text: str, case_sensitive: bool):
    """One comprehension over the rows; the channel is tested once per distinct channel
    (there are few), and lowercasing is skipped when the needle has no letters."""
    folded = not (case_sensitive or text.lower() == text.upper())
    needle = text.lower() if folded else text

    def select(events: Sequence[Event]) -> list[int]:
        channels = {ev.channel for ev in events}
        hit = {c for c in channels if needle in (c.lower() if folded else c)}
        if folded:
            if hit:
                return [i for i, ev in enumerate(events)
                        if needle in ev.payload.lower() or ev.channel in hit
                        or ev.kind == "gap"]
            return [i for i, ev in enumerate(events)
                    if needle in ev.payload.lower() or ev.kind == "gap"]
        if hit:
            return [i for i, ev in enumerate(events)
                    if needle in ev.payload or ev.channel in hit or ev.kind == "gap"]
        return [i for i, ev in enumerate(events) if needle in ev.payload or ev.kind == "gap"]
    return select

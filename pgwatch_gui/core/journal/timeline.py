"""A key's timeline: the versions of one row, each with what changed since the one before.

The row after each event comes from its payload (this tool's envelope `row`, or the
usual new/old pairs); a payload that carries only the changed columns (diff mode)
updates the row known so far. When neither the previous version nor the payload says
what the row was, the change is what the payload itself says (its own old/new pair), or
nothing can be told (keys-only payloads): the entry then says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pgwatch_gui.core.stream.events import Event
from pgwatch_gui.core.stream.payload_view import (
    ADDED,
    REMOVED,
    SAME,
    parse_exact,
    row_diff,
    scalar_text,
)


@dataclass(frozen=True)
class Change:
    column: str
    old: Any
    new: Any
    state: str  # CHANGED / ADDED / REMOVED (payload_view's states)

    def text(self) -> str:
        if self.state == ADDED:
            return f"{self.column} = {scalar_text(self.new)}"
        if self.state == REMOVED:
            return f"{self.column} removed (was {scalar_text(self.old)})"
        return f"{self.column}: {scalar_text(self.old)} → {scalar_text(self.new)}"


@dataclass(frozen=True)
class TimelineEntry:
    event: Event
    row: dict[str, Any] | None  # the row after this event, as far as known
    changes: tuple[Change, ...]
    note: str = ""  # "first version", "deleted", "payload names no columns", ...

    def summary(self) -> str:
        if self.changes:
            return "; ".join(c.text() for c in self.changes)
        return self.note


def _parse(ev: Event) -> Any:
    try:
        return parse_exact(ev.payload)
    except (ValueError, RecursionError):
        return None


def _diff_rows(old: dict, new: dict) -> tuple[Change, ...]:
    out = []
    for c, v in new.items():
        if c not in old:
            out.append(Change(c, None, v, ADDED))
        elif old[c] != v or type(old[c]) is not type(v):
            out.append(Change(c, old[c], v, "changed"))
    out += [Change(c, v, None, REMOVED) for c, v in old.items() if c not in new]
    return tuple(out)


def build_timeline(events: list[Event]) -> list[TimelineEntry]:
    """Entries for `events` (oldest first, all about one key)."""
    entries: list[TimelineEntry] = []
    prev: dict[str, Any] | None = None
    for ev in events:
        value = _parse(ev)
        op = ev.op
        rd = row_diff(value, op) if value is not None else None
        only_changed = bool(rd and rd.only_changed)
        new_row: dict[str, Any] | None = None
        if rd is not None and any(ln.has_new for ln in rd.lines):
            new_row = {ln.column: ln.new for ln in rd.lines if ln.has_new}
        elif isinstance(value, dict) and value.get("v") != 1 and rd is None and op is None \
                and ev.table is None:
            new_row = value  # a bare row_to_json(NEW)
        if op == "DELETE":
            changes = ()
            note = "deleted"
            row = None
        elif new_row is not None and only_changed and prev is not None:
            row = {**prev, **new_row}
            changes = _diff_rows(prev, row)
            note = "" if changes else "no column changed"
        elif new_row is not None and prev is not None:
            row = new_row
            changes = _diff_rows(prev, row)
            note = "" if changes else "no column changed"
        elif new_row is not None:
            row = new_row
            if rd is not None and op == "UPDATE" and any(ln.has_old for ln in rd.lines):
                changes = tuple(Change(ln.column, ln.old, ln.new,
                                       "changed" if ln.has_old and ln.has_new else ln.state)
                                for ln in rd.lines if ln.state != SAME)
                note = ""
            else:
                changes = ()
                note = "first version seen" if op != "INSERT" else "inserted"
        else:
            row = prev if op == "UPDATE" else None
            changes = ()
            note = "the payload names no columns (keys only)"
        entries.append(TimelineEntry(ev, row, changes, note))
        prev = row if op != "DELETE" else None
    return entries

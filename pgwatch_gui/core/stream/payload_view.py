"""What the payload inspector shows, without Qt: exact pretty JSON, paths, old/new diffs.

Numbers are parsed as Decimal and printed as they were sent (`1.50` stays `1.50`, a
20-digit numeric keeps every digit), because a DBA compares them with the table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pgwatch_gui.core.pg.notify import MAX_PAYLOAD_BYTES


class _Exact(Decimal):
    """A JSON number as written (Decimal keeps the digits; str() gives them back)."""


def parse_exact(text: str) -> Any:
    """json.loads with numbers kept exactly. Raises ValueError like json.loads."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def scalar_text(v: Any) -> str:
    """A JSON value for a cell: strings bare, the rest as JSON."""
    if isinstance(v, str):
        return v
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, Decimal, float)):
        return str(v)
    return compact(v)


def _dump_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def compact(v: Any) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_dump_str(str(k))}: {compact(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(compact(x) for x in v) + "]"
    if isinstance(v, str):
        return _dump_str(v)
    return scalar_text(v)


def pretty(v: Any, indent: int = 2) -> str:
    """Indented JSON; short flat arrays and objects stay on one line."""
    out: list[str] = []
    _pretty(v, 0, indent, out)
    return "".join(out)


def _pretty(v: Any, level: int, indent: int, out: list[str]) -> None:
    pad = " " * (indent * (level + 1))
    end = " " * (indent * level)
    if isinstance(v, dict):
        if not v:
            out.append("{}")
            return
        out.append("{\n")
        items = list(v.items())
        for i, (k, x) in enumerate(items):
            out.append(f"{pad}{_dump_str(str(k))}: ")
            _pretty(x, level + 1, indent, out)
            out.append(",\n" if i < len(items) - 1 else "\n")
        out.append(end + "}")
    elif isinstance(v, list):
        if not v:
            out.append("[]")
            return
        flat = compact(v)
        if len(flat) <= 60 and not any(isinstance(x, (dict, list)) for x in v):
            out.append(flat)
            return
        out.append("[\n")
        for i, x in enumerate(v):
            out.append(pad)
            _pretty(x, level + 1, indent, out)
            out.append(",\n" if i < len(v) - 1 else "\n")
        out.append(end + "]")
    else:
        out.append(compact(v))


def walk(v: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """(path, value) for every node, depth first, the root first (path ())."""
    yield path, v
    if isinstance(v, dict):
        for k, x in v.items():
            yield from walk(x, (*path, k))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from walk(x, (*path, i))


def path_text(path: tuple) -> str:
    """('row', 'status') -> 'row.status'; ('items', 0, 'sku') -> 'items.0.sku'.

    The same syntax as the field filter; keys that would break it are quoted JSON-style
    in brackets: ('row', 'a.b') -> 'row["a.b"]' (shown, not filterable).
    """
    parts: list[str] = []
    for p in path:
        if isinstance(p, int) or (p and all(c.isalnum() or c in "_-$" for c in p)):
            parts.append(f".{p}")
        else:
            parts.append(f"[{_dump_str(p)}]")
    return "".join(parts).lstrip(".")


def filterable(path: tuple) -> bool:
    return bool(path) and all(
        isinstance(p, int) or (p and all(c.isalnum() or c in "_-$" for c in p)) for p in path)


# ---- old / new ---------------------------------------------------------------------------

SAME, CHANGED, ADDED, REMOVED = "same", "changed", "added", "removed"

# (old key, new key) pairs that hand-written triggers and CDC tools use.
_PAIRS = (("old", "new"), ("old", "row"), ("old_record", "record"), ("old_data", "new_data"),
          ("before", "after"), ("old_row", "new_row"))


@dataclass(frozen=True)
class DiffLine:
    column: str
    old: Any
    new: Any
    state: str  # SAME / CHANGED / ADDED / REMOVED
    has_old: bool = True
    has_new: bool = True


@dataclass(frozen=True)
class RowDiff:
    source: str  # where old/new came from, e.g. 'envelope', 'data.old/new'
    op: str | None
    lines: tuple[DiffLine, ...]
    only_changed: bool = False  # the payload carries only the changed columns

    @property
    def changed(self) -> list[str]:
        return [ln.column for ln in self.lines if ln.state != SAME]


def _find_pair(value: dict) -> tuple[str, dict | None, dict | None] | None:
    holders: list[tuple[str, dict]] = [("", value)]
    for name in ("data", "payload"):
        h = value.get(name)
        if isinstance(h, dict):
            holders.append((name, h))
    for holder_name, holder in holders:
        for ok, nk in _PAIRS:
            o, n = holder.get(ok, _NONE), holder.get(nk, _NONE)
            if not (isinstance(o, dict) or isinstance(n, dict)):
                continue
            if not all(x is _NONE or x is None or isinstance(x, dict) for x in (o, n)):
                continue
            if (ok, nk) == ("old", "row") and not isinstance(o, dict):
                continue  # a lone "row" is a row, not a diff
            where = f"{holder_name}.{ok}/{nk}" if holder_name else f"{ok}/{nk}"
            return (where, o if isinstance(o, dict) else None,
                    n if isinstance(n, dict) else None)
    return None


_NONE = object()


def row_diff(value: Any, op: str | None = None) -> RowDiff | None:
    """Old and new row side by side, if the payload carries them; else None.

    Knows this tool's envelope (`old` and `row`, with `changed` in diff mode), the
    `{"data": {"old": ..., "new": ...}}` shape, and the usual old/new key pairs.
    """
    if not isinstance(value, dict):
        return None
    if value.get("v") == 1 and "op" in value:
        old = value.get("old") if isinstance(value.get("old"), dict) else None
        new = value.get("row") if isinstance(value.get("row"), dict) else None
        if old is None and new is None:
            return None
        changed = value.get("changed")
        marks = {str(c) for c in changed} if isinstance(changed, list) else None
        return _build("envelope", op or value.get("op"), old, new, marks,
                      only_changed=isinstance(changed, list) and old is not None
                      and len(old) <= len(changed) + len(value.get("key") or {}))
    found = _find_pair(value)
    if found is None:
        return None
    where, old, new = found
    return _build(where, op, old, new, None)


def _build(source: str, op: Any, old: dict | None, new: dict | None,
           marks: set[str] | None, only_changed: bool = False) -> RowDiff:
    cols: list[str] = list(new or {})
    cols += [c for c in (old or {}) if c not in (new or {})]
    lines = []
    for c in cols:
        has_o = old is not None and c in old
        has_n = new is not None and c in new
        o = old.get(c) if has_o else None  # type: ignore[union-attr]
        n = new.get(c) if has_n else None  # type: ignore[union-attr]
        if old is None or new is None:
            state = ADDED if old is None else REMOVED
        elif marks is not None and c in marks:
            state = CHANGED
        elif has_o and has_n:
            state = SAME if _same(o, n) else CHANGED
        else:
            state = ADDED if has_n else REMOVED
        lines.append(DiffLine(c, o, n, state, has_o, has_n))
    return RowDiff(source, op if isinstance(op, str) else None, tuple(lines), only_changed)


def _same(a: Any, b: Any) -> bool:
    def number(x: Any) -> bool:
        return isinstance(x, (int, float, Decimal)) and not isinstance(x, bool)

    if type(a) is not type(b) and not (number(a) and number(b)):
        return False
    return a == b


# ---- metadata -----------------------------------------------------------------------------


def bytes_left(size: int) -> int:
    """Bytes a payload of this size leaves under PostgreSQL's limit (7,999 is the most)."""
    return max(0, MAX_PAYLOAD_BYTES - size)

"""Filtering Events, without Qt: free text, regular expressions, pickers, field conditions.

A FilterSpec says what the user asked for; `compile_filter` turns it into an EventFilter
whose `select()` runs over a batch once (never a per-row callback from a view). Mistakes
in a regular expression or a field condition do not raise: they land in `errors` and the
part in error is left out, so the table keeps showing something sensible while the user
types.

Cost model. Everything a filter can look at without decoding JSON (channel, payload
text) is checked first. Operation, table and key need a decoded payload; they are kept
in a compact FacetCache (a tuple of three short strings per event) so changing the
filter does not decode again, and a filter never fills the Event's own decode cache
(the full parsed JSON of 100,000 rows would cost hundreds of megabytes).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pgwatch_gui.core.stream.events import Decoded, Event, decode_payload, format_key

# (operation, schema.table, key text); "" when unknown.
Facets = tuple[str, str, str]
NO_FACETS: Facets = ("", "", "")

# Shown in the operation picker for rows whose payload names no operation.
OP_NONE = "(none)"


# ---- facets ------------------------------------------------------------------------

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
    d = decoded_of(ev)
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
    """Facets by a caller-chosen key (the model uses each row's absolute position)."""

    def __init__(self) -> None:
        self._d: dict[int, Facets] = {}

    def __len__(self) -> int:
        return len(self._d)

    def get(self, key: int, ev: Event) -> Facets:
        f = self._d.get(key)
        if f is None:
            f = self._d[key] = facets_of(ev)
        return f

    def peek(self, key: int) -> Facets | None:
        return self._d.get(key)

    def forget_range(self, start: int, stop: int) -> None:
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

    def clear(self) -> None:
        self._d.clear()


# ---- the spec ------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterSpec:
    text: str = ""
    regex: bool = False
    case_sensitive: bool = False
    channels: frozenset[str] = frozenset()  # empty: every channel
    ops: frozenset[str] = frozenset()  # INSERT/UPDATE/DELETE/TRUNCATE/OP_NONE
    tables: frozenset[str] = frozenset()  # "schema.table" as shown
    fields: str = ""  # field conditions, e.g. "key.id = 42 and row.status = shipped"
    hide_own: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.text or self.channels or self.ops or self.tables
                    or self.fields.strip() or self.hide_own)


# ---- field conditions ----------------------------------------------------------------

_OPERATORS = ("!=", ">=", "<=", "!~", "==", "=", "~", ">", "<")
_EXP_RE = re.compile(r"\d[eE][-+]?\d")
_SAFE_LITERAL = re.compile(r"[A-Za-z0-9 _.:@+-]+")
_MISSING = object()


class FieldSyntaxError(ValueError):
    pass


def _tokenize(text: str) -> list[tuple[str, str]]:
    """Split into ('word', s), ('str', s), ('op', s), ('and'|'or', s) tokens."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c in "\"'":
            j = i + 1
            buf = []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise FieldSyntaxError(f"unclosed quote {c} at column {i + 1}")
            tokens.append(("str", "".join(buf)))
            i = j + 1
            continue
        if text.startswith("&&", i) or text.startswith("||", i):
            tokens.append(("and" if c == "&" else "or", text[i:i + 2]))
            i += 2
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op:
            tokens.append(("op", op))
            i += len(op)
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in "\"'" and \
                not any(text.startswith(o, j) for o in _OPERATORS) and \
                not text.startswith("&&", j) and not text.startswith("||", j):
            j += 1
        word = text[i:j]
        low = word.lower()
        tokens.append((low, word) if low in ("and", "or") else ("word", word))
        i = j
    return tokens


def _literal(kind: str, text: str) -> Any:
    if kind == "str":
        return text
    low = text.lower()
    if low == "true":
        return True
    if low == "false":
        return False
    if low == "null":
        return None
    try:
        return Decimal(text) if re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text) else text
    except InvalidOperation:  # pragma: no cover - the regex admits only valid numbers
        return text


def _as_number(v: Any) -> Decimal | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, Decimal):
        return v
    if isinstance(v, (int, float)):
        try:
            return Decimal(str(v))
        except InvalidOperation:
            return None
    if isinstance(v, str):
        try:
            return Decimal(v.strip())
        except InvalidOperation:
            return None
    return None


def _text_of(v: Any) -> str:
    if isinstance(v, str):
        return v
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        import json

        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return str(v)


def resolve_path(ev: Event, d: Decoded, parts: Sequence[str]) -> Any:
    """Follow a dotted path into a decoded payload; _MISSING when it leads nowhere.

    Besides the JSON itself: `key` is the decoded key for every shape; `row` is the bare
    row for row_to_json payloads and `data`/`record`/`new` for hand-written ones;
    `op`, `table`, `schema`, `channel`, `pid`, `size` fall back to what the table shows.
    """
    root = parts[0]
    value = d.value
    cur: Any = _MISSING
    if root == "op" and len(parts) == 1 and d.op is not None:
        return d.op  # normalised: 'update' and 'UPDATE(via reference)' are UPDATE
    if isinstance(value, dict) and root in value:
        cur = value[root]
        if root == "key" and not isinstance(cur, dict) and d.key:
            cur = d.key
    elif root == "key" and d.key is not None:
        cur = d.key
    elif root == "row" and isinstance(value, dict):
        if d.shape == "row":
            cur = value
        else:
            for alt in ("data", "record", "new"):
                v = value.get(alt)
                if isinstance(v, dict):
                    cur = v.get("new") if isinstance(v.get("new"), dict) else v
                    break
    elif root == "old" and isinstance(value, dict):
        data = value.get("data")
        if isinstance(data, dict) and isinstance(data.get("old"), dict):
            cur = data["old"]
    elif len(parts) == 1:
        if root == "op":
            cur = d.op if d.op is not None else _MISSING
        elif root == "table":
            cur = d.table if d.table is not None else _MISSING
        elif root == "schema":
            cur = d.schema if d.schema is not None else _MISSING
        elif root == "channel":
            cur = ev.channel
        elif root == "pid":
            cur = ev.pid
        elif root == "size":
            cur = ev.size
    elif root == "$":
        cur = value
    for p in parts[1:]:
        if isinstance(cur, dict):
            cur = cur.get(p, _MISSING)
        elif isinstance(cur, list) and (p.isdigit() or (p.startswith("-") and p[1:].isdigit())):
            i = int(p)
            cur = cur[i] if -len(cur) <= i < len(cur) else _MISSING
        else:
            return _MISSING
        if cur is _MISSING:
            return _MISSING
    return cur


@dataclass
class Condition:
    path: tuple[str, ...]
    op: str | None  # None: the path exists and is not null
    literal: Any = None
    literal_text: str = ""
    pattern: re.Pattern | None = None
    hint: str | None = None  # text that must appear in the payload for `=` to hold
    hint_number: bool = False  # the hint is digits: a number in exponent form escapes it

    def test(self, ev: Event, d: Decoded) -> bool:
        v = resolve_path(ev, d, self.path)
        op = self.op
        if op is None:
            return v is not _MISSING and v is not None
        if v is _MISSING:
            return op in ("!=", "!~")
        if op in ("~", "!~"):
            hit = self.pattern.search(_text_of(v)) is not None  # type: ignore[union-attr]
            return hit if op == "~" else not hit
        if op in ("=", "==", "!="):
            eq = self._equal(v)
            return eq if op != "!=" else not eq
        a = _as_number(v)
        b = _as_number(self.literal)
        if a is not None and b is not None:
            x, y = a, b
        else:
            x, y = _text_of(v), self.literal_text  # type: ignore[assignment]
        if op == ">":
            return x > y
        if op == ">=":
            return x >= y
        if op == "<":
            return x < y
        return x <= y

    def _equal(self, v: Any) -> bool:
        lit = self.literal
        if lit is None or isinstance(lit, bool):
            return v is lit or (not isinstance(v, (bool, type(None))) and
                                _text_of(v) == self.literal_text)
        if isinstance(v, bool) or v is None:
            return _text_of(v) == self.literal_text
        if isinstance(v, (int, float, Decimal)) and isinstance(lit, Decimal):
            n = _as_number(v)
            return n is not None and n == lit
        if isinstance(v, str):
            return v == self.literal_text
        return _text_of(v) == self.literal_text


def _make_condition(path_text: str, op: str | None, kind: str, text: str) -> Condition:
    parts = tuple(p for p in path_text.split("."))
    if not path_text or any(not p for p in parts):
        raise FieldSyntaxError(f"{path_text!r} is not a field path (write it like key.id)")
    if op is None:
        return Condition(parts, None)
    lit = _literal(kind, text)
    cond = Condition(parts, op, lit, text)
    if op in ("~", "!~"):
        try:
            cond.pattern = re.compile(text, re.IGNORECASE)
        except re.error as exc:
            raise FieldSyntaxError(f"bad pattern after {path_text} ~: {exc}") from None
    elif op in ("=", "=="):
        # Cheap pre-check on the raw payload for values JSON writes verbatim.
        if isinstance(lit, str) and _SAFE_LITERAL.fullmatch(lit) and parts[0] not in (
                "channel", "pid", "size", "op", "table", "schema"):
            cond.hint = lit
        elif isinstance(lit, Decimal) and re.fullmatch(r"-?\d+", text):
            cond.hint = str(abs(int(lit)))
            cond.hint_number = True
    return cond


def parse_fields(text: str) -> list[list[Condition]]:
    """`a = 1 and b ~ x or c` -> [[a=1, b~x], [c]] (or of ands). Raises FieldSyntaxError."""
    tokens = _tokenize(text)
    groups: list[list[Condition]] = [[]]
    i, n = 0, len(tokens)
    expect_term = True
    while i < n:
        kind, val = tokens[i]
        if kind in ("and", "or"):
            if expect_term:
                raise FieldSyntaxError(f"a condition is missing before {val!r}")
            if kind == "or":
                groups.append([])
            expect_term = True
            i += 1
            continue
        if not expect_term:
            raise FieldSyntaxError(f"expected 'and' or 'or' before {val!r}")
        if kind != "word":
            raise FieldSyntaxError(f"expected a field path like key.id, found {val!r}")
        path = val
        if i + 1 < n and tokens[i + 1][0] == "op":
            op = tokens[i + 1][1]
            if i + 2 >= n or tokens[i + 2][0] not in ("word", "str"):
                raise FieldSyntaxError(f"a value is missing after {path} {op}")
            vkind, vtext = tokens[i + 2]
            groups[-1].append(_make_condition(path, op, vkind, vtext))
            i += 3
        else:
            groups[-1].append(_make_condition(path, None, "word", ""))
            i += 1
        expect_term = False
    if expect_term and tokens:
        raise FieldSyntaxError("a condition is missing at the end")
    return [g for g in groups if g]


# ---- the compiled filter ---------------------------------------------------------------

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
        tables = spec.tables
        parts.append(lambda ev, k, c: c.get(k, ev)[1] in tables)
    if len(parts) == 1 and spec.text and not spec.regex and not _SPAN_SPLIT.search(spec.text) \
            and not spec.channels and not spec.hide_own:
        f._fast = _fast_text_select(spec.text, spec.case_sensitive)
    if spec.fields.strip():
        try:
            groups = parse_fields(spec.fields)
        except FieldSyntaxError as exc:
            f.errors["fields"] = str(exc)
        else:
            if groups:
                parts.append(_fields_part(groups))
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


def _fields_part(groups: list[list[Condition]]):
    def part(ev: Event, k: int, c: FacetCache) -> bool:
        payload = ev.payload
        d = None
        for group in groups:
            for cond in group:
                hint = cond.hint
                if hint is not None and hint not in payload and not (
                        cond.hint_number and _EXP_RE.search(payload)):
                    break
                if d is None:
                    d = decoded_of(ev)
                if not cond.test(ev, d):
                    break
            else:
                return True
        return False
    return part


def known_values(events: Iterable[tuple[int, Event]], cache: FacetCache
                 ) -> tuple[set[str], set[str], set[str]]:
    """(channels, ops, tables) seen among (key, event) pairs, for the pickers."""
    channels: set[str] = set()
    ops: set[str] = set()
    tables: set[str] = set()
    for k, ev in events:
        if ev.is_gap:
            continue
        channels.add(ev.channel)
        f = cache.get(k, ev)
        ops.add(f[0] or OP_NONE)
        if f[1]:
            tables.add(f[1])
    return channels, ops, tables

"""The field language: `key.id = 42 and row.status = shipped or op = DELETE`.

Names with spaces, dots or quotes are double-quoted as in SQL (`key."Item ID" = 7`,
field_syntax.py).

Conditions look inside the decoded JSON; `parse_fields` turns the text into an "or of
ands" of Conditions and raises FieldSyntaxError with a one-line message on a mistake.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pgwatch_gui.core.filtering.facets import FacetCache, decoded_of
from pgwatch_gui.core.filtering.field_syntax import FieldSyntaxError, field_path, tokenize
from pgwatch_gui.core.stream.events import Event
from pgwatch_gui.core.stream.payloads import Decoded
from pgwatch_gui.core.stream.safe_text import dumps_exact

_EXP_RE = re.compile(r"\d[eE][-+]?\d")
_SAFE_LITERAL = re.compile(r"[A-Za-z0-9 _.:@+-]+")
_NUMBER_TEXT = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_MISSING = object()
__all__ = ["Condition", "FieldSyntaxError", "field_path", "fields_part", "parse_fields",
           "resolve_path"]


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
        return dumps_exact(v, compact=True)  # numbers as sent, every digit
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
            if v == self.literal_text:
                return True
            # A numeric the server wrote as text (a row change's numeric column):
            # `total = 12.5` holds for "12.50" as it does for the number 12.50.
            return isinstance(lit, Decimal) and _NUMBER_TEXT.fullmatch(v) is not None \
                and Decimal(v) == lit
        return _text_of(v) == self.literal_text


def _make_condition(path_text: str, parts: tuple[str, ...], op: str | None, kind: str,
                    text: str) -> Condition:
    if not path_text or any(not p for p in parts):
        raise FieldSyntaxError(f"{path_text!r} is not a field path (write it like key.id, "
                               'or key."Item ID" for a name with spaces or dots)')
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
    tokens = tokenize(text)
    groups: list[list[Condition]] = [[]]
    i, n = 0, len(tokens)
    expect_term = True
    while i < n:
        kind, val = tokens[i][:2]
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
        if kind != "path":
            raise FieldSyntaxError(f"expected a field path like key.id, found {val!r}")
        path, names = val, tokens[i][2]
        if i + 1 < n and tokens[i + 1][0] == "op":
            op = tokens[i + 1][1]
            if i + 2 >= n or tokens[i + 2][0] not in ("word", "str"):
                raise FieldSyntaxError(f"a value is missing after {path} {op}")
            vkind, vtext = tokens[i + 2]
            groups[-1].append(_make_condition(path, names, op, vkind, vtext))
            i += 3
        else:
            groups[-1].append(_make_condition(path, names, None, "word", ""))
            i += 1
        expect_term = False
    if expect_term and tokens:
        raise FieldSyntaxError("a condition is missing at the end")
    return [g for g in groups if g]


def fields_part(groups: list[list[Condition]]):
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

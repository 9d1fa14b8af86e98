"""Whether a value in a payload and a value in a committed row are the same value.

The two sides spell values differently. A trigger builds its payload with `to_json`
(`row_to_json`, `json_build_object`): numbers are JSON numbers, timestamps ISO 8601 with
a `T` and the writing session's time zone, arrays JSON arrays. The replication stream
gives the server's text output for most types (`12.50`, `2026-11-30 10:00:00.5+00`,
`{a,"b c",NULL}`), JSON numbers and booleans for integers and booleans, and json/jsonb
as JSON (or as its raw text). `norm` reduces either spelling to one comparable form:

- numbers (and text that reads as a number) -> the exact decimal value;
- timestamps with a zone -> the instant in UTC; without one -> the local time;
- a PostgreSQL array literal or a JSON array -> the tuple of its elements;
- JSON text or raw JSON -> its value; objects -> their sorted items.

Nothing here raises; what is not recognised compares as itself.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[-+]\d{2}(?::?\d{2}){0,2})?")
_DEPTH = 32


def norm(value: Any, _depth: int = 0) -> Any:
    """A hashable form of `value` in which both sides' spellings of one value are equal."""
    if value is None or value is True or value is False:
        return value
    if type(value) is int:  # the common key: equal and hashed alike as its Decimal
        return ("n", value)
    if _depth > _DEPTH:
        return ("?", repr(value))
    if isinstance(value, (int, float, Decimal)):
        return _number(value)
    if isinstance(value, str):
        return _text(value, _depth)
    if isinstance(value, (list, tuple)):
        return ("a", tuple(norm(v, _depth + 1) for v in value))
    if isinstance(value, dict):
        return ("o", tuple(sorted((str(k), norm(v, _depth + 1)) for k, v in value.items())))
    if isinstance(value, msgspec.Raw):
        return _json_text(bytes(value).decode("utf-8", "replace"), _depth)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _json_text(bytes(value).decode("utf-8", "replace"), _depth)
    return ("s", str(value))


def same(a: Any, b: Any) -> bool:
    """The payload's value `a` and the committed value `b` are one value."""
    if a == b and type(a) is type(b):
        return True
    return norm(a) == norm(b)


def _number(value: int | float | Decimal) -> Any:
    try:
        d = Decimal(value) if isinstance(value, int) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ("s", str(value))
    if not d.is_finite():
        return ("s", str(value))
    return ("n", d.normalize() if d else Decimal(0))


def _text(text: str, depth: int) -> Any:
    if not text:
        return ("s", text)
    first = text[0]
    if (first.isdigit() or first in "-.") and _NUMBER.fullmatch(text):
        return _number(Decimal(text)) if len(text) < 400 else ("s", text)
    if first.isdigit() and _TIMESTAMP.fullmatch(text):
        return _timestamp(text)
    if first == "{" or first == "[":
        if first == "[" or text.startswith('{"') or text == "{}":
            got = _json_text(text, depth, fallback=False)
            if got is not None:
                return got
        if first == "{":
            items = parse_array(text)
            if items is not None:
                return ("a", tuple(norm(v, depth + 1) for v in items))
    if text in ("NaN", "Infinity", "-Infinity"):
        return ("s", text)
    return ("s", text)


def _json_text(text: str, depth: int, fallback: bool = True) -> Any:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return ("s", text) if fallback else None
    if isinstance(value, str):  # a JSON string holds text, not JSON again
        return ("s", value)
    return norm(value, depth + 1)


def _timestamp(text: str) -> Any:
    t = text.replace(" ", "T", 1)
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(t)
    except ValueError:
        return ("s", text)
    if moment.tzinfo is not None:
        return ("t", moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(), "utc")
    return ("t", moment.isoformat(), "")


def parse_array(text: str) -> list[Any] | None:
    """A PostgreSQL array literal ('{1,2}', '{a,"b c",NULL}', '{{1,2},{3,4}}') -> its
    elements (text, None for NULL, lists for sub-arrays); None when it is not one."""
    pos = 0
    n = len(text)

    def parse() -> list[Any] | None:
        nonlocal pos
        if pos >= n or text[pos] != "{":
            return None
        pos += 1
        out: list[Any] = []
        if pos < n and text[pos] == "}":
            pos += 1
            return out
        while pos < n:
            ch = text[pos]
            if ch == "{":
                sub = parse()
                if sub is None:
                    return None
                out.append(sub)
            elif ch == '"':
                pos += 1
                buf = []
                while pos < n and text[pos] != '"':
                    if text[pos] == "\\" and pos + 1 < n:
                        pos += 1
                    buf.append(text[pos])
                    pos += 1
                if pos >= n:
                    return None
                pos += 1
                out.append("".join(buf))
            else:
                start = pos
                while pos < n and text[pos] not in ",}":
                    pos += 1
                word = text[start:pos].strip()
                out.append(None if word.upper() == "NULL" else word)
            if pos >= n:
                return None
            if text[pos] == ",":
                pos += 1
                continue
            if text[pos] == "}":
                pos += 1
                return out
            return None
        return None

    try:
        got = parse()
    except RecursionError:
        return None
    return got if got is not None and pos == n else None


def plain(value: Any) -> Any:
    """`value` with raw JSON (msgspec.Raw, bytes) read back into values, for output."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (msgspec.Raw, bytes, bytearray, memoryview)):
        text = bytes(value).decode("utf-8", "replace")
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return text
    return value


def json_size(row: Any) -> int:
    """Bytes of `row` as compact JSON (what a row_to_json payload of it would weigh)."""
    try:
        return len(json.dumps(plain(row), ensure_ascii=False, separators=(",", ":"),
                              default=str).encode("utf-8"))
    except (TypeError, ValueError, RecursionError):
        return 0

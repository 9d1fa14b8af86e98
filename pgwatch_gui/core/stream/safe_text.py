"""Text that a terminal and UTF-8 can carry, and JSON that every reader accepts.

- `utf8_safe`: a lone surrogate (a payload's JSON said "\\ud800") becomes the six
  characters \\udXXX, so the text can be encoded as UTF-8.
- `visible`: control characters (C0, C1, DEL, line/paragraph separators, bidi
  overrides) and lone surrogates shown as escapes, for a terminal.
- `strict_json`: json.dumps that never writes NaN or Infinity (they become strings),
  writes a Decimal as the number it holds (every digit: payloads decode numbers
  exactly) and is always encodable as UTF-8.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 controls, DEL, C1 controls (0x9b is a one-byte CSI to some terminals), line and
# paragraph separators, lone surrogates; bidi overrides that reorder what is shown.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                     "\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(m: re.Match) -> str:
    c = m.group()
    named = _NAMED.get(c)
    if named is not None:
        return named
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def visible(text: str) -> str:
    """Text safe to print on a terminal: control characters shown as escapes."""
    return _UNSAFE.sub(_escape_char, text) if _UNSAFE.search(text) else text


def utf8_safe(text: str) -> str:
    """Text UTF-8 can carry: a lone surrogate becomes the six characters \\udXXX."""
    if text.isascii():  # most lines: no surrogate possible, and isascii() costs ~nothing
        return text
    return _SURROGATE.sub(_escape_char, text) if _SURROGATE.search(text) else text


def finite_json(value: Any) -> Any:
    """`value` with every infinite or NaN float replaced by a string JSON can carry."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value


class _HasDecimal(Exception):
    pass


def _no_decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        raise _HasDecimal
    return str(value)


_dumps_c = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_no_decimal).encode
_dumps_compact = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_no_decimal,
                                  separators=(",", ":")).encode
_quote = json.encoder.encode_basestring


def _number(d: Decimal) -> str:
    """A Decimal as a JSON number, digit for digit; one that is not a number as a string."""
    return str(d) if d.is_finite() else _quote(str(d))


def _exact(value: Any, item: str = ", ", colon: str = ": ") -> str:
    """json.dumps(value) (ensure_ascii=False, these separators) with Decimals as numbers."""
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{" + item.join(
            f"{_exact(k if isinstance(k, str) else _key_text(k))}{colon}"
            f"{_exact(v, item, colon)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + item.join(_exact(v, item, colon) for v in value) + "]" if value else "[]"
    return _dumps_c(finite_json(value))


def _key_text(k: Any) -> str:
    """A dict key that is not text, as json.dumps names it."""
    if k is None or isinstance(k, bool):
        return {None: "null", True: "true", False: "false"}[k]
    return str(k) if isinstance(k, Decimal) else _dumps_c(finite_json(k))


def dumps_exact(value: Any, *, compact: bool = False) -> str:
    """strict_json without its final surrogate pass (a caller that does that per line);
    `compact`: without the spaces after , and :."""
    dumps = _dumps_compact if compact else _dumps_c
    try:
        return dumps(value)
    except ValueError:  # an infinity or NaN somewhere
        try:
            return dumps(finite_json(value))
        except _HasDecimal:
            pass
    except _HasDecimal:
        pass
    return _exact(value, ",", ":") if compact else _exact(value)


def strict_json(value: Any) -> str:
    """json.dumps that is always strict JSON and always encodable as UTF-8; a Decimal is
    written as its number, every digit."""
    # Characters outside strings are ASCII, so a surrogate is inside one: its escape
    # is valid JSON and reads back as the same string.
    return utf8_safe(dumps_exact(value))

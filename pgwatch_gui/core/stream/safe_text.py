"""Text that a terminal and UTF-8 can carry, and JSON that every reader accepts.

- `utf8_safe`: a lone surrogate (a payload's JSON said "\\ud800") becomes the six
  characters \\udXXX, so the text can be encoded as UTF-8.
- `visible`: control characters (C0, C1, DEL, line/paragraph separators, bidi
  overrides) and lone surrogates shown as escapes, for a terminal.
- `strict_json`: json.dumps that never writes NaN or Infinity (they become strings)
  and is always encodable as UTF-8.
"""

from __future__ import annotations

import json
import math
import re
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


def strict_json(value: Any) -> str:
    """json.dumps that is always strict JSON and always encodable as UTF-8."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)
    except ValueError:  # an infinity or NaN somewhere
        text = json.dumps(finite_json(value), ensure_ascii=False, allow_nan=False, default=str)
    # Characters outside strings are ASCII, so a surrogate is inside one: its escape
    # is valid JSON and reads back as the same string.
    return utf8_safe(text)

"""The field language's words: a condition text split into tokens (field paths,
operators, values, `and`/`or`), for `fields.parse_fields`; and `field_path`, which
writes a path so that the language reads it back.

A name with spaces, dots or quotes is double-quoted as in SQL: `key."Item ID" = 7`,
`row."a.b" = 1`, `row."x""y"` (a doubled quote inside is one quote). A value may be
quoted with " or ' (with backslash escapes), as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_OPERATORS = ("!=", ">=", "<=", "!~", "==", "=", "~", ">", "<")


class FieldSyntaxError(ValueError):
    pass


def _ends_word(text: str, j: int) -> bool:
    c = text[j]
    return (c.isspace() or c in "\"'" or text.startswith(("&&", "||"), j)
            or any(text.startswith(o, j) for o in _OPERATORS))


def _quoted_name(text: str, i: int) -> tuple[str, int]:
    """A double-quoted field name at text[i], a doubled quote inside standing for one
    (as in SQL): (name, the position after it)."""
    j, buf = i + 1, []
    while j < len(text):
        if text[j] == '"':
            if text.startswith('""', j):
                buf.append('"')
                j += 2
                continue
            if not buf:
                raise FieldSyntaxError(f"an empty quoted name at column {i + 1}")
            return "".join(buf), j + 1
        buf.append(text[j])
        j += 1
    raise FieldSyntaxError(f'unclosed quote " at column {i + 1}')


def _path(text: str, i: int) -> tuple[tuple[str, ...], bool, int]:
    """A field path at text[i]: names between dots, each bare (key, 0) or double-quoted
    (a name with spaces, dots or quotes). Returns (names, whether one was quoted, the
    position after it); an empty bare name is kept, for the parser to refuse."""
    names: list[str] = []
    quoted = False
    n = len(text)
    while True:
        if i < n and text[i] == '"':
            name, i = _quoted_name(text, i)
            quoted = True
        else:
            j = i
            while j < n and text[j] != "." and not _ends_word(text, j):
                j += 1
            name, i = text[i:j], j
        names.append(name)
        if i < n and text[i] == ".":
            i += 1
            continue
        return tuple(names), quoted, i


def tokenize(text: str) -> list[tuple]:
    """Split into ('path', raw, names), ('word', s), ('str', s), ('op', s) and
    ('and'|'or', s) tokens. Where a field path is due, `"..."` is a quoted name; after
    an operator, where a value is due, it is a string (as '...' is anywhere)."""
    tokens: list[tuple] = []
    i, n = 0, len(text)
    value_next = False
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if text.startswith(("&&", "||"), i):
            tokens.append(("and" if c == "&" else "or", text[i:i + 2]))
            i += 2
            value_next = False
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op:
            tokens.append(("op", op))
            i += len(op)
            value_next = True
            continue
        if c == "'" or (c == '"' and value_next):
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
        elif value_next:
            j = i
            while j < n and not _ends_word(text, j):
                j += 1
            word = text[i:j]
            low = word.lower()
            tokens.append((low, word) if low in ("and", "or") else ("word", word))
            i = j
        else:
            names, quoted, j = _path(text, i)
            raw = text[i:j]
            if not quoted and raw.lower() in ("and", "or"):
                tokens.append((raw.lower(), raw))
            else:
                tokens.append(("path", raw, names))
            i = j
        value_next = False
    return tokens


_BARE_NAME = re.compile(r"[\w$-]+")


def field_path(parts: Sequence[str | int]) -> str:
    """('key', 'Item ID') -> 'key."Item ID"': a path the field language reads back.

    A name is written bare where it can be (letters, digits, _ - $; not `and`/`or`),
    else double-quoted with its quotes doubled. ValueError for an empty name."""
    out = []
    for p in parts:
        text = str(p)
        if not text:
            raise ValueError("an empty name cannot be written as a field path")
        if _BARE_NAME.fullmatch(text) and text.lower() not in ("and", "or"):
            out.append(text)
        else:
            out.append('"' + text.replace('"', '""') + '"')
    return ".".join(out)

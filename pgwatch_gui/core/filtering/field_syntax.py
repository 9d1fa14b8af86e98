"""The field language's words: a condition text split into tokens (field paths,
operators, values, `and`/`or`), for `fields.parse_fields`."""

from __future__ import annotations

_OPERATORS = ("!=", ">=", "<=", "!~", "==", "=", "~", ">", "<")


class FieldSyntaxError(ValueError):
    pass


def tokenize(text: str) -> list[tuple[str, str]]:
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

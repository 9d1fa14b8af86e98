"""Find the channels a hand-written trigger function notifies, by reading its source.

A small PL/pgSQL tokenizer (strings, dollar quotes, quoted identifiers, comments)
and a few patterns cover what real triggers do:

    PERFORM pg_notify('article_changes', payload::text);          -> fixed
    channel_name := 'user_notifications_' || NEW.user_id;
    PERFORM pg_notify(channel_name, ...);                         -> prefix + column
    PERFORM pg_notify(TG_ARGV[0], ...);                           -> the trigger's argument
    NOTIFY orders_changed;  EXECUTE 'NOTIFY "Mixed"';             -> fixed

Anything else that reaches pg_notify (format(), a function call, a variable set
from a query) is reported as a dynamic channel with its expression. Nothing here
touches a database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

FIXED = "fixed"
PREFIX = "prefix"
DYNAMIC = "dynamic"

_IDENT = re.compile(r"[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_$\u0080-\U0010ffff]*")
_NUMBER = re.compile(r"\d+(?:\.\d*)?")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*)?\$")
_OPS = ("||", ":=", "::", "=>", "<>", "!=", ">=", "<=")
# Keywords after which a new PL/pgSQL statement starts inside a ';'-separated chunk.
_STMT_START = {"declare", "begin", "then", "else", "loop", "exception"}
_NOT_TARGETS = {"if", "elsif", "while", "when", "perform", "return", "select", "raise", "for",
                "case", "execute", "update", "insert", "delete"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "str", "ident" (unquoted, folded), "qident" (quoted), "num", "op"
    value: str


@dataclass(frozen=True, slots=True)
class DiscoveredChannel:
    """A channel a trigger function sends on: fixed name, prefix + column, or dynamic."""

    kind: str
    name: str  # the channel (fixed), the literal prefix (prefix), "" (dynamic)
    column: str | None = None  # the row column appended to the prefix, when known
    expression: str = ""  # the source expression, for display

    def describe(self) -> str:
        if self.kind == FIXED:
            return self.name
        if self.kind == PREFIX:
            return f"{self.name}<{self.column or '...'}>"
        return f"<dynamic: {self.expression}>"


def tokenize(src: str) -> list[Token]:
    """PL/pgSQL (or SQL) text as tokens, comments dropped. Never raises."""
    out: list[Token] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch.isspace():
            i += 1
        elif src.startswith("--", i):
            j = src.find("\n", i)
            i = n if j < 0 else j + 1
        elif src.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if src.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif src.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif ch == "'" or (ch in "eE" and src.startswith("'", i + 1)):
            escapes = ch != "'"
            i += 2 if escapes else 1
            buf = []
            while i < n:
                c = src[i]
                if c == "\\" and escapes and i + 1 < n:
                    buf.append(src[i + 1])
                    i += 2
                elif c == "'":
                    if src.startswith("''", i):
                        buf.append("'")
                        i += 2
                    else:
                        i += 1
                        break
                else:
                    buf.append(c)
                    i += 1
            out.append(Token("str", "".join(buf)))
        elif ch == "$" and (m := _DOLLAR_TAG.match(src, i)):
            tag = m.group(0)
            end = src.find(tag, m.end())
            end = n if end < 0 else end
            out.append(Token("str", src[m.end():end]))
            i = end + len(tag)
        elif ch == '"':
            j = i + 1
            buf = []
            while j < n:
                if src[j] == '"':
                    if src.startswith('""', j):
                        buf.append('"')
                        j += 2
                        continue
                    j += 1
                    break
                buf.append(src[j])
                j += 1
            out.append(Token("qident", "".join(buf)))
            i = j
        elif m := _IDENT.match(src, i):
            word = m.group(0)
            out.append(Token("ident", "".join(c.lower() if "A" <= c <= "Z" else c for c in word)))
            i = m.end()
        elif m := _NUMBER.match(src, i):
            out.append(Token("num", m.group(0)))
            i = m.end()
        else:
            op = next((o for o in _OPS if src.startswith(o, i)), ch)
            out.append(Token("op", op))
            i += len(op)
    return out


def _is_name(tok: Token) -> bool:
    return tok.kind in ("ident", "qident")


def _text(tokens: Sequence[Token]) -> str:
    parts = []
    for t in tokens:
        if t.kind == "str":
            parts.append("'" + t.value.replace("'", "''") + "'")
        elif t.kind == "qident":
            parts.append('"' + t.value.replace('"', '""') + '"')
        else:
            parts.append(t.value)
    text = " ".join(parts)
    for a, b in ((" . ", "."), (" :: ", "::"), ("( ", "("), (" )", ")"), (" ,", ","),
                 (" [ ", "["), (" ]", "]")):
        text = text.replace(a, b)
    return text


def _split_top(tokens: Sequence[Token], sep: str) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    depth = 0
    for t in tokens:
        if t.kind == "op" and t.value in "([":
            depth += 1
        elif t.kind == "op" and t.value in ")]":
            depth -= 1
        if depth == 0 and t.kind == "op" and t.value == sep:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def _strip(tokens: Sequence[Token]) -> list[Token]:
    """Drop a trailing ::type cast and wrapping parentheses."""
    toks = list(tokens)
    changed = True
    while changed and toks:
        changed = False
        for k in range(len(toks) - 1, 0, -1):
            if toks[k].kind == "op" and toks[k].value == "::":
                if all(t.kind in ("ident", "qident", "num")
                       or (t.kind == "op" and t.value in ("(", ")", "[", "]", "."))
                       for t in toks[k + 1:]):
                    toks = toks[:k]
                    changed = True
                break
        if (len(toks) >= 2 and toks[0].kind == "op" and toks[0].value == "("
                and toks[-1].value == ")"):
            inner = toks[1:-1]
            if len(_split_top(inner, ",")) == 1:
                toks = inner
                changed = True
    return toks


def _row_column(tokens: Sequence[Token]) -> str | None:
    """NEW.user_id / OLD."User Id" / coalesce(NEW.x, ...) -> the column name."""
    toks = _strip(tokens)
    if (len(toks) == 3 and toks[0].kind == "ident" and toks[0].value in ("new", "old")
            and toks[1].value == "." and _is_name(toks[2])):
        return toks[2].value
    if len(toks) >= 4 and toks[0].kind == "ident" and toks[1].value == "(":
        args = _split_top(toks[2:-1], ",")
        return _row_column(args[0]) if args else None
    return None


class _Reader:
    def __init__(self, tokens: list[Token], args: Sequence[str]) -> None:
        self.tokens = tokens
        self.args = list(args)
        self.assignments = self._assignments()

    def _assignments(self) -> dict[str, list[list[Token]]]:
        """Variable -> the expressions assigned to it (`x := e`, `x = e`, `x text := e`)."""
        found: dict[str, list[list[Token]]] = {}
        for chunk in _split_top(self.tokens, ";"):
            starts = [j for j, h in enumerate(chunk)
                      if h.kind == "ident" and h.value in _STMT_START]
            stmt = chunk[starts[-1] + 1:] if starts else chunk
            if not stmt or not _is_name(stmt[0]):
                continue
            k = 0
            for k, t in enumerate(stmt):  # noqa: B007 - k is used after the loop
                if (t.kind == "op" and t.value in (":=", "=")) or (
                        t.kind == "ident" and t.value == "default"):
                    break
            else:
                continue
            # `x := ...`, `x = ...` or, in DECLARE, `x text := ...`; not `IF a = b`.
            if k == 0 or (t.value == "=" and k != 1):
                continue
            if stmt[0].kind == "ident" and stmt[0].value in _NOT_TARGETS:
                continue
            found.setdefault(stmt[0].value, []).append(stmt[k + 1:])
        return found

    def channels(self, tokens: Sequence[Token], depth: int = 0) -> list[DiscoveredChannel]:
        toks = _strip(tokens)
        expr = _text(toks)
        dynamic = [DiscoveredChannel(DYNAMIC, "", None, expr)]
        if not toks or depth > 5:
            return dynamic
        parts = [_strip(p) for p in _split_top(toks, "||")]
        if len(parts) > 1:
            prefix = ""
            for part in parts:
                if len(part) == 1 and part[0].kind == "str":
                    prefix += part[0].value
                    continue
                if not prefix:
                    return dynamic
                return [DiscoveredChannel(PREFIX, prefix, _row_column(part), expr)]
            return [DiscoveredChannel(FIXED, prefix, None, expr)]
        if len(toks) == 1 and toks[0].kind == "str":
            return [DiscoveredChannel(FIXED, toks[0].value, None, expr)]
        if (len(toks) == 4 and toks[0].value == "tg_argv" and toks[1].value == "["
                and toks[2].kind == "num" and toks[3].value == "]"):
            idx = int(toks[2].value)
            if idx < len(self.args):
                return [DiscoveredChannel(FIXED, self.args[idx], None, expr)]
            return dynamic
        if len(toks) == 1 and _is_name(toks[0]) and toks[0].value in self.assignments:
            out: list[DiscoveredChannel] = []
            for value in self.assignments[toks[0].value]:
                for ch in self.channels(value, depth + 1):
                    if ch not in out:
                        out.append(ch)
            return out or dynamic
        return dynamic

    def discover(self, depth: int = 0) -> tuple[bool, list[DiscoveredChannel]]:
        toks = self.tokens
        found: list[DiscoveredChannel] = []
        notifies = False
        for k, t in enumerate(toks):
            prev = toks[k - 1] if k else None
            nxt = toks[k + 1] if k + 1 < len(toks) else None
            if t.kind == "ident" and t.value == "pg_notify" and nxt and nxt.value == "(":
                notifies = True
                close = _matching(toks, k + 1)
                args = _split_top(toks[k + 2:close], ",")
                found.extend(self.channels(args[0] if args else []))
            elif (t.kind == "ident" and t.value == "notify" and nxt is not None
                  and (prev is None or prev.value == ";"
                       or (prev.kind == "ident" and prev.value in _STMT_START))):
                # The NOTIFY statement, at the start of a statement (or of an EXECUTEd string).
                if _is_name(nxt):
                    notifies = True
                    found.append(DiscoveredChannel(FIXED, nxt.value, None, _text(toks[k:k + 2])))
                elif nxt.kind == "op" and nxt.value == "%":  # format('NOTIFY %I', ...)
                    notifies = True
                    found.append(DiscoveredChannel(DYNAMIC, "", None, _text(toks[k:k + 3])))
            elif t.kind == "str" and depth < 2 and "notify" in t.value.lower():
                inner = _Reader(tokenize(t.value), self.args)
                inner_notifies, inner_found = inner.discover(depth + 1)
                notifies = notifies or inner_notifies
                found.extend(inner_found)
        unique: list[DiscoveredChannel] = []
        for ch in found:
            if ch not in unique:
                unique.append(ch)
        return notifies, unique


def _matching(tokens: Sequence[Token], open_at: int) -> int:
    depth = 0
    for j in range(open_at, len(tokens)):
        v = tokens[j]
        if v.kind == "op" and v.value in "([":
            depth += 1
        elif v.kind == "op" and v.value in ")]":
            depth -= 1
            if depth == 0:
                return j
    return len(tokens)


def discover_channels(source: str, args: Sequence[str] = ()
                      ) -> tuple[bool, list[DiscoveredChannel]]:
    """(does the source send notifications?, the channels it sends on).

    `args` are the trigger's arguments (TG_ARGV), used when the channel is one of them.
    """
    try:
        return _Reader(tokenize(source or ""), args).discover()
    except Exception:  # a catalog listing must never fail on odd source text
        return ("pg_notify" in (source or "").lower(), [])

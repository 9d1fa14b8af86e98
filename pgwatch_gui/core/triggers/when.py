"""A trigger's WHEN condition is exactly one SQL expression, nothing else.

The condition is written into `CREATE TRIGGER ... WHEN (<condition>)` inside a
multi-statement script, so it is checked twice before it gets there:

* `when_problem(text)`, without a server: outside string literals and quoted
  identifiers there is no `;` (which would start another statement), no comment (which
  could hide the closing parenthesis) and the parentheses balance and never close
  more than they opened, so the text cannot leave `WHEN ( ... )`.
* `check_when(conn, schema, table, text, events)` (core/triggers/manage.py): the
  server parses it as one boolean expression over the table's row type (NEW and OLD),
  alone, through the extended query protocol, which refuses a second statement by
  itself, then with only the rows each event has (no NEW in a DELETE trigger, no OLD
  in an INSERT trigger). Nothing runs: the query is only explained, in a transaction
  rolled back.

The condition is evaluated inside the trigger function (core/triggers/body.py), where
an error cannot fail the user's write; CREATE TRIGGER ... WHEN refuses subqueries, and
so does `when_problem`, so that a condition means the same in both places.
"""

from __future__ import annotations

import re

_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")
# Words that start a subquery: (SELECT ...), (VALUES ...), (TABLE t). After a dot they
# are column names (NEW.select), which SQL allows.
_SUBQUERY_WORDS = frozenset({"select", "values", "table"})


def _after_dot(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j].isspace():
        j -= 1
    return j >= 0 and text[j] == "."


def when_problem(text: str) -> str | None:
    """Why `text` is not a single expression (a one-line reason), or None."""
    depth = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "'":
            escapes = i > 0 and text[i - 1] in "eE" and (i < 2 or not (
                text[i - 2].isalnum() or text[i - 2] == "_"))
            i += 1
            while True:
                if i >= n:
                    return "a string literal is not closed"
                if escapes and text[i] == "\\":
                    i += 2
                    continue
                if text[i] == "'":
                    if i + 1 < n and text[i + 1] == "'":
                        i += 2
                        continue
                    break
                i += 1
        elif c == '"':
            end = text.find('"', i + 1)
            while end != -1 and end + 1 < n and text[end + 1] == '"':
                end = text.find('"', end + 2)
            if end == -1:
                return "a quoted name is not closed"
            i = end
        elif c == "$" and (m := _DOLLAR.match(text, i)) and not (
                i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")):
            tag = m.group(0)
            end = text.find(tag, m.end())
            if end == -1:
                return "a dollar-quoted string is not closed"
            i = end + len(tag) - 1
        elif c.isalpha() or c == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            if text[i:j].lower() in _SUBQUERY_WORDS and not _after_dot(text, i):
                return f"a subquery ({text[i:j].upper()} ...) cannot be part of a WHEN condition"
            i = j - 1
        elif c == ";":
            return "it must be one expression: ';' would start another statement"
        elif text.startswith("--", i) or text.startswith("/*", i):
            return "comments are not allowed in a WHEN condition"
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return "it closes a parenthesis it did not open"
        i += 1
    if depth:
        return "a parenthesis is not closed"
    return None


class WhenError(ValueError):
    """The WHEN condition is not one valid expression (one line)."""


def require_one_expression(text: str) -> None:
    problem = when_problem(text)
    if problem:
        raise WhenError(f"WHEN condition: {problem}")

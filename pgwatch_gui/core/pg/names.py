"""SQL identifiers as people type them: `public."Order Items"`, `orders`, `"a,b",c`.

The rules are PostgreSQL's own: a double-quoted identifier keeps its case and may
hold anything ("" is one double quote); an unquoted one is folded to lower case
(ASCII letters only, as the server does in UTF-8) and consists of letters, digits,
underscores and dollar signs, not starting with a digit or a dollar sign.

A table given on the command line (`--table`) may be written either way a user has
seen it: in SQL (`'"Sales Dept"."Order Items"'`) or as the event table shows it
(`Sales Dept.Order Items`). `table_candidates` lists what such a text can mean,
`TableNames` matches events' tables against it (no server needed), and
`resolve_table` finds the one table it names on a server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import psycopg
from psycopg import sql

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1

_UNQUOTED = re.compile(r"[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_$\u0080-\U0010ffff]*")


class IdentifierError(ValueError):
    """Text that is not a valid (qualified) identifier."""


_QUOTE_HINT = 'double-quote names with spaces or capitals, e.g. public."Order Items"'


def _fold(word: str) -> str:
    return "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in word)


def _read_ident(text: str, pos: int) -> tuple[str, int]:
    """One identifier starting at text[pos]; returns (name, position after it)."""
    if pos < len(text) and text[pos] == '"':
        out = []
        i = pos + 1
        while i < len(text):
            ch = text[i]
            if ch == '"':
                if text.startswith('""', i):
                    out.append('"')
                    i += 2
                    continue
                name = "".join(out)
                if not name:
                    raise IdentifierError("a quoted identifier is empty")
                return name, i + 1
            out.append(ch)
            i += 1
        raise IdentifierError(f"unterminated double quote in {text!r}")
    m = _UNQUOTED.match(text, pos)
    if not m:
        shown = text[pos:pos + 20] or "end of text"
        raise IdentifierError(
            f"expected an identifier at {shown!r} in {text!r}; {_QUOTE_HINT}")
    return _fold(m.group(0)), m.end()


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _check_length(name: str) -> str:
    if len(name.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
        raise IdentifierError(
            f"identifier {name!r} is longer than {MAX_IDENTIFIER_BYTES} bytes"
        )
    return name


def parse_identifier(text: str) -> str:
    """One identifier: `Orders` -> 'orders', `"Order Items"` -> 'Order Items'."""
    pos = _skip_space(text, 0)
    name, pos = _read_ident(text, pos)
    if _skip_space(text, pos) != len(text):
        raise IdentifierError(f"unexpected text after the identifier in {text!r}")
    return _check_length(name)


def parse_qualified(text: str) -> tuple[str | None, str]:
    """`schema.table` or `table` -> (schema or None, table)."""
    parts: list[str] = []
    pos = _skip_space(text, 0)
    while True:
        name, pos = _read_ident(text, pos)
        parts.append(_check_length(name))
        pos = _skip_space(text, pos)
        if pos == len(text):
            break
        if text[pos] != ".":
            raise IdentifierError(f"unexpected {text[pos]!r} in {text!r}; {_QUOTE_HINT}")
        pos = _skip_space(text, pos + 1)
    if len(parts) > 2:
        raise IdentifierError(f"{text!r} has more than two parts; write schema.table")
    if len(parts) == 1:
        return None, parts[0]
    return parts[0], parts[1]


def parse_identifier_list(text: str) -> list[str]:
    """`a, "B,c", D` -> ['a', 'B,c', 'd']. An empty text is an empty list."""
    out: list[str] = []
    pos = _skip_space(text, 0)
    if pos == len(text):
        return out
    while True:
        name, pos = _read_ident(text, pos)
        out.append(_check_length(name))
        pos = _skip_space(text, pos)
        if pos == len(text):
            return out
        if text[pos] != ",":
            raise IdentifierError(
                f"unexpected {text[pos]!r} in {text!r}; separate names with commas")
        pos = _skip_space(text, pos + 1)


def quote_ident(name: str) -> str:
    """An identifier as a person would type it: quoted only when it has to be."""
    if _UNQUOTED.fullmatch(name) and _fold(name) == name and name.upper() not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    """'public', 'Order Items' -> 'public."Order Items"' (for display and CLI round trips)."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"


# ---- a table as a user types it: SQL form or as shown ---------------------------------


def table_candidates(text: str) -> list[tuple[str | None, str]]:
    """What a `--table` text can name, the SQL reading first: (schema or None, table).

    `"Sales Dept"."Order Items"` and `public.Orders` (folded) read as SQL;
    `Sales Dept.Order Items` reads as the event table shows names, split at each dot
    and kept exactly as typed. A schema of None: no schema was given.
    """
    found: list[tuple[str | None, str]] = []
    try:
        found.append(parse_qualified(text))
    except IdentifierError:
        pass
    shown = text.strip()
    if shown and '"' not in shown:
        if "." not in shown:
            found.append((None, shown))
        for i, ch in enumerate(shown):
            if ch == "." and 0 < i < len(shown) - 1:
                found.append((shown[:i], shown[i + 1:]))
    return list(dict.fromkeys(found))


class TableNames:
    """`--table` texts, matched against tables as the event table shows them
    (`schema.table`, or `table` when a payload names no schema).

    A text matches in either spelling: `'"Sales Dept"."Order Items"'` and `Sales
    Dept.Order Items` both match `Sales Dept.Order Items`; a name without a schema
    (`orders`, `Order Items`) matches that table in any schema.
    """

    def __init__(self, texts: Iterable[str]) -> None:
        self.exact: set[str] = set()
        self.bare: set[str] = set()
        for text in texts:
            for schema, table in table_candidates(text):
                if schema is None:
                    self.bare.add(table)
                else:
                    self.exact.add(f"{schema}.{table}")
        self._suffixes = tuple("." + t for t in self.bare)

    def __bool__(self) -> bool:
        return bool(self.exact or self.bare)

    def matches(self, shown: str) -> bool:
        if not shown:
            return False
        return shown in self.exact or shown in self.bare or shown.endswith(self._suffixes)


_LOOKUP = """
    SELECT n.nspname, c.relname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = to_regclass(%s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
"""


def resolve_table(conn: psycopg.Connection, text: str) -> tuple[str, str]:
    """The (schema, name) of the one table `text` names on this server, in either
    spelling (a name without a schema: the search_path decides, as in SQL).

    Raises IdentifierError naming the table when none matches, or when the two
    spellings name two different tables (then the SQL form settles it).
    """
    found: list[tuple[str, str]] = []
    for schema, name in table_candidates(text):
        if len(name.encode("utf-8")) > MAX_IDENTIFIER_BYTES or (
                schema is not None and len(schema.encode("utf-8")) > MAX_IDENTIFIER_BYTES):
            continue
        parts = [schema, name] if schema is not None else [name]
        row = conn.execute(_LOOKUP, (sql.Identifier(*parts).as_string(conn),)).fetchone()
        if row is not None and (row[0], row[1]) not in found:
            found.append((row[0], row[1]))
    if not found:
        raise IdentifierError(f"no table {text.strip()} in this database")
    if len(found) > 1:
        names = " and ".join(qualified(s, t) for s, t in found)
        raise IdentifierError(f"{text.strip()} could be {names}; write it in SQL form "
                              f"to say which, e.g. {qualified(*found[-1])}")
    return found[0]


def resolve_schema(conn: psycopg.Connection, text: str) -> str:
    """The schema `text` names, in SQL form (`"Sales Dept"`, `Public`) or as shown
    (`Sales Dept`); IdentifierError naming it when there is none."""
    names = []
    try:
        names.append(parse_identifier(text))
    except IdentifierError:
        pass
    if text.strip() and text.strip() not in names:
        names.append(text.strip())
    rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)",
                        (names,)).fetchall()
    found = [n for n in names if (n,) in rows]
    if not found:
        raise IdentifierError(f"no schema {text.strip()} in this database")
    return found[0]


# Reserved key words (PostgreSQL's "reserved" and "reserved (can be function or type)"),
# which must be quoted to stand alone as a name.
_RESERVED = frozenset({
    "ALL", "ANALYSE", "ANALYZE", "AND", "ANY", "ARRAY", "AS", "ASC", "ASYMMETRIC",
    "AUTHORIZATION", "BINARY", "BOTH", "CASE", "CAST", "CHECK", "COLLATE", "COLLATION",
    "COLUMN", "CONCURRENTLY", "CONSTRAINT", "CREATE", "CROSS", "CURRENT_CATALOG",
    "CURRENT_DATE", "CURRENT_ROLE", "CURRENT_SCHEMA", "CURRENT_TIME", "CURRENT_TIMESTAMP",
    "CURRENT_USER", "DEFAULT", "DEFERRABLE", "DESC", "DISTINCT", "DO", "ELSE", "END", "EXCEPT",
    "FALSE", "FETCH", "FOR", "FOREIGN", "FREEZE", "FROM", "FULL", "GRANT", "GROUP", "HAVING",
    "ILIKE", "IN", "INITIALLY", "INNER", "INTERSECT", "INTO", "IS", "ISNULL", "JOIN",
    "LATERAL", "LEADING", "LEFT", "LIKE", "LIMIT", "LOCALTIME", "LOCALTIMESTAMP", "NATURAL",
    "NOT", "NOTNULL", "NULL", "OFFSET", "ON", "ONLY", "OR", "ORDER", "OUTER", "OVERLAPS",
    "PLACING", "PRIMARY", "REFERENCES", "RETURNING", "RIGHT", "SELECT", "SESSION_USER",
    "SIMILAR", "SOME", "SYMMETRIC", "SYSTEM_USER", "TABLE", "TABLESAMPLE", "THEN", "TO",
    "TRAILING", "TRUE", "UNION", "UNIQUE", "USER", "USING", "VARIADIC", "VERBOSE", "WHEN",
    "WHERE", "WINDOW", "WITH",
})

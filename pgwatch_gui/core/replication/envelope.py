"""A row change as this tool's envelope, written straight to JSON by msgspec.

The envelope has the trigger's shape (docs/guide/triggers.md): `v, op, schema, table,
key`, then `row` (INSERT, UPDATE) and `old` (UPDATE with old values, DELETE), `changed`,
`unchanged_toast`, `generated_missing`, `txid` (text) and `ts` (the commit time).

Values are the server's text output, placed without a parse: integers and json/jsonb
are spliced in as the JSON text the server wrote (msgspec.Raw: every digit, every
duplicate name and 1e400 stay as they are, exactly as the trigger path's row_to_json
puts them), booleans are true/false, NULL is null, and everything else (numeric,
timestamps, arrays, ...) is a JSON string of the server's text, never rounded.

A relation's row is a msgspec struct made for its columns (a dict where a column name
is one msgspec cannot rename to: a quote, a backslash or a control character in it);
a value that is msgspec.UNSET (an unchanged TOAST value) is left out of the row.
"""

from __future__ import annotations

from typing import Any

import msgspec

UNSET = msgspec.UNSET
encode = msgspec.json.Encoder().encode

INT_TYPES = frozenset({20, 21, 23, 26, 28})  # int8, int2, int4, oid, xid
BOOL_TYPE = 16
JSON_TYPES = frozenset({114, 3802})  # json, jsonb
RAW_TYPES = INT_TYPES | JSON_TYPES  # their text is JSON already


class Insert(msgspec.Struct, gc=False):
    v: int
    op: str
    schema: str
    table: str
    key: Any
    row: Any
    generated_missing: Any
    txid: str
    ts: str


class Update(msgspec.Struct, gc=False):
    v: int
    op: str
    schema: str
    table: str
    key: Any
    row: Any
    old: Any
    changed: Any
    unchanged_toast: Any
    generated_missing: Any
    txid: str
    ts: str


class Delete(msgspec.Struct, gc=False):
    v: int
    op: str
    schema: str
    table: str
    key: Any
    old: Any
    unchanged_toast: Any
    txid: str
    ts: str


class Truncate(msgspec.Struct, gc=False):
    v: int
    op: str
    schema: str
    table: str
    key: None
    cascade: Any
    restart_identity: Any
    txid: str
    ts: str


def _renamable(name: str) -> bool:
    return not any(c in name for c in '"\\') and all(ord(c) >= 0x20 for c in name)


class RowShape:
    """Makes a row (or a key) of these columns from their values, for msgspec:
    `make(values)`, or `struct(*values)` when `struct` is not None (a call less)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.struct = None
        if all(_renamable(n) for n in names):
            self.struct = msgspec.defstruct(
                "Row", [(f"c{i}", Any) for i in range(len(names))],
                rename={f"c{i}": n for i, n in enumerate(names)}, gc=False)

    def make(self, values: list) -> Any:
        if self.struct is not None:
            return self.struct(*values)
        return {n: v for n, v in zip(self.names, values, strict=True) if v is not UNSET}

"""A row's values in a pgoutput message (TupleData), read against its Relation.

Values are the server's text output: integers and json/jsonb become msgspec.Raw (their
text is JSON already), booleans True/False, NULL None, an unchanged TOAST value
msgspec.UNSET, everything else the text itself (envelope.py writes them).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import msgspec

from pgwatch_gui.core.replication.envelope import BOOL_TYPE, RAW_TYPES, UNSET, RowShape, encode

_I16 = struct.Struct("!h").unpack_from
_I32 = struct.Struct("!i").unpack_from
_Raw = msgspec.Raw

_TEXT, _RAW, _BOOL = 0, 1, 2


class DecodeError(ValueError):
    """A message that does not follow pgoutput protocol version 1."""


def _kind(type_oid: int) -> int:
    if type_oid in RAW_TYPES:
        return _RAW
    return _BOOL if type_oid == BOOL_TYPE else _TEXT


@dataclass(slots=True)
class Relation:
    oid: int
    schema: str
    name: str
    identity: str  # d(efault), f(ull), i(ndex), n(othing)
    columns: tuple[str, ...]
    type_oids: tuple[int, ...]
    identity_columns: tuple[int, ...]  # positions of the replica identity's columns
    key_columns: tuple[int, ...] = ()  # positions that make `key`
    key_names: tuple[str, ...] = ()
    generated_missing: Any = UNSET  # names of STORED generated columns not sent
    kinds: tuple[int, ...] = ()
    row: RowShape = field(default=None)  # type: ignore[assignment]
    key: RowShape = field(default=None)  # type: ignore[assignment]
    old_key: RowShape = field(default=None)  # type: ignore[assignment]
    # A key of one integer (or json) column: '{"name":' (its value is the server's text)
    key_head: bytes | None = None
    key_at: int = -1

    def __post_init__(self) -> None:
        self.kinds = tuple(_kind(t) for t in self.type_oids)
        self.row = RowShape(self.columns)
        self.key = RowShape(self.key_names)
        self.old_key = RowShape(tuple(self.columns[i] for i in self.identity_columns))
        if len(self.key_columns) == 1 and self.kinds[self.key_columns[0]] == _RAW:
            self.key_at = self.key_columns[0]
            self.key_head = b"{" + encode(self.key_names[0]) + b":"



def read_tuple(msg: bytes, pos: int, rel: Relation) -> tuple[list[Any], list[str] | None, int]:
    """TupleData at pos -> (values in column order, columns left unchanged in TOAST,
    next pos). Nulls are None, unchanged TOAST values UNSET; an identity-only tuple
    ('K') has None in its other columns, which the caller drops.

    It runs once per column of every row: a message that is all ASCII (most are) is
    decoded once and its values sliced from that text; anything else goes column by
    column (read_tuple_bytes)."""
    (n,) = _I16(msg, pos)
    kinds = rel.kinds
    if n != len(kinds):
        raise DecodeError(f"{n} columns in a row of {rel.schema}.{rel.name}, "
                          f"{len(kinds)} in its Relation message")
    if not msg.isascii():
        return read_tuple_bytes(msg, pos + 2, rel)
    text = msg.decode("ascii")
    at = pos + 2
    vals: list[Any] = [None] * n
    for i, c in enumerate(kinds):
        k = msg[at]
        if k == 116:  # 't' text
            start = at + 5
            at = start + _I32(msg, at + 1)[0]
            if c == 0:  # _TEXT: most columns
                vals[i] = text[start:at]
            elif c == 1:  # _RAW: the server's text is JSON already
                vals[i] = _Raw(text[start:at])
            else:
                vals[i] = text[start:at] == "t"
        elif k == 110:  # 'n' null
            at += 1
        else:  # unchanged TOAST, binary, or an error: the careful way
            return read_tuple_bytes(msg, pos + 2, rel)
    return vals, None, at

def read_tuple_bytes(msg: bytes, pos: int, rel: Relation
                 ) -> tuple[list[Any], list[str] | None, int]:
    """_tuple for any message, column by column from the bytes (pos: the first column)."""
    kinds = rel.kinds
    vals: list[Any] = [None] * len(kinds)
    unchanged: list[str] | None = None
    for i, c in enumerate(kinds):
        k = msg[pos]
        if k == 116:  # 't' text
            start = pos + 5
            pos = start + _I32(msg, pos + 1)[0]
            if c == _TEXT:
                vals[i] = msg[start:pos].decode("utf-8", "replace")
            elif c == _RAW:
                vals[i] = _Raw(msg[start:pos])
            else:
                vals[i] = msg[start:pos] == b"t"
        elif k == 110:  # 'n' null
            pos += 1
        elif k == 117:  # 'u' unchanged TOAST value: not sent
            vals[i] = UNSET
            if unchanged is None:
                unchanged = []
            unchanged.append(rel.columns[i])
            pos += 1
        elif k == 98:  # 'b' binary (never asked for)
            (ln,) = _I32(msg, pos + 1)
            vals[i] = msg[pos + 5:pos + 5 + ln].hex()
            pos += 5 + ln
        else:
            raise DecodeError(f"unknown column kind {chr(k)!r} in {rel.schema}.{rel.name}")
    return vals, unchanged, pos


def insert_values(msg: bytes, rel: Relation) -> list[Any]:
    """An Insert message's values: read_tuple's all-ASCII way written out, for the most
    frequent message (it runs once per column of every row)."""
    kinds = rel.kinds
    n = len(kinds)
    vals: list[Any] = [None] * n
    if msg.isascii() and _I16(msg, 6)[0] == n:
        text = msg.decode("ascii")
        at = 8  # after relid, 'N' and the column count
        i = 0
        while i < n:
            k = msg[at]
            if k == 116:  # 't' text
                start = at + 5
                at = start + _I32(msg, at + 1)[0]
                c = kinds[i]
                if c == 0:  # _TEXT
                    vals[i] = text[start:at]
                elif c == 1:  # _RAW
                    vals[i] = _Raw(text[start:at])
                else:
                    vals[i] = text[start:at] == "t"
            elif k == 110:  # 'n' null
                at += 1
            else:
                vals = read_tuple(msg, 6, rel)[0]
                break
            i += 1
    else:
        vals = read_tuple(msg, 6, rel)[0]  # after relid and 'N'
    return vals

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
    # The row's values read without a loop (see _reader): from the message decoded as
    # ASCII, and from its bytes; None for a table too wide to write one out.
    read_ascii: Any = None
    read_bytes: Any = None
    # envelope.Insert's JSON before its key, and between its row and txid
    insert_head: bytes = b""
    insert_after_row: bytes = b""
    # (msg, the transaction's tail) -> the Change of an Insert, or None (see _inserter)
    insert_change: Any = None

    def __post_init__(self) -> None:
        self.kinds = tuple(_kind(t) for t in self.type_oids)
        self.read_ascii, self.read_bytes = _readers(self.kinds)
        self.insert_head = (b'{"v":1,"op":"INSERT","schema":' + encode(self.schema)
                            + b',"table":' + encode(self.name) + b',"key":')
        self.insert_after_row = b"" if self.generated_missing is UNSET else (
            b',"generated_missing":' + encode(self.generated_missing))
        self.row = RowShape(self.columns)
        self.key = RowShape(self.key_names)
        self.old_key = RowShape(tuple(self.columns[i] for i in self.identity_columns))
        if len(self.key_columns) == 1 and self.kinds[self.key_columns[0]] == _RAW:
            self.key_at = self.key_columns[0]
            self.key_head = b"{" + encode(self.key_names[0]) + b":"
        if self.key_head is not None and self.row.struct is not None:
            make = _inserter(self.kinds, self.key_at)
            if make is not None:
                self.insert_change = make(
                    _I32, _Raw, self.row.struct, encode, b"".join, self.insert_head,
                    self.key_head, b',"row":', self.insert_after_row, self.schema, self.name,
                    len(self.kinds) >> 8, len(self.kinds) & 0xFF)



def read_tuple(msg: bytes, pos: int, rel: Relation) -> tuple[list[Any], list[str] | None, int]:
    """TupleData at pos -> (values in column order, columns left unchanged in TOAST,
    next pos). Nulls are None, unchanged TOAST values UNSET; an identity-only tuple
    ('K') has None in its other columns, which the caller drops.

    It runs for every row: the relation's reader written out for its columns takes the
    values of a row that is all ASCII (most are) from the message decoded once, and of
    any other from its bytes; an unchanged TOAST value or a binary one goes column by
    column (read_tuple_bytes)."""
    (n,) = _I16(msg, pos)
    kinds = rel.kinds
    if n != len(kinds):
        raise DecodeError(f"{n} columns in a row of {rel.schema}.{rel.name}, "
                          f"{len(kinds)} in its Relation message")
    if rel.read_ascii is not None:
        got = rel.read_ascii(msg, msg.decode("latin-1"), pos + 2) \
            if msg[pos + 2:].isascii() else rel.read_bytes(msg, pos + 2)
        if got is not None:
            return got[0], None, got[1]
    return read_tuple_bytes(msg, pos + 2, rel)


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
    """An Insert message's values (after relid and 'N'): read_tuple without the checks
    an Insert does not need, for the most frequent message."""
    read = rel.read_ascii
    if read is not None and _I16(msg, 6)[0] == len(rel.kinds):
        # The row's part all ASCII (the relation's id before it need not be): its text
        # values are slices of the message decoded once, byte for character.
        got = read(msg, msg.decode("latin-1"), 8) if msg[8:].isascii() \
            else rel.read_bytes(msg, 8)
        if got is not None:
            return got[0]
    return read_tuple(msg, 6, rel)[0]


# ---- a reader per kind of row ------------------------------------------------------------

# Widest row a reader is written out for; wider ones go column by column.
MAX_WRITTEN_OUT = 64
_READERS: dict[tuple[int, ...], tuple[Any, Any]] = {}


def _readers(kinds: tuple[int, ...]) -> tuple[Any, Any]:
    """Two functions `(msg, text, pos)` and `(msg, pos)` -> (values, next pos), or None
    for a column that is neither text nor null (an unchanged TOAST value, binary, an
    error: read_tuple_bytes then). One statement per column and no loop: a loop over
    the columns cost about 300 ns a column, most of a row's decoding. Written from the
    column kinds only (no name, no value of the table goes into the code), once per
    distinct kinds."""
    found = _READERS.get(kinds)
    if found is None:
        if not kinds or len(kinds) > MAX_WRITTEN_OUT:
            found = (None, None)
        else:
            found = (_write_out(kinds, ascii_text=True), _write_out(kinds, ascii_text=False))
        if len(_READERS) >= 256:
            _READERS.clear()
        _READERS[kinds] = found
    return found


_VALUE = {  # kind -> (the value from the ASCII text, the value from the bytes)
    _TEXT: ("text[s:p]", 'msg[s:p].decode("utf-8", "replace")'),
    _RAW: ("Raw(text[s:p])", "Raw(msg[s:p])"),
    _BOOL: ('text[s:p] == "t"', 'msg[s:p] == b"t"'),
}


def _columns(kinds: tuple[int, ...], *, ascii_text: bool, indent: str = "    ") -> list[str]:
    """The statements that read each column into v0, v1, ... (from p on), or return None."""
    code = []
    for i, kind in enumerate(kinds):
        value = _VALUE[kind][0 if ascii_text else 1]
        code += [
            "k = msg[p]",
            "if k == 116:",
            "    s = p + 5",
            "    p = s + I32(msg, p + 1)[0]",
            f"    v{i} = {value}",
            "elif k == 110:",
            f"    v{i} = None",
            "    p += 1",
            "else:",
            "    return None",
        ]
    return [indent + line for line in code]


def _write_out(kinds: tuple[int, ...], *, ascii_text: bool) -> Any:
    args = "msg, text, p" if ascii_text else "msg, p"
    code = [f"def read({args}):", *_columns(kinds, ascii_text=ascii_text)]
    code.append(f"    return [{', '.join(f'v{i}' for i in range(len(kinds)))}], p")
    namespace: dict[str, Any] = {"I32": _I32, "Raw": _Raw}
    exec("\n".join(code), namespace)  # only the kinds go into it
    return namespace["read"]


_INSERTERS: dict[tuple[tuple[int, ...], int], Any] = {}

# A row shorter than this is split at its column headers: `t` and the first byte of a
# length, b"t\0". Text output never holds a NUL byte, so b"t\0" cannot start inside a
# value, nor at a length's byte with a value after it unless that length is at least
# 0x7400 (29,696) bytes, which a shorter message cannot hold: each b"t\0" in it is a
# column's header. When there are as many as the row has columns, every column is text
# (a null's `n` or a TOAST marker's `u` would leave one out), and each part is three
# bytes of length and then the value.
SPLIT_BELOW = 0x7400


def _split_values(kinds: tuple[int, ...], indent: str) -> list[str]:
    """The statements that read a row of all text columns into v0, v1, ... by one split
    of the row decoded as Latin-1 (SPLIT_BELOW says why it is exact), then return None
    unless every value is ASCII, its text then (a length's byte may not be)."""
    names = ", ".join(f"p{i}" for i in range(len(kinds)))
    code = [f"_, {names} = parts"]
    ascii_checks = []
    for i, kind in enumerate(kinds):
        if kind == _BOOL:
            code.append(f'v{i} = p{i}[3:] == "t"')
            continue
        code.append(f"t{i} = p{i}[3:]")
        code.append(f"v{i} = Raw(t{i})" if kind == _RAW else f"v{i} = t{i}")
        ascii_checks.append(f"t{i}.isascii()")
    code.append(f"if not text.isascii() and not ({' and '.join(ascii_checks) or 'True'}):")
    code.append("    return None")
    return [indent + line for line in code]
def _inserter(kinds: tuple[int, ...], key_at: int) -> Any:
    """For a relation whose key is one integer (or json) column at `key_at`: a maker of
    `insert(msg, tail)`, which turns an Insert message whose row is all ASCII text or
    null into its Change in one function (Decoder.insert's work: the values read as
    _readers does, or by one split for a row of text columns only, the key, the
    envelope's JSON put together), and returns None for any other (Decoder.insert then
    takes the general way). Written from the kinds and the key's position only, once
    per distinct pair; the relation's names and JSON parts are the maker's arguments."""
    found = _INSERTERS.get((kinds, key_at))
    if found is None and (kinds, key_at) not in _INSERTERS:
        if kinds and len(kinds) <= MAX_WRITTEN_OUT and kinds[key_at] == _RAW:
            values = ", ".join(f"v{i}" for i in range(len(kinds)))
            change = [
                f"key = key_head + v{key_at} + b'}}'",
                f"return (join((head, key, row_sep, encode(row({values})), after, tail)),",
                "        'INSERT', schema, name, key)",
            ]
            code = [
                "def make(I32, Raw, row, encode, join, head, key_head, row_sep, after,",
                "         schema, name, n_high, n_low):",
                "    def insert(msg, tail):",
                "        if msg[6] != n_high or msg[7] != n_low:",
                "            return None",
                f"        if len(msg) < {SPLIT_BELOW}:",
                "            text = msg[8:].decode('latin-1')",
                "            parts = text.split('t\\x00')",
                f"            if len(parts) == {len(kinds) + 1} and not parts[0]:",
                *_split_values(kinds, indent="                "),
                *["                " + line for line in change],
                "            if not text.isascii():",
                "                return None",
                "        elif not msg[8:].isascii():",
                "            return None",
                "        text = msg.decode('latin-1')",
                "        p = 8",
                *_columns(kinds, ascii_text=True, indent="        "),
                f"        if v{key_at} is None:",
                "            return None",
                *["        " + line for line in change],
                "    return insert",
            ]
            namespace: dict[str, Any] = {}
            exec("\n".join(code), namespace)  # only the kinds and a position go into it
            found = namespace["make"]
        if len(_INSERTERS) >= 256:
            _INSERTERS.clear()
        _INSERTERS[(kinds, key_at)] = found
    return found

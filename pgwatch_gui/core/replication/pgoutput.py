"""pgoutput (protocol version 1) messages -> this tool's change envelope.

The server sends, per transaction, Begin (B: final LSN, commit time, xid), a
Relation (R) before the first change of a table in the session (and again when it
changes), the row changes (I, U, D, T) and Commit (C). Row values arrive as the
server's text output; integers and booleans become JSON numbers and booleans and
json/jsonb become JSON, as `row_to_json` would give them; everything else (numeric,
timestamps, arrays, ...) stays the server's text exactly, never rounded or reformatted.

An UPDATE whose new row leaves a TOASTed value unchanged does not carry that value:
the column is left out of `row` and named in `unchanged_toast`, never invented.
`old` is there when the table's replica identity gives it: the key columns of a
DELETE (or of an UPDATE that changed the key) under the default identity, the whole
old row under REPLICA IDENTITY FULL. `changed` is given only when the old row is.

Envelopes have this tool's trigger shape (DESIGN.md): `txid` is text, `ts` is the
commit time in ISO 8601, and INSERT carries no `old`, DELETE no `row`.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pgwatch_gui.core.replication.protocol import unix_time

_I16 = struct.Struct("!h").unpack_from
_I32 = struct.Struct("!i").unpack_from
_U32 = struct.Struct("!I").unpack_from
_BEGIN = struct.Struct("!QqI").unpack_from  # final LSN, commit time, xid
_COMMIT = struct.Struct("!BQQq").unpack_from  # flags, commit LSN, end LSN, commit time
_RELATION_HEAD = struct.Struct("!I").unpack_from

INT_TYPES = frozenset({20, 21, 23, 26, 28})  # int8, int2, int4, oid, xid
BOOL_TYPE = 16
JSON_TYPES = frozenset({114, 3802})  # json, jsonb

IDENTITY_NAMES = {"d": "default", "f": "full", "i": "index", "n": "nothing"}

# How a key for REPLICA IDENTITY FULL is chosen: (schema, table) -> primary key columns.
KeyHint = Callable[[str, str], "tuple[str, ...] | None"]


class DecodeError(ValueError):
    """A message that does not follow pgoutput protocol version 1."""


def _text(b: bytes) -> str:
    return b.decode("utf-8", "replace")


def _int(b: bytes) -> int | str:
    try:
        return int(b)
    except ValueError:
        return _text(b)


def _bool(b: bytes) -> bool:
    return b == b"t"


def _json(b: bytes) -> Any:
    try:
        return json.loads(b)
    except (ValueError, RecursionError):
        return _text(b)


def commit_latency(envelope: object, received_at: float) -> float | None:
    """Seconds from a change's commit (its envelope's `ts`) to `received_at`; None if unknown."""
    ts = envelope.get("ts") if isinstance(envelope, dict) else None
    if not isinstance(ts, str):
        return None
    try:
        return received_at - datetime.fromisoformat(ts).timestamp()
    except ValueError:
        return None


def converter(type_oid: int) -> Callable[[bytes], Any] | None:
    """How a column's text becomes a JSON value; None: it stays text (decoded inline)."""
    if type_oid in INT_TYPES:
        return _int
    if type_oid == BOOL_TYPE:
        return _bool
    if type_oid in JSON_TYPES:
        return _json
    return None


@dataclass(slots=True)
class Relation:
    oid: int
    schema: str
    name: str
    identity: str  # d(efault), f(ull), i(ndex), n(othing)
    columns: tuple[str, ...]
    type_oids: tuple[int, ...]
    identity_columns: tuple[int, ...]  # positions of the replica identity's columns
    converters: tuple[Callable[[bytes], Any] | None, ...]
    key_columns: tuple[int, ...] = ()  # positions that make `key`
    key_names: tuple[str, ...] = ()


def _cstring(buf: bytes, pos: int) -> tuple[str, int]:
    end = buf.index(b"\0", pos)
    return buf[pos:end].decode("utf-8", "replace"), end + 1


class Decoder:
    """Feed it pgoutput messages; it returns the envelopes of the row changes in them.

    `key_hint` gives the primary key of a table with REPLICA IDENTITY FULL (whose
    Relation message marks every column as identity); without one, the key is
    every column.
    """

    def __init__(self, key_hint: KeyHint | None = None) -> None:
        self.key_hint = key_hint
        self.relations: dict[int, Relation] = {}
        self.xid: str | None = None
        self.commit_ts: str | None = None
        self.commit_time: float | None = None  # Unix seconds of the open transaction's commit
        self.in_transaction = False
        self.last_commit_end = 0  # end LSN of the last Commit seen
        self.last_commit_time: float | None = None
        self.transactions = 0
        self.ignored = 0  # messages this decoder has no use for (types, origins, ...)

    # ---- messages ---------------------------------------------------------------

    def feed(self, msg: bytes) -> list[dict[str, Any]] | None:
        """One pgoutput message -> the envelopes of its row changes (None for none)."""
        kind = msg[0]
        if kind == 73:  # I
            return [self._insert(msg)]
        if kind == 85:  # U
            return [self._update(msg)]
        if kind == 68:  # D
            return [self._delete(msg)]
        if kind == 66:  # B
            _lsn, ts, xid = _BEGIN(msg, 1)
            self.commit_time = unix_time(ts)
            self.commit_ts = datetime.fromtimestamp(self.commit_time, tz=timezone.utc).isoformat(
                timespec="microseconds")
            self.xid = str(xid)
            self.in_transaction = True
            return None
        if kind == 67:  # C
            _flags, _lsn, end, ts = _COMMIT(msg, 1)
            self.last_commit_end = end
            self.last_commit_time = unix_time(ts)
            self.in_transaction = False
            self.transactions += 1
            return None
        if kind == 82:  # R
            self._relation(msg)
            return None
        if kind == 84:  # T
            return self._truncate(msg)
        if kind in (89, 79, 77):  # Y(type), O(rigin), M(essage)
            self.ignored += 1
            return None
        raise DecodeError(f"unknown pgoutput message {chr(kind)!r}")

    def _relation(self, msg: bytes) -> None:
        (oid,) = _RELATION_HEAD(msg, 1)
        schema, pos = _cstring(msg, 5)
        name, pos = _cstring(msg, pos)
        identity = chr(msg[pos])
        (ncols,) = _I16(msg, pos + 1)
        pos += 3
        cols, types, ident = [], [], []
        for i in range(ncols):
            flags = msg[pos]
            col, pos = _cstring(msg, pos + 1)
            (typ,) = _U32(msg, pos)
            pos += 8  # type oid, type modifier
            cols.append(col)
            types.append(typ)
            if flags & 1:
                ident.append(i)
        key = tuple(ident)
        if identity == "f" and self.key_hint is not None:
            hint = self.key_hint(schema or "pg_catalog", name)
            if hint and all(h in cols for h in hint):
                key = tuple(cols.index(h) for h in hint)
        self.relations[oid] = Relation(
            oid, schema or "pg_catalog", name, identity, tuple(cols), tuple(types),
            tuple(ident), tuple(converter(t) for t in types), key,
            tuple(cols[i] for i in key))

    def _rel(self, msg: bytes) -> Relation:
        (oid,) = _U32(msg, 1)
        rel = self.relations.get(oid)
        if rel is None:
            raise DecodeError(f"a change of relation {oid} arrived before its Relation message")
        return rel

    def _tuple(self, msg: bytes, pos: int, rel: Relation
               ) -> tuple[dict[str, Any], list[str] | None, int]:
        """TupleData at pos -> (values by column, columns left unchanged in TOAST, next pos).

        Nulls are kept as None; an identity-only tuple ('K') has None in its other
        columns, which the caller drops.
        """
        (n,) = _I16(msg, pos)
        pos += 2
        cols = rel.columns
        convs = rel.converters
        row: dict[str, Any] = {}
        unchanged: list[str] | None = None
        for i in range(n):
            k = msg[pos]
            if k == 116 or k == 98:  # 't' text, 'b' binary (never asked for)
                (ln,) = _I32(msg, pos + 1)
                start = pos + 5
                pos = start + ln
                raw = msg[start:pos]
                conv = convs[i]
                if k != 116:
                    row[cols[i]] = raw.hex()
                elif conv is None:  # most columns: text, no call
                    row[cols[i]] = raw.decode("utf-8", "replace")
                else:
                    row[cols[i]] = conv(raw)
            elif k == 110:  # 'n' null
                row[cols[i]] = None
                pos += 1
            elif k == 117:  # 'u' unchanged TOAST value: not sent
                if unchanged is None:
                    unchanged = []
                unchanged.append(cols[i])
                pos += 1
            else:
                raise DecodeError(f"unknown column kind {chr(k)!r} in {rel.schema}.{rel.name}")
        return row, unchanged, pos

    def _key(self, rel: Relation, row: dict[str, Any]) -> dict[str, Any] | None:
        key = {k: row[k] for k in rel.key_names if k in row}
        return key or None

    def _head(self, op: str, rel: Relation) -> dict[str, Any]:
        return {"v": 1, "op": op, "schema": rel.schema, "table": rel.name}

    def _insert(self, msg: bytes) -> dict[str, Any]:
        rel = self._rel(msg)
        row = self._tuple(msg, 6, rel)[0]  # after relid and 'N'
        return {"v": 1, "op": "INSERT", "schema": rel.schema, "table": rel.name,
                "key": self._key(rel, row), "row": row, "txid": self.xid, "ts": self.commit_ts}

    def _old(self, kind: int, rel: Relation, row: dict[str, Any]) -> dict[str, Any]:
        if kind == 75:  # 'K': the identity's columns only; the others are sent as null
            cols = rel.columns
            return {cols[i]: row.get(cols[i]) for i in rel.identity_columns}
        return row

    def _update(self, msg: bytes) -> dict[str, Any]:
        rel = self._rel(msg)
        pos = 5
        old = None
        old_unchanged = None
        kind = msg[pos]
        if kind in (75, 79):  # 'K' or 'O'
            old_row, old_unchanged, pos = self._tuple(msg, pos + 1, rel)
            old = self._old(kind, rel, old_row)
        if msg[pos] != 78:  # 'N'
            raise DecodeError(f"UPDATE of {rel.schema}.{rel.name} without a new row")
        row, unchanged, _ = self._tuple(msg, pos + 1, rel)
        env = self._head("UPDATE", rel)
        env["key"] = self._key(rel, row)
        env["row"] = row
        if old is not None:
            env["old"] = old
            if kind == 79:
                skip = set(unchanged or ()) | set(old_unchanged or ())
                env["changed"] = [c for c in rel.columns
                                  if c not in skip and old.get(c) != row.get(c)]
        if unchanged:
            env["unchanged_toast"] = unchanged
        env["txid"] = self.xid
        env["ts"] = self.commit_ts
        return env

    def _delete(self, msg: bytes) -> dict[str, Any]:
        rel = self._rel(msg)
        kind = msg[5]
        if kind not in (75, 79):
            raise DecodeError(f"DELETE of {rel.schema}.{rel.name} without its old row")
        old_row, old_unchanged, _ = self._tuple(msg, 6, rel)
        old = self._old(kind, rel, old_row)
        env = self._head("DELETE", rel)
        env["key"] = self._key(rel, old)
        env["old"] = old
        if old_unchanged:
            env["unchanged_toast"] = old_unchanged
        env["txid"] = self.xid
        env["ts"] = self.commit_ts
        return env

    def _truncate(self, msg: bytes) -> list[dict[str, Any]]:
        (n,) = _I32(msg, 1)
        options = msg[5]
        out = []
        for i in range(n):
            (oid,) = _U32(msg, 6 + 4 * i)
            rel = self.relations.get(oid)
            if rel is None:
                raise DecodeError(f"TRUNCATE of relation {oid} before its Relation message")
            env = self._head("TRUNCATE", rel)
            env["key"] = None
            if options & 1:
                env["cascade"] = True
            if options & 2:
                env["restart_identity"] = True
            env["txid"] = self.xid
            env["ts"] = self.commit_ts
            out.append(env)
        return out

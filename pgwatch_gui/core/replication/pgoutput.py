"""pgoutput (protocol version 1) messages -> this tool's change envelope, as JSON text.

The server sends, per transaction, Begin (B: final LSN, commit time, xid), a
Relation (R) before the first change of a table in the session (and again when it
changes), the row changes (I, U, D, T) and Commit (C). Each row change becomes a
Change: (the envelope's JSON as bytes, op, schema, table, the key's JSON as bytes),
written by msgspec without an intermediate dict (envelope.py: integers and json/jsonb
spliced in as the server's own text, booleans as JSON, the rest the server's text).

An UPDATE whose new row leaves a TOASTed value unchanged does not carry that value:
the column is left out of `row` and named in `unchanged_toast`, never invented.
`old` is there when the table's replica identity gives it: the key columns of a
DELETE (or of an UPDATE that changed the key) under the default identity, the whole
old row under REPLICA IDENTITY FULL. `changed` is given only when the old row is.
A STORED generated column the server does not send (pgoutput before PostgreSQL 18, or
a publication without publish_generated_columns) is named in `generated_missing`
(`generated_hint` says which a table has), never guessed.

Envelopes have this tool's trigger shape (DESIGN.md): `txid` is text, `ts` is the
commit time in ISO 8601, and INSERT carries no `old`, DELETE no `row`.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import msgspec

from pgwatch_gui.core.replication.envelope import (
    UNSET,
    Delete,
    Truncate,
    Update,
    encode,
)
from pgwatch_gui.core.replication.protocol import unix_time
from pgwatch_gui.core.replication.tuples import (
    DecodeError,
    Relation,
    insert_values,
    read_tuple,
)

_I16 = struct.Struct("!h").unpack_from
_I32 = struct.Struct("!i").unpack_from
_U32 = struct.Struct("!I").unpack_from
_BEGIN = struct.Struct("!QqI").unpack_from  # final LSN, commit time, xid
_COMMIT = struct.Struct("!BQQq").unpack_from  # flags, commit LSN, end LSN, commit time
_RELATION_HEAD = struct.Struct("!I").unpack_from
_Raw = msgspec.Raw
_NULL = b"null"

IDENTITY_NAMES = {"d": "default", "f": "full", "i": "index", "n": "nothing"}

# How a key for REPLICA IDENTITY FULL is chosen: (schema, table) -> primary key columns.
KeyHint = Callable[[str, str], "tuple[str, ...] | None"]
# Which STORED generated columns of (schema, table) the server leaves out.
GeneratedHint = Callable[[str, str], "tuple[str, ...]"]

# (the envelope as JSON, op, schema, table, the key as JSON)
Change = tuple[bytes, str, str, str, bytes]


def envelope_of(change: Change) -> dict[str, Any]:
    """The envelope of a Change as a dict (numbers exact), for tests and the curious."""
    return json.loads(change[0], parse_float=Decimal)


def commit_latency(envelope: object, received_at: float) -> float | None:
    """Seconds from a change's commit (its envelope's `ts`) to `received_at`; None if unknown."""
    ts = envelope.get("ts") if isinstance(envelope, dict) else None
    if not isinstance(ts, str):
        return None
    try:
        return received_at - datetime.fromisoformat(ts).timestamp()
    except ValueError:
        return None


def _txn_tail(xid: str | None, ts: str | None) -> bytes:
    """`,"txid":…,"ts":…}`: how every envelope of a transaction ends."""
    return b',"txid":' + encode(xid) + b',"ts":' + encode(ts) + b"}"


def _cstring(buf: bytes, pos: int) -> tuple[str, int]:
    end = buf.index(b"\0", pos)
    return buf[pos:end].decode("utf-8", "replace"), end + 1


class Decoder:
    """Feed it pgoutput messages; it returns the Changes of the row changes in them.

    `key_hint` gives the primary key of a table with REPLICA IDENTITY FULL (whose
    Relation message marks every column as identity); without one, the key is
    every column. `generated_hint` names a table's STORED generated columns that the
    server does not send.
    """

    def __init__(self, key_hint: KeyHint | None = None,
                 generated_hint: GeneratedHint | None = None) -> None:
        self.key_hint = key_hint
        self.generated_hint = generated_hint
        self.relations: dict[int, Relation] = {}
        # A relation's id as its 4 bytes in a message -> its Relation.insert_change, called
        # as (msg, txn_tail) by `insert` and, without its call, by the stream's reader
        self.inserts: dict[bytes, Any] = {}
        self.xid: str | None = None
        self.commit_ts: str | None = None
        self.txn_tail = _txn_tail(None, None)  # what ends an envelope in this transaction
        self.commit_time: float | None = None  # Unix seconds of the open transaction's commit
        self.in_transaction = False
        self.last_commit_end = 0  # end LSN of the last Commit seen
        self.last_commit_time: float | None = None
        self.transactions = 0
        self.ignored = 0  # messages this decoder has no use for (types, origins, ...)

    # ---- messages ---------------------------------------------------------------

    def feed(self, msg: bytes) -> list[Change] | None:
        """One pgoutput message -> the Changes of its row changes (None for none)."""
        kind = msg[0]
        if kind == 73:  # I
            return [self.insert(msg)]
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
            self.txn_tail = _txn_tail(self.xid, self.commit_ts)
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
        schema = schema or "pg_catalog"
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
            hint = self.key_hint(schema, name)
            if hint and all(h in cols for h in hint):
                key = tuple(cols.index(h) for h in hint)
        missing = self.generated_hint(schema, name) if self.generated_hint else ()
        missing = [c for c in missing if c not in cols]
        rel = self.relations[oid] = Relation(
            oid, schema, name, identity, tuple(cols), tuple(types), tuple(ident), key,
            tuple(cols[i] for i in key), missing or UNSET)
        self.inserts.pop(msg[1:5], None)
        if rel.insert_change is not None:
            self.inserts[msg[1:5]] = rel.insert_change

    def _rel(self, msg: bytes) -> Relation:
        (oid,) = _U32(msg, 1)
        rel = self.relations.get(oid)
        if rel is None:
            raise DecodeError(f"a change of relation {oid} arrived before its Relation message")
        return rel

    def _key(self, rel: Relation, vals: list[Any], positions: tuple[int, ...]) -> bytes:
        """The key's JSON from the values at `positions` (null when none is there)."""
        kv = [vals[i] for i in positions]
        if not kv or (UNSET in kv and all(v is UNSET for v in kv)):
            return _NULL
        return encode(rel.key.make(kv))

    def insert(self, msg: bytes) -> Change:
        """An Insert message, the reader's most frequent (no dispatch, no list): in one
        generated function for most (Relation.insert_change), else the general way."""
        fast = self.inserts.get(msg[1:5])
        if fast is not None:
            change = fast(msg, self.txn_tail)
            if change is not None:
                return change
        return self.insert_general(msg)

    def insert_general(self, msg: bytes) -> Change:
        """An Insert message of a relation without a generated function, or one it did
        not take (a value that is not ASCII, a null key): column by column."""
        rel = self.relations.get(_U32(msg, 1)[0])
        if rel is None:
            rel = self._rel(msg)  # raises
        vals = insert_values(msg, rel)
        head = rel.key_head
        if head is not None and type(vals[rel.key_at]) is _Raw:
            key = head + vals[rel.key_at] + b"}"
        else:
            key = self._key(rel, vals, rel.key_columns)
        row = rel.row.struct
        # envelope.Insert's JSON, put together from its parts: the relation's and the
        # transaction's are written once (tests/core/replication hold them equal)
        env = b"".join((rel.insert_head, key, b',"row":',
                        encode(row(*vals) if row is not None else rel.row.make(vals)),
                        rel.insert_after_row, self.txn_tail))
        return env, "INSERT", rel.schema, rel.name, key

    def _old(self, kind: int, rel: Relation, vals: list[Any]) -> Any:
        if kind == 75:  # 'K': the identity's columns only; the others are sent as null
            return rel.old_key.make([vals[i] for i in rel.identity_columns])
        return rel.row.make(vals)

    def _update(self, msg: bytes) -> Change:
        rel = self._rel(msg)
        pos = 5
        old = changed = UNSET
        old_vals: list[Any] | None = None
        kind = msg[pos]
        if kind in (75, 79):  # 'K' or 'O'
            old_vals, _, pos = read_tuple(msg, pos + 1, rel)
            old = self._old(kind, rel, old_vals)
        if msg[pos] != 78:  # 'N'
            raise DecodeError(f"UPDATE of {rel.schema}.{rel.name} without a new row")
        vals, unchanged, _ = read_tuple(msg, pos + 1, rel)
        if kind == 79 and old_vals is not None:
            changed = [c for c, a, b in zip(rel.columns, old_vals, vals, strict=True)
                       if a is not UNSET and b is not UNSET and a != b]
        key = self._key(rel, vals, rel.key_columns)
        env = Update(1, "UPDATE", rel.schema, rel.name, _Raw(key), rel.row.make(vals), old,
                     changed, unchanged or UNSET, rel.generated_missing, self.xid,
                     self.commit_ts)
        return encode(env), "UPDATE", rel.schema, rel.name, key

    def _delete(self, msg: bytes) -> Change:
        rel = self._rel(msg)
        kind = msg[5]
        if kind not in (75, 79):
            raise DecodeError(f"DELETE of {rel.schema}.{rel.name} without its old row")
        old_vals, old_unchanged, _ = read_tuple(msg, 6, rel)
        if kind == 75:  # the key from the identity's columns (the others are null)
            have = set(rel.identity_columns)
            key = self._key(rel, old_vals, tuple(i for i in rel.key_columns if i in have))
        else:
            key = self._key(rel, old_vals, rel.key_columns)
        env = Delete(1, "DELETE", rel.schema, rel.name, _Raw(key),
                     self._old(kind, rel, old_vals), old_unchanged or UNSET, self.xid,
                     self.commit_ts)
        return encode(env), "DELETE", rel.schema, rel.name, key

    def _truncate(self, msg: bytes) -> list[Change]:
        (n,) = _I32(msg, 1)
        options = msg[5]
        out = []
        for i in range(n):
            (oid,) = _U32(msg, 6 + 4 * i)
            rel = self.relations.get(oid)
            if rel is None:
                raise DecodeError(f"TRUNCATE of relation {oid} before its Relation message")
            env = Truncate(1, "TRUNCATE", rel.schema, rel.name, None,
                           True if options & 1 else UNSET, True if options & 2 else UNSET,
                           self.xid, self.commit_ts)
            out.append((encode(env), "TRUNCATE", rel.schema, rel.name, _NULL))
        return out

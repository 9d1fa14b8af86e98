"""The two sides of an audit: a committed row change, and what a notification claims.

A `Change` is one row change from the replication stream (this tool's envelope, see
core/replication/pgoutput.py). A `Notice` is one notification, read for what its
payload says about a change, whatever its shape (core/stream/payloads.py tells the
shapes apart):

- this tool's envelope: `op`, `schema`, `table`, `key`, `row`, `old`, `txid`;
- `{table, action, data}` and its spellings (`operation`, `tg_op`, `record`, `new`...);
- `{operation, id}`, `{id}`: a key and nothing else;
- a bare row, as `row_to_json(NEW)` sends: the whole row, no operation, no table;
- a plain id (`42`, `"9f1c..."`), or `UPDATE:42`;
- an empty payload, as `NOTIFY orders_changed` sends: no claim at all.

Fields a shape does not know (a sequence number, a timestamp, ...) are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pgwatch_gui.core.pg.names import qualified
from pgwatch_gui.core.stream.payloads import (
    SHAPE_CHANGE,
    SHAPE_ENVELOPE,
    SHAPE_JSON,
    SHAPE_ROW,
    SHAPE_TEXT,
    Decoded,
    decode_payload,
)

TableName = tuple[str, str]  # (schema, table)

_TXID_KEYS = ("txid", "xid", "transaction_id", "txn_id", "tx_id", "transactionId")
_NEW_KEYS = ("data", "row", "record", "new", "payload")
_OLD_KEYS = ("old", "old_data", "old_record", "previous", "before")
_OP_ID = re.compile(r"\s*(INSERT|UPDATE|DELETE|TRUNCATE)\s*[:|/ ,;]\s*(\S.*?)\s*$", re.I)
XID_MASK = 0xFFFFFFFF  # txid_current() is epoch << 32 | xid; the stream gives the xid


def table_text(name: TableName | None) -> str | None:
    """('public', 'orders') -> 'public.orders' (quoted only where a name needs it)."""
    return qualified(*name) if name else None


@dataclass(slots=True)
class Change:
    """A committed row change. `row` holds the committed values: the new row of an
    INSERT or UPDATE, the old row (its key, or all of it under REPLICA IDENTITY FULL)
    of a DELETE; `old` the old row of an UPDATE when the replica identity gives it."""

    seq: int
    at: float  # when it was read, time.time()
    table: TableName
    op: str
    key: dict[str, Any] | None
    row: dict[str, Any] | None
    old: dict[str, Any] | None = None
    xid: int | None = None
    commit_time: float | None = None  # the server's commit time, Unix seconds
    unchanged: frozenset[str] = frozenset()  # TOASTed columns the stream did not send
    row_key: Any = None  # set by the auditor: its key values, as core/audit/waiting.py files them

    @property
    def ident(self) -> dict[str, Any] | None:
        """The values that identify the row: its key, else (no key at all) the whole row."""
        return self.key or self.row


def change_from_envelope(env: dict[str, Any], seq: int, at: float) -> Change:
    op = str(env.get("op") or "")
    row = env.get("row") if op in ("INSERT", "UPDATE") else env.get("old")
    old = env.get("old") if op == "UPDATE" else None
    key = env.get("key")
    return Change(
        seq, at, (str(env.get("schema") or ""), str(env.get("table") or "")), op,
        key if isinstance(key, dict) and key else None,
        row if isinstance(row, dict) else None,
        old if isinstance(old, dict) else None,
        _int(env.get("txid")), _time(env.get("ts")),
        frozenset(env.get("unchanged_toast") or ()))


@dataclass(slots=True)
class Notice:
    """What one notification claims about a change (None: it does not say)."""

    seq: int
    at: float
    channel: str
    pid: int
    payload: str
    shape: str = ""
    op: str | None = None
    schema: str | None = None
    table: str | None = None
    ident: dict[str, Any] | None = None  # a key, by column (or "id")
    scalar: Any = None  # a bare id, column unknown
    row: dict[str, Any] | None = None  # values of the committed row it claims
    old: dict[str, Any] | None = None  # an UPDATE's old values, when it sends them
    txid: int | None = None
    truncated: bool = False
    error: str | None = None

    @property
    def says_anything(self) -> bool:
        return bool(self.ident or self.scalar is not None or self.row or self.op or self.table)


def notice_from_payload(payload: str, *, seq: int = 0, at: float = 0.0, channel: str = "",
                        pid: int = 0, decoded: Decoded | None = None) -> Notice:
    """Read a payload for its claims. Never raises."""
    d = decoded if decoded is not None else decode_payload(payload)
    n = Notice(seq, at, channel, pid, payload, d.shape)
    value = d.value
    if d.shape == SHAPE_ENVELOPE and isinstance(value, dict):
        _envelope(n, d, value)
    elif d.shape in (SHAPE_CHANGE, SHAPE_ROW) and isinstance(value, dict):
        _hand_written(n, d, value)
    elif d.shape == SHAPE_JSON and _is_scalar(value):
        n.scalar = value
    elif d.shape == SHAPE_TEXT:
        text = payload.strip()
        m = _OP_ID.fullmatch(text)
        if m:
            n.op, n.scalar = m[1].upper(), m[2]
        elif text and len(text) <= 200 and not any(c.isspace() for c in text):
            n.scalar = text
    return n


def _envelope(n: Notice, d: Decoded, value: dict) -> None:
    n.op, n.schema, n.table = d.op, d.schema, d.table
    n.ident = d.key if isinstance(d.key, dict) and d.key else None
    row, old = value.get("row"), value.get("old")
    if n.op == "DELETE":
        n.row = old if isinstance(old, dict) else None
    else:
        n.row = row if isinstance(row, dict) else None
        n.old = old if isinstance(old, dict) and n.op == "UPDATE" else None
    n.txid = _txid(value)
    n.truncated = value.get("truncated") is True
    err = value.get("error")
    n.error = err if isinstance(err, str) and err else None


def _hand_written(n: Notice, d: Decoded, value: dict) -> None:
    n.op, n.schema, n.table = d.op, d.schema, d.table
    n.txid = _txid(value)
    if d.shape == SHAPE_ROW:
        n.row = value  # row_to_json(NEW): the whole payload is the row
        return
    new = _first_dict(value, _NEW_KEYS)
    old = _first_dict(value, _OLD_KEYS)
    if new is not None and ("new" in new or "old" in new) and all(
            isinstance(new.get(k), (dict, type(None))) for k in ("new", "old")):
        new, old = new.get("new"), new.get("old") or old  # {"data": {"new": ..., "old": ...}}
    if n.op == "DELETE":
        n.row = old if old is not None else new
    else:
        n.row = new
        n.old = old if n.op == "UPDATE" else None
    key = value.get("key")
    if isinstance(key, dict) and key:
        n.ident = key
    elif n.row is None and d.key:  # {operation, id}: the key, as the payload names it
        if "key" in d.key:  # a bare "key": an id without a column name
            n.scalar = d.key["key"]
        else:
            n.ident = d.key


def _first_dict(obj: dict, keys: tuple[str, ...]) -> dict | None:
    for k in keys:
        v = obj.get(k)
        if isinstance(v, dict):
            return v
    return None


def _is_scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float)) and not isinstance(v, bool)


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().isdigit():
        return int(v)
    return None


def _txid(obj: dict) -> int | None:
    for k in _TXID_KEYS:
        got = _int(obj.get(k))
        if got is not None:
            return got
    return None


def _time(ts: Any) -> float | None:
    if not isinstance(ts, str):
        return None
    try:
        return datetime.fromisoformat(ts).timestamp()
    except ValueError:
        return None


def same_transaction(txid: int | None, xid: int | None) -> bool | None:
    """Whether a payload's txid (txid_current(): 64 bits, or a plain xid) names the
    stream's transaction `xid`; None when either is unknown."""
    if txid is None or xid is None:
        return None
    return (txid & XID_MASK) == (xid & XID_MASK)

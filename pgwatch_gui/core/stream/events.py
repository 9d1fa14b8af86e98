"""The Event value type and payload decoding.

Decoding recognises this tool's envelope (version 1, see the README's "What gets
installed") and the shapes that hand-written triggers commonly send, and never
raises: empty payloads, plain text, JSON that is not an object, deeply nested or huge
payloads all decode to something a screen can show. An Event decodes its payload at
most once, lazily.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec

KIND_NOTIFY = "notify"
KIND_CHANGE = "change"  # a row change read from a logical replication slot, no trigger
KIND_GAP = "gap"
PAYLOAD_KINDS = (KIND_NOTIFY, KIND_CHANGE)  # kinds whose payload decodes

OPERATIONS = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")

# Shapes the decoder tells apart, for the inspector and for tests.
SHAPE_EMPTY = "empty"
SHAPE_TEXT = "text"  # not JSON
SHAPE_JSON = "json"  # JSON, but not an object (number, string, array, null)
SHAPE_ENVELOPE = "pgwatch"  # this tool's envelope {"v": 1, "op", "schema", "table", "key", ...}
SHAPE_CHANGE = "change"  # a hand-written change message: some of operation/table/id/data
SHAPE_ROW = "row"  # a bare row, as row_to_json(NEW) sends

_OP_KEYS = ("op", "operation", "action", "tg_op", "event", "type")
_TABLE_KEYS = ("table", "table_name", "tableName", "tg_table_name", "relation")
_SCHEMA_KEYS = ("schema", "schema_name", "schemaName", "tg_table_schema")
_ID_KEYS = ("record_id", "id", "pk", "recordId")
_ROW_KEYS = ("data", "row", "record", "new", "old")
_JSON_START = frozenset('{["-0123456789tfnNI')


@dataclass(slots=True)
class Decoded:
    """What a payload says, as far as it can be told. Treat as read-only: an Event keeps
    and shares it. (Not a frozen dataclass: frozen initialisation costs about 4x, and one
    of these is made per notification.)"""

    shape: str
    value: Any = None  # the parsed JSON, or None when the payload is not JSON
    op: str | None = None
    schema: str | None = None
    table: str | None = None
    key: dict[str, Any] | None = None
    error: str | None = None  # why the payload is not JSON, for the inspector

    @property
    def is_json(self) -> bool:
        return self.shape not in (SHAPE_EMPTY, SHAPE_TEXT)


# The usual spellings, answered without parsing (one lookup per notification).
_OP_WORDS = {w: w for w in OPERATIONS} | {w.lower(): w for w in OPERATIONS}


def _norm_op(value: Any) -> str | None:
    """'insert', 'INSERT', 'UPDATE(via reference)' -> the operation word; anything else: None."""
    if not isinstance(value, str) or not value:
        return None
    word = _OP_WORDS.get(value)
    if word is not None:
        return word
    head = value.strip().split("(", 1)[0].split(None, 1)
    if not head:
        return None
    word = head[0].upper()
    return word if word in OPERATIONS else None


def _first_str(obj: dict, keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = obj.get(k)
        if isinstance(v, str) and v:
            return v
    return None


def _scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float)) and not isinstance(v, bool)


def _key_from(obj: dict) -> dict[str, Any] | None:
    key = obj.get("key")
    if isinstance(key, dict) and key:
        return key
    if key is not None and _scalar(key):
        return {"key": key}
    for k in _ID_KEYS:
        if k in obj and _scalar(obj[k]):
            return {"id": obj[k]}
    for rk in _ROW_KEYS:
        row = obj.get(rk)
        if isinstance(row, dict):
            for k in ("id", "pk"):
                if k in row and _scalar(row[k]):
                    return {k: row[k]}
            nested = row.get("new") if isinstance(row.get("new"), dict) else row.get("old")
            if isinstance(nested, dict) and "id" in nested and _scalar(nested["id"]):
                return {"id": nested["id"]}
    return None


def _decode_object(obj: dict) -> Decoded:
    if obj.get("v") == 1 and "op" in obj and "table" in obj:
        # Positional arguments: a Decoded is made per notification, and keywords cost 2x.
        raw_op, schema, table, key = obj["op"], obj.get("schema"), obj["table"], obj.get("key")
        op = _OP_WORDS.get(raw_op) if type(raw_op) is str else None
        return Decoded(
            SHAPE_ENVELOPE,
            obj,
            op if op is not None else (_norm_op(raw_op) or (raw_op if isinstance(raw_op, str)
                                                               else None)),
            schema if isinstance(schema, str) else None,
            table if isinstance(table, str) else None,
            key if isinstance(key, dict) else None,
        )
    op = None
    for k in _OP_KEYS:
        op = _norm_op(obj.get(k))
        if op:
            break
    table = _first_str(obj, _TABLE_KEYS)
    schema = _first_str(obj, _SCHEMA_KEYS)
    if table and schema is None and "." in table and not table.startswith('"'):
        schema, table = table.split(".", 1)
    key = _key_from(obj)
    shape = SHAPE_CHANGE if (op or table) else SHAPE_ROW
    return Decoded(shape, obj, op=op, schema=schema, table=table, key=key)


_scan = json.decoder.JSONDecoder().scan_once  # the scanner json.loads runs, without its wrappers
_fast_decode = msgspec.json.Decoder().decode


def _loads_stdlib(text: str) -> Any:
    """json.loads(text) for a text without surrounding whitespace, at about half the cost.
    Whatever is not one whole JSON value goes to json.loads, for its own error."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return json.loads(text)
    if end != len(text):
        return json.loads(text)
    return value


def _loads(text: str) -> Any:
    """json.loads(text), the same value, at a third of the cost (a payload is decoded per
    notification).

    msgspec's decoder parses first. It accepts a subset of what json.loads accepts and
    decodes it to the same value (tests/core/test_decode_fast.py checks both against each
    other on generated JSON and on arbitrary text); whatever it refuses (NaN, Infinity,
    1e999, an escaped lone surrogate, malformed text) goes to json.loads, which gives
    its own value or its own error. A non-ASCII text is handed over as bytes: given a
    str, msgspec would keep a UTF-8 copy inside it for as long as the Event lives."""
    try:
        return _fast_decode(text if text.isascii() else text.encode("utf-8"))
    except Exception:  # msgspec.DecodeError, UnicodeEncodeError, RecursionError
        return _loads_stdlib(text)


def decode_payload(payload: str) -> Decoded:
    """Decode a notification payload. Never raises."""
    try:
        text = payload.strip()
        if not text:
            return Decoded(SHAPE_EMPTY)
        if text[0] not in _JSON_START:
            return Decoded(SHAPE_TEXT, error="not JSON")
        try:
            value = _loads(text)
        except RecursionError:
            return Decoded(SHAPE_TEXT, error="JSON nested too deeply to decode")
        except ValueError as exc:
            return Decoded(SHAPE_TEXT, error=f"not JSON: {exc}")
        if isinstance(value, dict):
            return _decode_object(value)
        return Decoded(SHAPE_JSON, value)
    except Exception as exc:  # a decoder must never take the listener down
        return Decoded(SHAPE_TEXT, error=f"undecodable: {exc.__class__.__name__}")


_UNDECODED = Decoded(SHAPE_EMPTY)


@dataclass(frozen=True, slots=True)
class Event:
    """One notification as received (or a gap marker), immutable.

    `received_at` is seconds since the epoch (time.time()). The payload is decoded on
    first use of `decoded` (or op/schema/table/key) and the result kept.
    """

    seq: int
    received_at: float
    profile: str
    channel: str
    pid: int
    payload: str
    kind: str = KIND_NOTIFY
    own: bool = False
    _decoded: Decoded | None = field(default=None, compare=False, repr=False)
    # The payload's size in bytes as the server sent it, counted once when it was read
    # (-1: not known, counted from the text on demand). A payload decoded with
    # replacement (a SQL_ASCII database) has no other way back to its size.
    _size: int = field(default=-1, compare=False, repr=False)

    @property
    def decoded(self) -> Decoded:
        d = self._decoded
        if d is None:
            d = decode_payload(self.payload) if self.kind in PAYLOAD_KINDS else _UNDECODED
            object.__setattr__(self, "_decoded", d)
        return d

    @property
    def op(self) -> str | None:
        return self.decoded.op

    @property
    def schema(self) -> str | None:
        return self.decoded.schema

    @property
    def table(self) -> str | None:
        return self.decoded.table

    @property
    def key(self) -> dict[str, Any] | None:
        return self.decoded.key

    @property
    def size(self) -> int:
        """Payload size in bytes, as PostgreSQL counts it against the 8,000-byte limit."""
        n = self._size
        if n < 0:
            n = len(self.payload.encode("utf-8", "surrogatepass"))
            object.__setattr__(self, "_size", n)
        return n

    @property
    def is_gap(self) -> bool:
        return self.kind == KIND_GAP

    @property
    def qualified_table(self) -> str | None:
        d = self.decoded
        if d.table is None:
            return None
        return f"{d.schema}.{d.table}" if d.schema else d.table


_new = object.__new__
_SETTERS = tuple(
    Event.__dict__[name].__set__
    for name in ("seq", "received_at", "profile", "channel", "pid", "payload", "kind", "own",
                 "_decoded", "_size")
)


def new_event(seq: int, received_at: float, profile: str, channel: str, pid: int, payload: str,
              own: bool = False, size: int = -1) -> Event:
    """Event(seq, received_at, profile, channel, pid, payload, own=own), for the hot path.

    `size` is the payload's length in bytes as received (-1: count it when asked).
    A frozen dataclass sets each field through object.__setattr__; the slots' own setters
    do the same at less than half the cost, which matters at 100,000 events a second.
    """
    ev = _new(Event)
    s_seq, s_ts, s_prof, s_chan, s_pid, s_payload, s_kind, s_own, s_dec, s_size = _SETTERS
    s_seq(ev, seq)
    s_ts(ev, received_at)
    s_prof(ev, profile)
    s_chan(ev, channel)
    s_pid(ev, pid)
    s_payload(ev, payload)
    s_kind(ev, KIND_NOTIFY)
    s_own(ev, own)
    s_dec(ev, None)
    s_size(ev, size)
    return ev


_SET_KIND, _SET_DECODED = _SETTERS[6], _SETTERS[8]


def new_change_event(seq: int, received_at: float, profile: str, channel: str, payload: str,
                     envelope: dict[str, Any]) -> Event:
    """A row change from a replication slot: `payload` is `envelope` as JSON text.

    The envelope is already a dict, so the Decoded is built from it rather than by
    parsing the text again.
    """
    key = envelope.get("key")
    decoded = Decoded(SHAPE_ENVELOPE, envelope, op=envelope.get("op"),
                      schema=envelope.get("schema"), table=envelope.get("table"),
                      key=key if isinstance(key, dict) else None)
    ev = new_event(seq, received_at, profile, channel, 0, payload)  # size: from the text
    _SET_KIND(ev, KIND_CHANGE)
    _SET_DECODED(ev, decoded)
    return ev


def make_gap(seq: int, profile: str, lost_at: float, restored_at: float, reason: str) -> Event:
    """A marker row: notifications sent between lost_at and restored_at never reached us."""
    lost = time.strftime("%H:%M:%S", time.localtime(lost_at))
    text = (
        f"connection lost at {lost} ({reason}); listening again after "
        f"{restored_at - lost_at:.1f} s. Notifications sent meanwhile are lost."
    )
    return Event(seq, restored_at, profile, "", 0, text, kind=KIND_GAP)


def format_key(key: dict[str, Any] | None) -> str:
    """{'id': 42} -> 'id=42'; {'a': 1, 'b': 'x'} -> 'a=1, b=x'."""
    if not key:
        return ""
    return ", ".join(f"{k}={v}" for k, v in key.items())

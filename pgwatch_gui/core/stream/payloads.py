"""Payload decoding: what a notification's payload says (operation, table, key).

Decoding recognises this tool's envelope (version 1, see docs/guide/triggers.md, "What gets
installed") and the shapes that hand-written triggers commonly send, and never
raises: empty payloads, plain text, JSON that is not an object, deeply nested or huge
payloads all decode to something a screen can show.

Numbers are kept exactly: integers of any size as int, every other number as a
Decimal with the digits that were sent (a 40-digit numeric key, 1.000000000000000000001
and 1e400 are what the table holds, never a rounded float or infinity). Only NaN and
Infinity, which are not JSON, decode to floats.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

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
    return isinstance(v, (str, int, float, Decimal)) and not isinstance(v, bool)


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


def _envelope(value: Any, raw_op: Any, schema: Any, table: Any, key: Any) -> Decoded:
    """This tool's envelope. Positional arguments: one is made per notification, and
    keywords cost twice as much."""
    op = _OP_WORDS.get(raw_op) if type(raw_op) is str else None
    if op is None:
        op = _norm_op(raw_op) or (raw_op if isinstance(raw_op, str) else None)
    return Decoded(
        SHAPE_ENVELOPE,
        value,
        op,
        schema if isinstance(schema, str) else None,
        table if isinstance(table, str) else None,
        key if isinstance(key, dict) else None,
    )


def _decode_object(obj: dict) -> Decoded:
    if obj.get("v") == 1 and "op" in obj and "table" in obj:
        return _envelope(obj, obj["op"], obj.get("schema"), obj["table"], obj.get("key"))
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


# the scanner json.loads runs, without its wrappers
_scan = json.decoder.JSONDecoder(parse_float=Decimal).scan_once
_fast_decode = msgspec.json.Decoder(float_hook=Decimal).decode


def loads_exact(text: str | bytes) -> Any:
    """json.loads with numbers kept exactly (parse_float=Decimal)."""
    return json.loads(text, parse_float=Decimal)


def _loads_stdlib(text: str) -> Any:
    """loads_exact(text) for a text without surrounding whitespace, at about half the cost.
    Whatever is not one whole JSON value goes to json.loads, for its own error."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return loads_exact(text)
    if end != len(text):
        return loads_exact(text)
    return value


def _loads(text: str) -> Any:
    """loads_exact(text), the same value, at a third of the cost (a payload is decoded per
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


_UNSET = msgspec.UNSET


class _EnvelopeFields(msgspec.Struct, gc=False):
    """An envelope's fields; msgspec checks the rest of the payload without building it."""

    v: Any = _UNSET
    op: Any = _UNSET
    schema: Any = _UNSET
    table: Any = _UNSET
    key: Any = _UNSET


_peek_envelope = msgspec.json.Decoder(_EnvelopeFields, float_hook=Decimal).decode


def peek_payload(payload: str) -> Decoded:
    """decode_payload(payload) for a reader that wants op, schema, table and key and
    nothing else (a line of `listen`, a row's facets), at less than half the cost for
    this tool's envelope: its row, old values and the rest are read (a payload that is
    not JSON is still not JSON) but not built. The result's `value` is None, so it must
    never be kept as an Event's decode; every other payload gets decode_payload's answer.

    The envelope starts with "v" however it was built (jsonb puts the shortest key
    first); whatever msgspec refuses goes to decode_payload, as in _loads
    (tests/core/test_decode_fast.py holds both to the same answer)."""
    if payload.startswith('{"v"'):
        try:
            e = _peek_envelope(payload if payload.isascii() else payload.encode("utf-8"))
        except Exception:  # msgspec.DecodeError, ValidationError, UnicodeEncodeError, ...
            return decode_payload(payload)
        if e.v == 1 and e.op is not _UNSET and e.table is not _UNSET:
            schema, key = e.schema, e.key
            return _envelope(None, e.op, None if schema is _UNSET else schema, e.table,
                             None if key is _UNSET else key)
    return decode_payload(payload)


NULL_RAW = msgspec.Raw(b"null")


class LineFields(msgspec.Struct, gc=False):
    """What a JSON Lines line takes from an envelope: op, schema, table as values and the
    key as the JSON text the payload holds (every digit and escape as sent)."""

    v: Any = _UNSET
    op: Any = _UNSET
    schema: Any = _UNSET
    table: Any = _UNSET
    key: msgspec.Raw = NULL_RAW


# Raises msgspec.DecodeError (not JSON, not UTF-8) or ValidationError (not an object).
decode_line_fields = msgspec.json.Decoder(LineFields, float_hook=Decimal).decode


def envelope_head(e: LineFields) -> tuple[str | None, str | None, str | None] | None:
    """peek_payload's op, schema and table for a payload that decoded to `e`, when it is
    this tool's envelope; None when it is not (then peek_payload says what it is)."""
    if e.v == 1 and e.op is not _UNSET and e.table is not _UNSET:
        d = _envelope(None, e.op, None if e.schema is _UNSET else e.schema, e.table, None)
        return d.op, d.schema, d.table
    return None

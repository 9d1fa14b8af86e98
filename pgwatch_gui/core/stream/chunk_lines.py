"""JSON Lines for a read's notifications and row changes (chunks.py), without an Event each.

ChunkLines writes their JSON Lines column by column, each column in one pass of C code
where it can be (map over the batch): payloads decoded, op/schema/table/key read by
msgspec into a small struct (the key as the payload's own text, msgspec.Raw), one line
struct per notification, and every line of the batch encoded by one msgspec call. The
bytes are JsonlFormatter's for the same events (tests/core/test_chunks.py), for any
choice of fields. Whatever it cannot do that way (a database encoding that is not
UTF-8, a lone surrogate in a name) takes the Event's way, line for line the same.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal
from itertools import chain, repeat
from operator import attrgetter, itemgetter
from typing import Any, Literal

import msgspec

from pgwatch_gui.core.stream.chunks import ChangeChunk, NotifyChunk
from pgwatch_gui.core.stream.jsonl import (
    DECODED_FIELDS,
    FIELDS,
    JsonlFormatter,
    encode,
    encode_lines,
    iso_time,
    key_text,
    line_struct,
)
from pgwatch_gui.core.stream.notifies import EXTRA, PID, RELNAME
from pgwatch_gui.core.stream.payloads import (
    NULL_RAW,
    decode_line_fields,
    envelope_head,
    peek_payload,
)

_head_key = attrgetter("v", "op", "schema", "table")
_key = attrgetter("key")
_NULL = msgspec.Raw(b"null")


class ChunkLines:
    """JSON Lines (`fields`, in that order) for NotifyChunks and ChangeChunks, as bytes."""

    def __init__(self, fields: tuple[str, ...] = FIELDS) -> None:
        self.fields = fields
        self._decodes = bool(DECODED_FIELDS.intersection(fields))
        self._events = JsonlFormatter(fields)  # the Event's way, for what is not fast
        self._channels: dict[bytes, str] = {}
        self._times: dict[float, bytes] = {}
        self._heads: dict[tuple, tuple] = {}
        self._names = {f: b"," + encode(f) + b":" for f in FIELDS}
        self._raw_cache: dict[tuple[str, bytes], _Raws] = {}

    def lines(self, chunks: list) -> bytes:
        """Every line of `chunks`, each with its newline."""
        if type(chunks[0]) is ChangeChunk:
            return self._changes(chunks)
        out: list[bytes] = []
        run: list[NotifyChunk] = []
        for c in chunks:
            if c.encoding in ("utf-8", "utf8") and c.items:
                if run and c.profile != run[0].profile:
                    out.append(self._fast(run))
                    run = []
                run.append(c)
                continue
            if run:
                out.append(self._fast(run))
                run = []
            out.append(self._slow([c]))
        if run:
            out.append(self._fast(run))
        return b"".join(out)

    def _slow(self, chunks: list[NotifyChunk]) -> bytes:
        line = self._events.line
        return b"".join(line(ev).encode("utf-8") + b"\n" for c in chunks for ev in c.events())

    # ---- columns ---------------------------------------------------------------------

    def _channel(self, rel: bytes) -> str:
        name = self._channels.get(rel)
        if name is None:
            if len(self._channels) >= 10_000:
                self._channels.clear()
            name = self._channels[rel] = rel.decode("utf-8", "replace")
        return name

    def _heads_of(self, envs: list) -> list:
        """(op, schema, table) per payload decoded to `envs` when it is this tool's
        envelope, else None; remembered per distinct (v, op, schema, table), so a stream
        of envelopes costs one C-level pass."""
        cache = self._heads
        try:
            heads = list(map(cache.get, map(_head_key, envs)))
        except (TypeError, AttributeError):  # an op that is an object, a payload that is not
            heads = [None] * len(envs)
        if None in heads:  # new triples, and payloads that are not this tool's envelope
            for i, h in enumerate(heads):
                e = envs[i]
                if h is None and e is not None:
                    heads[i] = h = envelope_head(e)
                    if h is not None:
                        with contextlib.suppress(TypeError):  # unhashable: not remembered
                            if len(cache) >= 1024:
                                cache.clear()
                            cache[_head_key(e)] = h
        return heads

    def _decoded(self, texts: list[bytes], strs: list[str]) -> tuple[list, list, list, list]:
        """op, schema, table and the key's JSON (msgspec.Raw) per payload (`texts`: its
        UTF-8 bytes), as four columns."""
        try:  # a stream of this tool's envelopes, as triggers write them: every value typed
            envs = list(map(_decode_envelope, texts))
        except Exception:  # anything else, in a read: the general way, for each
            return self._decoded_each(texts, strs)
        return (list(map(_op, envs)), list(map(_schema, envs)), list(map(_table, envs)),
                _objects_only(list(map(_key, envs))))

    def _decoded_each(self, texts: list[bytes], strs: list[str]) -> tuple[list, list, list, list]:
        try:
            envs = list(map(decode_line_fields, texts))
        except Exception:  # one is not a JSON object: each on its own
            envs = list(map(_line_fields_or_none, texts))
        heads = self._heads_of(envs)
        if None in envs:
            keys = [_NULL if e is None else e.key for e in envs]
        else:
            keys = list(map(_key, envs))
        keys = _objects_only(keys)
        if None in heads:  # anything but this tool's envelope: what the decoder says of it
            for i, h in enumerate(heads):
                if h is None:
                    d = peek_payload(strs[i])
                    heads[i] = (d.op, d.schema, d.table)
                    keys[i] = msgspec.Raw(key_text(d.key))
        return (list(map(_first, heads)), list(map(_second, heads)), list(map(_third, heads)),
                keys)

    def _fast(self, chunks: list[NotifyChunk]) -> bytes:
        items = chunks[0].items if len(chunks) == 1 else \
            list(chain.from_iterable(c.items for c in chunks))
        n = len(items)
        extras = list(map(EXTRA, items))
        texts = extras  # what msgspec reads: the UTF-8 of the payload as decoded
        try:
            strs = list(map(bytes.decode, extras))
        except UnicodeDecodeError:  # bytes that are not UTF-8, replaced as the reader does
            strs = [x.decode("utf-8", "replace") for x in extras]
            texts = [s.encode("utf-8") for s in strs]
        cols: dict[str, tuple] = {}
        if self._decodes:
            ops, schemas, tables, keys = self._decoded(texts, strs)
            cols.update(op=(_CACHED, ops, encode), schema=_few(schemas), table=_few(tables),
                        key=(_PLAIN, keys))
        fields = self.fields
        if "received_at" in fields:
            cols["received_at"] = self._times_of(chunks)
        if "profile" in fields:
            cols["profile"] = (_CONST, encode(chunks[0].profile))
        if "channel" in fields:
            rels = list(map(RELNAME, items))
            cols["channel"] = (_CONST, encode(self._channel(rels[0]))) \
                if rels.count(rels[0]) == n else (_CACHED, rels, self._channel_json)
        pids = list(map(PID, items)) if "pid" in fields or "own" in fields else None
        if "pid" in fields:
            cols["pid"] = (_CONST, encode(pids[0])) if pids.count(pids[0]) == n \
                else (_CACHED, pids, encode)
        if "payload" in fields:
            cols["payload"] = (_PLAIN, strs)
        if "size" in fields:
            cols["size"] = (_CACHED, map(len, extras), encode)
        if "kind" in fields:
            cols["kind"] = (_CONST, b'"notify"')
        if "own" in fields:
            owns = {c.own_pid for c in chunks} - {None}
            cols["own"] = (_CONST, b"false") if not owns or owns.isdisjoint(pids) \
                else (_CACHED, [p in owns for p in pids], encode)
        if "seq" in fields:
            cols["seq"] = (_PLAIN, self._seqs(chunks))
        try:
            return self._encode(cols, n)
        except UnicodeEncodeError:  # a lone surrogate in an op or a table: line by line
            return self._slow(chunks)

    # ---- lines from columns ----------------------------------------------------------

    def _encode(self, cols: dict[str, tuple], n: int) -> bytes:
        """The lines of `cols` (name -> (_CONST, its JSON) | (_CACHED, values, JSON of a
        value) | (_PLAIN, values)). A line struct holds one field per value that varies
        from line to line; the fields that do not (and the few values, like a size,
        that come from a small set) are written as msgspec.Raw text, each with the
        constant fields that follow it in the line: `"received_at":"…","profile":"",
        "channel":"orders","pid":42` is one value of one field. Fewer fields, fewer
        values to make and encode per line."""
        anchors: list[list] = []  # [name, spec, JSON of the constants that follow]
        for name in self.fields:
            spec = cols[name]
            if spec[0] is _CONST and anchors and anchors[-1][1][0] is not _PLAIN:
                anchors[-1][2].append(self._names[name] + spec[1])
            else:
                anchors.append([name, spec, []])
        columns = []
        for name, spec, after in anchors:
            tail = b"".join(after)
            if spec[0] is _CONST:
                columns.append(repeat(msgspec.Raw(spec[1] + tail), n))
            elif spec[0] is _CACHED:
                columns.append(map(self._raws(name, tail, spec[2]).__getitem__, spec[1]))
            else:
                columns.append(spec[1])
        struct = line_struct(tuple(a[0] for a in anchors))
        return encode_lines(list(map(struct, *columns)))

    def _raws(self, name: str, tail: bytes, json_of) -> _Raws:
        raws = self._raw_cache.get((name, tail))
        if raws is None:
            if len(self._raw_cache) >= 256:
                self._raw_cache.clear()
            raws = self._raw_cache[(name, tail)] = _Raws(json_of, tail)
        elif len(raws) >= 10_000:
            raws.clear()
        return raws

    def _times_of(self, chunks: list) -> tuple:
        if len(chunks) == 1:
            return (_CONST, self._time_json(chunks[0].received_at))
        return (_CACHED, chain.from_iterable(repeat(c.received_at, len(c.items))
                                             for c in chunks), self._time_json)

    def _time_json(self, t: float) -> bytes:
        text = self._times.get(t)
        if text is None:
            if len(self._times) >= 256:
                self._times.clear()
            text = self._times[t] = encode(iso_time(t))
        return text

    def _channel_json(self, rel: bytes) -> bytes:
        return encode(self._channel(rel))

    @staticmethod
    def _seqs(chunks: list):
        if len(chunks) == 1:
            c = chunks[0]
            return range(c.first_seq, c.first_seq + len(c.items))
        return chain.from_iterable(range(c.first_seq, c.first_seq + len(c.items))
                                   for c in chunks)

    def _changes(self, chunks: list[ChangeChunk]) -> bytes:
        """Row changes: everything a line needs is in the Change already."""
        items = chunks[0].items if len(chunks) == 1 else \
            list(chain.from_iterable(c.items for c in chunks))
        n = len(items)
        payloads = list(map(_extra_change, items))
        fields = self.fields
        cols: dict[str, tuple] = {}
        if "payload" in fields:
            cols["payload"] = (_PLAIN, list(map(bytes.decode, payloads)))
        if "received_at" in fields:
            cols["received_at"] = self._times_of(chunks)
        if "profile" in fields:
            cols["profile"] = (_CONST, encode(chunks[0].profile))
        if "channel" in fields:
            names = {c.channel for c in chunks}
            cols["channel"] = (_CONST, encode(chunks[0].channel)) if len(names) == 1 else \
                (_CACHED, chain.from_iterable(repeat(c.channel, len(c.items)) for c in chunks),
                 encode)
        if "pid" in fields:
            cols["pid"] = (_CONST, b"0")
        if "size" in fields:
            cols["size"] = (_CACHED, map(len, payloads), encode)
        if "kind" in fields:
            cols["kind"] = (_CONST, b'"change"')
        if "own" in fields:
            cols["own"] = (_CONST, b"false")
        if "seq" in fields:
            cols["seq"] = (_PLAIN, self._seqs(chunks))
        if "key" in fields:
            cols["key"] = (_PLAIN, list(map(msgspec.Raw, map(_change_key, items))))
        if "op" in fields:
            cols["op"] = (_CACHED, map(_change_op, items), encode)
        for name in ("schema", "table"):
            if name in fields:
                cols[name] = _few(list(map(itemgetter(1 + _HEAD_AT[name]), items)))
        return self._encode(cols, n)


class _Raws(dict):
    """value -> msgspec.Raw(its JSON + `tail`), each made once."""

    __slots__ = ("_json_of", "_tail")

    def __init__(self, json_of, tail: bytes) -> None:
        super().__init__()
        self._json_of = json_of
        self._tail = tail

    def __missing__(self, value) -> msgspec.Raw:
        raw = self[value] = msgspec.Raw(self._json_of(value) + self._tail)
        return raw


# How a column's values are written: one value for every line, one of a few values
# (made once each), or a value per line.
_CONST, _CACHED, _PLAIN = "const", "cached", "plain"


class _Envelope(msgspec.Struct, gc=False):
    """This tool's envelope as its triggers write it: whatever decodes to this is what
    LineFields and envelope_head make of it (op already one of the four words, schema
    and table text), in one pass and nothing to check after; anything else (another op
    spelling, a v of 1.0, a table that is not text...) is refused and goes the general
    way (tests/core/test_chunks.py holds both to the same lines)."""

    v: Literal[1]
    op: Literal["INSERT", "UPDATE", "DELETE", "TRUNCATE"]
    table: str
    schema: str | None = None
    key: msgspec.Raw = NULL_RAW


_decode_envelope = msgspec.json.Decoder(_Envelope, float_hook=Decimal).decode
_op, _schema, _table = attrgetter("op"), attrgetter("schema"), attrgetter("table")
_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)


def _few(values: list) -> tuple:
    """A column of values that are mostly the same (a table's name): one for every line
    when they all are, else one of a few."""
    if values.count(values[0]) == len(values):
        return (_CONST, encode(values[0]))
    return (_CACHED, values, encode)


def _objects_only(keys: list) -> list:
    """The keys, each that is not a JSON object written as null."""
    # Every key an object? (JSON text holds no NUL, so "\0{" counts the objects after
    # the first without a bytes object per key.)
    joined = b"\0".join(keys)
    if joined[:1] != b"{" or joined.count(b"\0{") != len(keys) - 1:
        keys = [k if bytes(k)[:1] == b"{" else _NULL for k in keys]
    return keys


_HEAD_AT = {"op": 0, "schema": 1, "table": 2}
_extra_change, _change_op, _change_key = itemgetter(0), itemgetter(1), itemgetter(4)


def _line_fields_or_none(text: bytes) -> Any:
    try:
        return decode_line_fields(text)
    except Exception:
        return None

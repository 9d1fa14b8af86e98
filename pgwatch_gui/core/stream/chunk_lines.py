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
from itertools import chain, repeat
from operator import attrgetter, itemgetter
from typing import Any

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
from pgwatch_gui.core.stream.payloads import decode_line_fields, envelope_head, peek_payload

_head_key = attrgetter("v", "op", "schema", "table")
_key = attrgetter("key")
_NULL = msgspec.Raw(b"null")


class ChunkLines:
    """JSON Lines (`fields`, in that order) for NotifyChunks and ChangeChunks, as bytes."""

    def __init__(self, fields: tuple[str, ...] = FIELDS) -> None:
        self.fields = fields
        self._struct = line_struct(fields)
        self._decodes = bool(DECODED_FIELDS.intersection(fields))
        self._events = JsonlFormatter(fields)  # the Event's way, for what is not fast
        self._channels: dict[bytes, str] = {}
        self._times: dict[float, msgspec.Raw] = {}
        self._heads: dict[tuple, tuple] = {}

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

    def _time(self, t: float) -> msgspec.Raw:
        text = self._times.get(t)
        if text is None:
            if len(self._times) >= 256:
                self._times.clear()
            text = self._times[t] = msgspec.Raw(encode(iso_time(t)))
        return text

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

    def _decoded(self, texts: list[bytes], strs: list[str]) -> tuple[list, list]:
        """(op, schema, table) and the key's JSON (msgspec.Raw) per payload (`texts`:
        its UTF-8 bytes)."""
        try:
            envs = list(map(decode_line_fields, texts))
        except Exception:  # one is not a JSON object: each on its own
            envs = list(map(_line_fields_or_none, texts))
        heads = self._heads_of(envs)
        if None in envs:
            keys = [_NULL if e is None else e.key for e in envs]
        else:
            keys = list(map(_key, envs))
        # Every key an object? (JSON text holds no NUL, so "\0{" counts the objects
        # after the first without a bytes object per key.)
        joined = b"\0".join(keys)
        if joined[:1] != b"{" or joined.count(b"\0{") != len(keys) - 1:
            keys = [k if bytes(k)[:1] == b"{" else _NULL for k in keys]
        if None in heads:  # anything but this tool's envelope: what the decoder says of it
            for i, h in enumerate(heads):
                if h is None:
                    d = peek_payload(strs[i])
                    heads[i] = (d.op, d.schema, d.table)
                    keys[i] = msgspec.Raw(key_text(d.key))
        return heads, keys

    def _fast(self, chunks: list[NotifyChunk]) -> bytes:
        items = list(chain.from_iterable(c.items for c in chunks))
        n = len(items)
        extras = list(map(EXTRA, items))
        texts = extras  # what msgspec reads: the UTF-8 of the payload as decoded
        try:
            strs = list(map(bytes.decode, extras))
        except UnicodeDecodeError:  # bytes that are not UTF-8, replaced as the reader does
            strs = [x.decode("utf-8", "replace") for x in extras]
            texts = [s.encode("utf-8") for s in strs]
        heads = keys = None
        if self._decodes:
            heads, keys = self._decoded(texts, strs)
        cols = []
        for name in self.fields:
            if name == "payload":
                cols.append(strs)
            elif name == "received_at":
                cols.append(chain.from_iterable(
                    repeat(self._time(c.received_at), len(c.items)) for c in chunks))
            elif name == "profile":
                cols.append(repeat(chunks[0].profile, n))
            elif name == "channel":
                rels = list(map(RELNAME, items))
                cols.append(repeat(self._channel(rels[0]), n) if len(set(rels)) == 1
                            else map(self._channel, rels))
            elif name == "pid":
                cols.append(map(PID, items))
            elif name == "size":
                cols.append(map(len, extras))
            elif name == "kind":
                cols.append(repeat("notify", n))
            elif name == "own":
                owns = {c.own_pid for c in chunks} - {None}
                cols.append(repeat(False, n) if not owns or owns.isdisjoint(map(PID, items))
                            else [p in owns for p in map(PID, items)])
            elif name == "seq":
                cols.append(chain.from_iterable(
                    range(c.first_seq, c.first_seq + len(c.items)) for c in chunks))
            elif name == "key":
                cols.append(keys)
            else:  # op, schema, table
                cols.append(map(itemgetter(_HEAD_AT[name]), heads))
        try:
            return encode_lines(list(map(self._struct, *cols)))
        except UnicodeEncodeError:  # a lone surrogate in an op or a table: line by line
            return self._slow(chunks)


    def _changes(self, chunks: list[ChangeChunk]) -> bytes:
        """Row changes: everything a line needs is in the Change already."""
        items = list(chain.from_iterable(c.items for c in chunks))
        n = len(items)
        payloads = list(map(_extra_change, items))
        cols = []
        for name in self.fields:
            if name == "payload":
                cols.append(map(bytes.decode, payloads))
            elif name == "received_at":
                cols.append(chain.from_iterable(
                    repeat(self._time(c.received_at), len(c.items)) for c in chunks))
            elif name == "profile":
                cols.append(repeat(chunks[0].profile, n))
            elif name == "channel":
                cols.append(chain.from_iterable(repeat(c.channel, len(c.items)) for c in chunks))
            elif name == "pid":
                cols.append(repeat(0, n))
            elif name == "size":
                cols.append(map(len, payloads))
            elif name == "kind":
                cols.append(repeat("change", n))
            elif name == "own":
                cols.append(repeat(False, n))
            elif name == "seq":
                cols.append(chain.from_iterable(
                    range(c.first_seq, c.first_seq + len(c.items)) for c in chunks))
            elif name == "key":
                cols.append(map(msgspec.Raw, map(_change_key, items)))
            else:  # op, schema, table
                cols.append(map(itemgetter(1 + _HEAD_AT[name]), items))
        return encode_lines(list(map(self._struct, *cols)))


_HEAD_AT = {"op": 0, "schema": 1, "table": 2}
_extra_change, _change_key = itemgetter(0), itemgetter(4)


def _line_fields_or_none(text: bytes) -> Any:
    try:
        return decode_line_fields(text)
    except Exception:
        return None

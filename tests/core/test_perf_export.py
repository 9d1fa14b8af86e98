"""Issue 12: the JSON Lines fast path writes exactly what event_to_json writes, and the
payload decoder's fast path decodes exactly what json.loads decodes."""

from __future__ import annotations

import io
import json

import pytest

from pgwatch_gui.core.stream import payloads as events_mod
from pgwatch_gui.core.stream.events import Event, make_gap, new_event
from pgwatch_gui.core.stream.export import (
    EventWriter,
    TextFormatter,
    event_to_text,
    write_jsonl,
)
from pgwatch_gui.core.stream.jsonl import JsonlFormatter, event_to_json
from pgwatch_gui.core.stream.payloads import decode_payload

PAYLOADS = [
    '{"v": 1, "op": "INSERT", "schema": "public", "table": "orders", "key": {"id": 42}, '
    '"row": {"id": 42, "status": "paid", "total": 12.5}}',
    '{"v":1,"op":"update","table":"t","key":{"a":1,"b":"x"}}',
    '{"v":1,"op":"DELETE","table":"t","key":{"id":"ab\\"c"}}',
    '{"v":1,"op":"UPDATE","table":"t","key":{"id":1.5}}',
    '{"v":1,"op":"UPDATE","table":"t","key":{"id":true}}',
    '{"v":1,"op":"UPDATE","table":"t","key":{"id":null}}',
    '{"v":1,"op":"UPDATE","table":"t","key":{"id":[1,2]}}',
    '{"v":1,"op":"UPDATE","table":"t","key":{"id":NaN}}',
    '{"v":1,"op":"UPDATE","table":"t","key":{"id":12345678901234567890}}',
    '{"v":1,"op":"UPDATE","table":"t","key":{"\\u00e9":"\\ud800"}}',
    '{"v":1,"op":"UPDATE","table":"t","key":{"id":"\\u2028 \\u0000 \\t"}}',
    '{"v":1,"op":7,"schema":3,"table":"t","key":"k"}',
    '{"operation": "INSERT", "record_id": 7}',
    '{"action": "update(via x)", "table_name": "shop.orders", "data": {"id": 9}}',
    '{"id": 3, "name": "bare row"}',
    '{"key": 5}',
    '[1, 2, 3]',
    '42',
    '"just a string"',
    'null',
    '',
    '   ',
    'plain text, not JSON',
    '{"broken": ',
    '{"a": 1} trailing',
    '1 2',
    '  {"op": "INSERT", "table": "padded"}\n',
    '{"op": "INSERT"}\u00a0',
    'é€😀 \x01\x1f\x7f "quotes" \\ backslash',
    '[' * 5000 + ']' * 5000,
    '{"op": "INSERT", "table": "t", "id": 1, "id": 2}',
    '{"v": 1, "op": "INSERT", "table": "t", "key": {"id": -0.0, "x": 1e400}}',
]


def sample() -> list[Event]:
    out: list[Event] = []
    seq = 1
    for i, p in enumerate(PAYLOADS):
        for profile, channel in (("", "orders"), ('pro"file', "kanał ü"), ("p", "a\nb")):
            t = 1_700_000_000.0 + i * 0.001 + (0.5 if profile else 0)
            out.append(new_event(seq, t, profile, channel, 100 + i, p, own=bool(i % 2)))
            seq += 1
    out.append(make_gap(seq, "p", 1_700_000_000.0, 1_700_000_003.5, "server closed"))
    out.append(Event(seq + 1, 1_700_000_004.25, "p", "c", 5, '{"op": "INSERT"}',
                     kind="notify", own=True))
    out.append(Event(seq + 2, 1_700_000_004.25, "p", "c", 5, '{"op": "INSERT"}', _size=99))
    out.append(Event(seq + 3, 1_700_000_004.25, "p", "c", "5", "odd pid"))  # type: ignore
    out.append(Event(seq + 4, 1_700_000_004.25, "p", "c", True, "bool pid"))  # type: ignore
    out.append(Event(seq + 5, 1_700_000_004.25, "p", "c", 5, "own=1", own=1))  # type: ignore
    out.append(Event(seq + 6, 1_700_000_004.25, None, ["c"], 5, "odd names"))  # type: ignore
    return out


def test_fast_lines_are_event_to_json_byte_for_byte():
    fast = JsonlFormatter().line
    expected = [event_to_json(ev) for ev in sample()]
    got = [fast(ev) for ev in sample()]  # fresh events: nothing decoded before
    assert got == expected
    again = sample()
    for ev in again:
        ev.decoded  # noqa: B018 - decoded first, as the GUI's rows are
    assert [fast(ev) for ev in again] == expected


def test_writers_write_what_event_to_json_writes():
    expected = "".join(event_to_json(ev) + "\n" for ev in sample())
    buf = io.StringIO()
    assert write_jsonl(sample(), buf) == len(sample())
    assert buf.getvalue() == expected
    buf = io.StringIO()
    w = EventWriter(buf, "jsonl")
    evs = sample()
    w.write(evs[:10])
    w.write(evs[10:])
    assert buf.getvalue() == expected


def _reference_decode(payload: str):
    """decode_payload with json.loads (numbers exact: parse_float=Decimal) for the parser."""
    saved = events_mod._loads
    events_mod._loads = events_mod.loads_exact
    try:
        return decode_payload(payload)
    finally:
        events_mod._loads = saved


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_decoding_matches_json_loads(payload):
    got, ref = decode_payload(payload), _reference_decode(payload)
    assert repr(got) == repr(ref)


def test_text_lines_are_event_to_text_byte_for_byte():
    fast = TextFormatter().line

    def outcome(fn, ev):
        try:
            return fn(ev)
        except TypeError:  # the odd Event whose channel is a list: both refuse it
            return TypeError

    assert [outcome(fast, ev) for ev in sample()] == [outcome(event_to_text, ev)
                                                      for ev in sample()]


def test_msgspec_quotes_text_as_json_does_for_every_character():
    """Lines are encoded by msgspec: its escapes must be json.dumps's, for every
    character of Unicode; a lone surrogate it refuses (the line then goes json's way)."""
    from pgwatch_gui.core.stream.jsonl import _quote, encode

    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    assert [encode(c) for c in chars] == [_quote(c).encode("utf-8") for c in chars]
    mixed = 'a"b\\c\n\x00\x1f\x7f\u2028é😀' * 3
    assert encode(mixed).decode() == _quote(mixed) == json.dumps(mixed, ensure_ascii=False)
    with pytest.raises(UnicodeEncodeError):
        encode("x\ud800")

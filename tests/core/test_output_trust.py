"""Every output path takes any string Python can hold (issue 10, defects 2, 4, 5, 9)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pgwatch_gui.core.stream.events import Event, make_gap
from pgwatch_gui.core.stream.export import EventWriter, csv_text, event_to_text
from pgwatch_gui.core.stream.jsonl import event_to_json
from pgwatch_gui.core.stream.recording import read_jsonl

# Any code point, lone surrogates and control characters included, plus the nasty ones
# often enough to matter.
ANY_CHAR = st.one_of(st.characters(codec=None, exclude_categories=()),
                     st.sampled_from(["\ud800", "\udfff", "\x1b", "\r", "\n", "\x9b",
                                      "\u2028", "\x00", "\x7f"]))
ANY_TEXT = st.text(ANY_CHAR, max_size=40)
NUMBERS = st.sampled_from(["1e999", "-1e999", "NaN", "Infinity", "-Infinity", "1", "2.5"])


def _reject_constant(name: str):
    raise AssertionError(f"not strict JSON: {name}")


def strict_loads(line: str):
    return json.loads(line, parse_constant=_reject_constant, parse_float=Decimal)


@st.composite
def payloads(draw):
    """Free text, or JSON whose strings and numbers are anything JSON text can say."""
    if draw(st.booleans()):
        return draw(ANY_TEXT)
    s = draw(ANY_TEXT)
    key_id, n = draw(NUMBERS), draw(NUMBERS)
    return f'{{"op": "UPDATE", "table": "t", "key": {{"id": {key_id}, "s": {json.dumps(s)}}}, ' \
        f'"n": {n}}}'


@settings(max_examples=300, deadline=None)
@given(channel=ANY_TEXT, payload=payloads(), profile=ANY_TEXT)
def test_jsonl_is_strict_utf8_json_and_round_trips(channel, payload, profile):
    ev = Event(1, 1.5, profile, channel, 7, payload)
    line = event_to_json(ev)
    line.encode("utf-8")  # never a UnicodeEncodeError
    assert "\n" not in line and "\r" not in line
    rec = strict_loads(line)
    assert rec["payload"] == payload and rec["channel"] == channel
    assert rec["size"] == ev.size
    (back,), reader = read_jsonl(io.StringIO(line + "\n"))
    assert back.payload == payload and back.channel == channel and not reader.skipped


@settings(max_examples=300, deadline=None)
@given(channel=ANY_TEXT, payload=payloads())
def test_text_lines_show_control_characters_and_never_split(channel, payload):
    ev = Event(1, 1.5, "p", channel, 7, payload)
    line = event_to_text(ev)
    line.encode("utf-8")
    assert not any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f or c in "\u2028\u2029"
                   for c in line), repr(line)


@settings(max_examples=200, deadline=None)
@given(channel=ANY_TEXT, payload=payloads())
def test_csv_and_chunked_exports_encode_as_utf8(channel, payload):
    ev = Event(1, 1.5, "p", channel, 7, payload)
    text = csv_text([ev, make_gap(2, "p", 0.0, 1.0, "x")])
    text.encode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 3
    for fmt in ("jsonl", "csv"):
        out = io.StringIO()
        EventWriter(out, fmt).write([ev])
        out.getvalue().encode("utf-8")


def test_the_reported_payloads():
    bad = Event(1, 0.0, "p", "bad", 1, '{"key":"\\ud800x"}')
    assert strict_loads(event_to_json(bad))["key"] == {"key": "\ud800x"}
    event_to_json(bad).encode("utf-8")
    # Not JSON (NaN), so decoded by json.loads; 1e999 is a number, kept exactly (issue 23:
    # it was a float infinity, written as "Infinity").
    inf = Event(2, 0.0, "p", "c", 1, '{"key":{"id":1e999},"n":NaN}')
    line = event_to_json(inf)
    assert strict_loads(line)["key"] == {"id": Decimal("1E+999")}
    csv_text([inf]).encode("utf-8")
    assert "1E+999" in csv_text([inf]) and "NaN" not in csv_text([inf]).split(",", 8)[7]
    nan = Event(3, 0.0, "p", "c", 1, '{"key":{"id":NaN, "x": -Infinity}}')
    assert strict_loads(event_to_json(nan))["key"] == {"id": "NaN", "x": "-Infinity"}
    term = Event(3, 0.0, "p", "two\nlines", 1, "\x1b[2J\x1b]0;pwned\x07\rover")
    text = event_to_text(term)
    assert "\\x1b[2J" in text and "\\x07" in text and "\\r" in text and "two\\nlines" in text
    assert "\x1b" not in text and "\n" not in text


def test_export_does_not_keep_decoded_payloads():
    evs = [Event(i, 0.0, "p", "c", 1, f'{{"op": "INSERT", "table": "t", "id": {i}}}')
           for i in range(5)]
    EventWriter(io.StringIO(), "jsonl").write(evs)
    EventWriter(io.StringIO(), "csv").write(evs)
    assert all(ev._decoded is None for ev in evs)
    assert json.loads(event_to_json(evs[3]))["key"] == {"id": 3}

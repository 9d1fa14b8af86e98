"""Export to JSON Lines / CSV in chunks, and read a recording back into Events."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from pgwatch_gui.core.stream.events import Event, make_gap
from pgwatch_gui.core.stream.export import (
    CSV_FIELDS,
    EventWriter,
    csv_text,
    format_for_path,
    write_jsonl,
)
from pgwatch_gui.core.stream.recording import JsonlReader, parse_time, read_jsonl, record_to_event

NOW = time.time()
EVENTS = [
    Event(1, NOW, "Demo", "orders", 4242, '{"v": 1, "op": "UPDATE", "schema": "public", '
          '"table": "orders", "key": {"id": 42}, "row": {"status": "shipped"}}'),
    Event(2, NOW + 0.001234, "Staging", "Order Events", 17, "plain text\nwith a newline",
          own=True),
    Event(3, NOW + 1, "Demo", "ünïcode", 1, ""),
    make_gap(4, "Demo", NOW + 1, NOW + 3.5, "server closed the connection"),
    Event(5, NOW + 4, "Demo", "big", 2, "x" * 7999),
]


def same(a: Event, b: Event) -> bool:
    return (a.seq, a.profile, a.channel, a.pid, a.payload, a.kind, a.own) == \
        (b.seq, b.profile, b.channel, b.pid, b.payload, b.kind, b.own) and \
        abs(a.received_at - b.received_at) < 1e-5


def test_jsonl_round_trip():
    buf = io.StringIO()
    w = EventWriter(buf, "jsonl")
    assert w.write(EVENTS[:2]) == 2
    assert w.write(EVENTS[2:]) == 3
    assert w.count == 5
    buf.seek(0)
    events, reader = read_jsonl(buf)
    assert reader.skipped == 0
    assert len(events) == 5
    assert all(same(a, b) for a, b in zip(EVENTS, events, strict=True))
    assert events[3].is_gap
    assert events[0].key == {"id": 42}


def test_listen_command_output_is_a_recording():
    # `pgwatch-gui listen` writes the same records: its output opens as a recording.
    buf = io.StringIO()
    write_jsonl(EVENTS, buf)
    buf.seek(0)
    assert len(read_jsonl(buf)[0]) == len(EVENTS)


def test_csv_export_in_chunks():
    buf = io.StringIO()
    w = EventWriter(buf, "csv")
    w.write(EVENTS[:1])
    w.write(EVENTS[1:])
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert tuple(rows[0]) == CSV_FIELDS
    assert len(rows) == 1 + len(EVENTS)
    first = dict(zip(CSV_FIELDS, rows[1], strict=True))
    assert first["op"] == "UPDATE" and json.loads(first["key"]) == {"id": 42}
    assert dict(zip(CSV_FIELDS, rows[2], strict=True))["payload"] == "plain text\nwith a newline"


def test_csv_booleans_are_true_and_false_not_python_words():
    """CSV exports wrote `False` / `True` (issue 11): a spreadsheet or a COPY ... CSV into
    a boolean column reads `true` / `false`."""
    buf = io.StringIO()
    EventWriter(buf, "csv").write(EVENTS[:2])
    for text in (buf.getvalue(), csv_text(EVENTS[:2])):
        rows = [dict(zip(CSV_FIELDS, r, strict=True))
                for r in list(csv.reader(io.StringIO(text)))[1:]]
        assert [r["own"] for r in rows] == ["false", "true"]
        assert "False" not in text and "True" not in text


def test_bad_lines_are_counted_not_fatal():
    good = json.dumps({"received_at": "2026-11-21T10:00:00.123456+01:00", "profile": "p",
                       "channel": "c", "pid": 5, "payload": "x", "kind": "notify"})
    text = "\n".join([good, "{broken", "[1, 2]", "", json.dumps({"channel": "c"}),
                      json.dumps({"received_at": "yesterday", "channel": "c"}), good]) + "\n"
    reader = JsonlReader(io.StringIO(text))
    events = reader.read(100)
    assert len(events) == 2 and reader.done
    assert reader.skipped == 4
    assert [ln for ln, _ in reader.errors] == [2, 3, 5, 6]
    assert events[0].received_at == parse_time("2026-11-21T09:00:00.123456+00:00")
    assert events[0].seq == 1 and events[1].seq == 7  # no seq in the file: the line number


def test_reader_reads_in_chunks():
    buf = io.StringIO()
    write_jsonl([Event(i, NOW, "p", "c", 1, str(i)) for i in range(25)], buf)
    buf.seek(0)
    reader = JsonlReader(buf)
    sizes = []
    while not reader.done:
        sizes.append(len(reader.read(10)))
    assert sizes == [10, 10, 5]


def test_record_fields_are_lenient():
    e = record_to_event({"received_at": 1700000000, "channel": "c", "payload": {"a": 1},
                         "pid": "12", "kind": "weird", "seq": True}, 3)
    assert e.payload == '{"a": 1}' and e.pid == 12 and e.kind == "notify" and e.seq == 3
    assert parse_time("2026-11-21T10:00:00Z") == parse_time("2026-11-21T10:00:00+00:00")


def test_format_for_path():
    assert format_for_path("x.CSV") == "csv"
    assert format_for_path("x.jsonl") == "jsonl"
    assert format_for_path("x") == "jsonl"
    with pytest.raises(ValueError):
        EventWriter(io.StringIO(), "xml")

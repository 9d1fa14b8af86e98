"""What the inspector shows: exact pretty JSON, paths, old/new diffs for each shape."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pgwatch_gui.core.stream.payload_view import (
    ADDED,
    CHANGED,
    REMOVED,
    SAME,
    bytes_left,
    filterable,
    parse_exact,
    path_text,
    pretty,
    row_diff,
    walk,
)


def test_numbers_stay_as_sent():
    v = parse_exact('{"total": 1.50, "big": 12345678901234567890.123456789, "n": 7}')
    assert v["total"] == Decimal("1.50")
    text = pretty(v)
    assert '"total": 1.50' in text
    assert "12345678901234567890.123456789" in text
    assert '"n": 7' in text


def test_pretty_layout_and_unicode():
    text = pretty({"a": [1, 2], "b": {"c": "ü \"q\""}, "e": {}, "f": []})
    assert text.splitlines() == [
        "{",
        '  "a": [1, 2],',
        '  "b": {',
        '    "c": "ü \\"q\\""',
        "  },",
        '  "e": {},',
        '  "f": []',
        "}",
    ]


def test_parse_exact_refuses_nan():
    with pytest.raises(ValueError):
        parse_exact('{"x": NaN}')


def test_paths():
    v = {"row": {"status": "x", "a.b": 1}, "items": [{"sku": "k"}]}
    paths = {path_text(p): val for p, val in walk(v)}
    assert paths["row.status"] == "x"
    assert paths["items.0.sku"] == "k"
    assert 'row["a.b"]' in paths
    assert filterable(("row", "status")) and filterable(("items", 0, "sku"))
    assert not filterable(("row", "a.b")) and not filterable(())


def test_envelope_update_full_rows():
    v = {"v": 1, "op": "UPDATE", "table": "orders", "key": {"id": 1},
         "row": {"id": 1, "status": "shipped", "total": 5},
         "old": {"id": 1, "status": "paid", "total": 5}}
    d = row_diff(v, "UPDATE")
    assert d.source == "envelope" and d.op == "UPDATE"
    assert [(ln.column, ln.state) for ln in d.lines] == [
        ("id", SAME), ("status", CHANGED), ("total", SAME)]
    assert d.changed == ["status"]


def test_envelope_diff_mode_uses_changed_list():
    v = {"v": 1, "op": "UPDATE", "table": "orders", "key": {"id": 1},
         "row": {"status": "shipped"}, "old": {"status": "paid"}, "changed": ["status"]}
    d = row_diff(v)
    assert d.only_changed
    assert [(ln.column, ln.old, ln.new, ln.state) for ln in d.lines] == [
        ("status", "paid", "shipped", CHANGED)]


def test_envelope_insert_and_delete():
    ins = row_diff({"v": 1, "op": "INSERT", "table": "t", "row": {"id": 1}, "old": None})
    assert [(ln.state, ln.has_old, ln.has_new) for ln in ins.lines] == [(ADDED, False, True)]
    dele = row_diff({"v": 1, "op": "DELETE", "table": "t", "row": None, "old": {"id": 1}})
    assert [(ln.state, ln.has_old, ln.has_new) for ln in dele.lines] == [(REMOVED, True, False)]
    assert row_diff({"v": 1, "op": "DELETE", "table": "t", "key": {"id": 1}}) is None


def test_data_old_new_shape():
    v = {"table": "users", "operation": "UPDATE",
         "data": {"old": {"id": 3, "email": "a@x", "gone": 1},
                  "new": {"id": 3, "email": "b@x", "added": True}}}
    d = row_diff(v, "UPDATE")
    assert d.source == "data.old/new"
    states = {ln.column: ln.state for ln in d.lines}
    assert states == {"id": SAME, "email": CHANGED, "added": ADDED, "gone": REMOVED}


@pytest.mark.parametrize(("payload", "source"), [
    ({"old": {"a": 1}, "new": {"a": 2}}, "old/new"),
    ({"old_record": {"a": 1}, "record": {"a": 2}, "type": "UPDATE"}, "old_record/record"),
    ({"before": {"a": 1}, "after": {"a": 2}}, "before/after"),
    ({"payload": {"before": None, "after": {"a": 2}}}, "payload.before/after"),
])
def test_other_old_new_pairs(payload, source):
    assert row_diff(payload).source == source


@pytest.mark.parametrize("payload", [
    {"operation": "UPDATE", "record_id": 5},  # the seeds' first shape
    {"id": 1, "row": {"a": 1}},  # a lone "row" is a row, not a diff
    {"table": "t", "operation": "INSERT", "data": {"id": 1}},  # data is the row
    [1, 2],
    "text",
    None,
])
def test_no_diff(payload):
    assert row_diff(payload) is None


def test_numbers_compare_by_value_not_type():
    d = row_diff(parse_exact('{"old": {"a": 1, "b": 1.0}, "new": {"a": 1.0, "b": 1.00}}'))
    assert all(ln.state == SAME for ln in d.lines)
    d = row_diff({"old": {"a": 1, "b": True}, "new": {"a": "1", "b": 1}})
    assert all(ln.state == CHANGED for ln in d.lines)


def test_bytes_left():
    assert bytes_left(0) == 7999
    assert bytes_left(7999) == 0
    assert bytes_left(9000) == 0

"""Quoted field names in the window: the filter bar takes `key."Item ID" = 7`, and the
conditions the window writes for a row's key or a tree value read back (issue 21)."""

from __future__ import annotations

import json

import pytest

from pgwatch_gui.core.stream.events import Event
from pgwatch_gui.ui.events.table_menus import key_condition
from pgwatch_gui.ui.inspector.tree import filter_condition
from tests.ui.windows import shown_window


@pytest.fixture
def window(qtbot, tmp_path, qloop):
    w = shown_window(qtbot, tmp_path, (1280, 720))
    qtbot.waitExposed(w)
    yield w
    qloop.run_until_complete(w.shutdown())


def items(n: int) -> list[Event]:
    return [Event(i, float(i), "Demo", "items", 1, json.dumps(
        {"v": 1, "op": "UPDATE", "schema": "Sales Dept", "table": "Order Items",
         "key": {"Item ID": i}, "row": {"Item ID": i, "Unit Price": i * 10}}))
        for i in range(1, n + 1)]


def test_the_filter_bar_takes_quoted_names(window, tmp_path):
    scr = window.event_screen
    window.event_model.append_events(items(20))
    scr.filter_bar.set_fields('key."Item ID" = 7 or row."Unit Price" > 180')
    scr.filter_bar.apply_now()
    assert [e.seq for e in window.event_model.events()] == [7, 19, 20]
    assert not scr.filter_bar.fields.property("invalid")
    assert not scr.filter_bar.error.isVisible()
    window.grab().save(str(tmp_path / "quoted-field-filter.png"))
    # Before quoted names this was refused, the field filter off, every row shown.
    scr.filter_bar.set_fields('key."Item ID = 7')
    scr.filter_bar.apply_now()
    assert scr.filter_bar.fields.property("invalid")
    assert "unclosed quote" in scr.filter_bar.error.text()


def test_conditions_the_window_writes_read_back(window):
    scr = window.event_screen
    window.event_model.append_events(items(5))
    cond = key_condition({"Item ID": 3})
    assert cond == 'key."Item ID" = 3'
    assert filter_condition(("row", "Unit Price"), 30) == 'row."Unit Price" = 30'
    assert filter_condition(("row", "a.b"), "x y") == 'row."a.b" = "x y"'
    assert filter_condition(("row",), {"a": 1}) is None
    assert filter_condition(("row", ""), 1) is None
    assert key_condition({"": 1}) is None
    scr.filter_bar.set_fields(cond)
    scr.filter_bar.apply_now()
    assert [e.seq for e in window.event_model.events()] == [3]
    scr.filter_bar.set_fields(filter_condition(("row", "Unit Price"), 30))
    scr.filter_bar.apply_now()
    assert [e.seq for e in window.event_model.events()] == [3]

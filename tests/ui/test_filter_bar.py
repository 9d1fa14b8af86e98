"""The filter bar as a new user met it (issue 11): empty results, the pickers, the room
the text fields keep."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QApplication, QLineEdit

from pgwatch_gui.core.filtering.facets import TABLE_NONE
from pgwatch_gui.core.stream.events import Event
from pgwatch_gui.ui.events.filter_bar import FilterBar
from tests.ui.windows import shown_window

from .test_event_screen import sample_events


@pytest.fixture
def window(qtbot, tmp_path, qloop):
    """The window with its loop, as the app has it: whatever it starts runs, and ends
    with it (without a loop, a started task was left pending and failed a later test)."""
    w = shown_window(qtbot, tmp_path, (1280, 720))
    qtbot.waitExposed(w)
    yield w
    qloop.run_until_complete(w.shutdown())


def menu_values(picker) -> list[str]:
    picker._fill()
    return [a.text() for a in picker.menu().actions() if a.isCheckable()][1:]  # not "Any"


def test_an_empty_result_says_no_rows_match_and_how_many_are_hidden(window):
    scr = window.event_screen
    note = scr.empty_note
    assert "No notifications yet" in note.message  # an empty table says why, too
    window.event_model.append_events(sample_events(300))
    assert note.message == ""
    scr.filter_bar.set_text("nothing matches this")
    scr.filter_bar.apply_now()
    shown = window.event_model.events()
    assert all(e.is_gap for e in shown)  # gap markers always show
    assert note.isVisible() and "No rows match the filter" in note.message
    assert f"{300 - len(shown)} rows" in note.message
    note.reset_button.click()
    assert window.event_model.rowCount() == 300 and not note.isVisible()
    assert scr.filter_bar.text.text() == ""


def test_table_picker_has_an_entry_for_rows_without_a_table(window):
    scr = window.event_screen
    window.event_model.append_events([
        Event(1, 1.0, "Demo", "orders", 1, json.dumps({"op": "INSERT", "table": "orders",
                                                        "key": {"id": 1}})),
        Event(2, 2.0, "Demo", "product_changes", 1,
              json.dumps({"operation": "UPDATE", "record_id": 5})),
        Event(3, 3.0, "Demo", "cache", 1, "flush"),
    ])
    assert TABLE_NONE in menu_values(scr.filter_bar.table_picker)
    scr.filter_bar.table_picker.set_selected({TABLE_NONE})
    assert [e.seq for e in window.event_model.events()] == [2, 3]


def test_op_picker_lists_only_operations_seen(window):
    scr = window.event_screen
    window.event_model.append_events([
        Event(1, 1.0, "Demo", "orders", 1, json.dumps({"op": "INSERT", "table": "orders"})),
        Event(2, 2.0, "Demo", "orders", 1, json.dumps({"op": "UPDATE", "table": "orders"})),
    ])
    assert sorted(menu_values(scr.filter_bar.op_picker)) == ["INSERT", "UPDATE"]


@pytest.mark.parametrize("width", [1280, 1000, 800])
def test_picked_values_never_squeeze_the_placeholders(qtbot, width):
    bar = FilterBar()
    qtbot.addWidget(bar)
    bar.resize(width, 60)
    bar.show()
    bar.channel_picker.set_selected({"user_notifications_2"})
    bar.table_picker.set_selected({"shop.user_notifications"})
    bar.op_picker.set_selected({"INSERT", "UPDATE"})
    QApplication.processEvents()
    bar.resize(width, bar.sizeHint().height())
    QApplication.processEvents()
    for edit in bar.findChildren(QLineEdit):
        need = edit.fontMetrics().horizontalAdvance(edit.placeholderText())
        assert edit.width() >= need + 20, (edit.objectName(), edit.width(), need)
    for button in (bar.hide_own, bar.reset_button, bar.channel_picker, bar.table_picker):
        assert button.width() >= button.sizeHint().width(), button.text()
    assert "user_notifications_2" in bar.channel_picker.toolTip()

"""Follow newest, holding a picked row, and what never picks a row (issue 11)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.ui.windows import shown_window

from .test_event_screen import sample_events

EVENTS = sample_events(2000)


@pytest.fixture
def window(qtbot, tmp_path, qloop):
    """The window with its loop, as the app has it: whatever it starts runs, and ends
    with it (without a loop, a started task was left pending and failed a later test)."""
    w = shown_window(qtbot, tmp_path, (1280, 720))
    qtbot.waitExposed(w)
    w.event_model.append_events(EVENTS[:300])
    QApplication.processEvents()
    yield w
    qloop.run_until_complete(w.shutdown())


def stream(qtbot, window, first: int, n: int, per_batch: int = 5) -> None:
    """n more events in small batches, as a live stream brings them (2 s of the demo)."""
    for i in range(first, first + n, per_batch):
        window.event_model.append_events(EVENTS[i:i + per_batch])
        qtbot.wait(20)
    qtbot.wait(120)


def test_a_clicked_row_holds_the_view_and_ctrl_end_follows_again(window, qtbot):
    scr = window.event_screen
    table = scr.table
    assert table.follow
    row = table.rowAt(table.viewport().height() // 2)
    chosen = window.event_model.event(row)
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     table.visualRect(window.event_model.index(row, 0)).center())
    assert scr.inspector.event is chosen
    assert not table.follow and not scr.action_follow.isChecked()  # the toolbar says so
    stream(qtbot, window, 300, 200)
    now = table.visualRect(window.event_model.index(table.currentIndex().row(), 0))
    assert table.current_event() is chosen
    assert table.viewport().rect().contains(now.center())  # still in view
    note = scr.hold_note
    assert note.isVisible() and "Holding the view on the selected row" in note.text()
    qtbot.waitUntil(lambda: "200 new since" in note.text(), timeout=2000)
    assert "Ctrl+End" in note.text()
    QTest.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert table.follow and scr.action_follow.isChecked() and not note.isVisible()
    sb = table.verticalScrollBar()
    QApplication.processEvents()
    assert sb.value() == sb.maximum()
    QTest.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert table.follow  # Ctrl+End follows; it never toggles following off


def test_ctrl_end_follows_while_the_filter_box_has_focus(window, qtbot):
    scr = window.event_screen
    table = scr.table
    sb = table.verticalScrollBar()
    sb.triggerAction(sb.SliderAction.SliderToMinimum)
    assert not table.follow
    window.activateWindow()
    scr.filter_bar.focus_text()
    QTest.keyClicks(scr.filter_bar.text, "shop")
    QTest.keyClick(scr.filter_bar.text, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert table.follow and scr.action_follow.isChecked()
    QApplication.processEvents()
    assert sb.value() == sb.maximum()


def test_scrollbar_clicks_and_focus_never_pick_a_row(window, qtbot):
    scr = window.event_screen
    table = scr.table
    window.resize(700, 600)  # narrow: a horizontal scrollbar
    QApplication.processEvents()
    hsb = table.horizontalScrollBar()
    assert hsb.isVisible() and hsb.maximum() > 0
    for x in range(10, hsb.width(), 60):
        pos = hsb.mapTo(window, QPoint(x, hsb.height() // 2))
        QTest.mouseClick(window.windowHandle(), Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier, pos)
        window.event_model.append_events(EVENTS[300 + x:301 + x])
        QApplication.processEvents()
        assert not table.currentIndex().isValid() and not table.selected_rows()
    # Qt made the first row current when the table gained focus with the window, e.g.
    # after a click on its scrollbar brought the window back
    table.clearFocus()
    QApplication.sendEvent(table, QFocusEvent(QFocusEvent.Type.FocusIn,
                                              Qt.FocusReason.ActiveWindowFocusReason))
    assert not table.currentIndex().isValid() and scr.inspector.event is None
    assert table.follow

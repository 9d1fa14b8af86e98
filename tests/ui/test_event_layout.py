"""The main screen's layout at common window sizes (issue 11: what a new user hit)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from pgwatch_gui.ui.events.columns import COL_PAYLOAD, HEADERS
from pgwatch_gui.ui.shell.main_window import MainWindow

from .test_event_screen import sample_events


@pytest.fixture
def make_window(qtbot, qloop, tmp_path):
    # qloop: the window starts tasks (the profiles dock reads the keyring); without the
    # app's loop they stayed pending and were destroyed in a later test, which the
    # loop-error guard blamed ("Task was destroyed but it is pending!").
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))

    def make(width: int, height: int) -> MainWindow:
        w = MainWindow()
        qtbot.addWidget(w)
        w.resize(width, height)
        w.show()
        qtbot.waitExposed(w)
        w.event_model.append_events(sample_events(300))
        QApplication.processEvents()
        return w
    return make


@pytest.mark.parametrize(("width", "height", "payload_min"),
                         [(1280, 720, 400), (1920, 1080, 900)])
def test_every_column_and_a_wide_payload_are_on_screen(make_window, width, height,
                                                       payload_min):
    """At 1280x720 Payload, Bytes and PID were off-screen; at 1600 the payload was 200 px."""
    w = make_window(width, height)
    table = w.event_screen.table
    view_width = table.viewport().width()
    for col in range(len(HEADERS)):
        left = table.columnViewportPosition(col)
        assert left >= 0 and left + table.columnWidth(col) <= view_width, \
            (HEADERS[col], left, table.columnWidth(col), view_width)
    assert table.columnWidth(COL_PAYLOAD) >= payload_min
    assert table.horizontalScrollBar().maximum() == 0
    # the inspector is below the table, and shows its facts beside the tabs
    assert w.dockWidgetArea(w.event_screen.inspector_dock) == \
        Qt.DockWidgetArea.BottomDockWidgetArea
    assert w.event_screen.inspector.wide


def test_an_old_side_layout_is_not_restored(make_window, tmp_path):
    w = make_window(1280, 720)
    w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, w.event_screen.inspector_dock)
    old = w.saveState()  # version 0, as saved before the layout changed
    w.close()
    QSettings().setValue("main/state", old)
    w2 = make_window(1280, 720)
    w2.restore_state()
    assert w2.dockWidgetArea(w2.event_screen.inspector_dock) == \
        Qt.DockWidgetArea.BottomDockWidgetArea


def test_pause_and_resume_keep_the_toolbar_still(make_window):
    """Pause -> Resume widened the button and shifted the others under the mouse."""
    w = make_window(1280, 720)
    scr = w.event_screen
    tb = w.toolbar
    actions = [scr.action_pause, scr.action_follow, scr.action_clear, scr.action_send,
               scr.action_export]

    def geometry():
        QApplication.processEvents()
        return [(tb.widgetForAction(a).x(), tb.widgetForAction(a).width()) for a in actions]

    before = geometry()
    scr.action_pause.trigger()
    assert scr.action_pause.text() == "Resume"
    assert geometry() == before
    scr.action_pause.trigger()
    assert geometry() == before

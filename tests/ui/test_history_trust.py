"""History in the window, round 2: Clear history asks first and really removes the bytes;
Statistics is never a stale 0; the Older events window closes by keyboard and button."""

from __future__ import annotations

import asyncio
import time
import uuid

from PySide6.QtCore import Qt

from pgwatch_gui.core.journal.reader import JournalReader
from pgwatch_gui.core.stream.events import new_event
from tests.ui import test_history_ui as history_ui
from tests.ui.waiting import run_until

# The History tests' fixtures (a window with its data folder in tmp_path) and helpers.
data_dir = history_ui.data_dir
make_window = history_ui.make_window
orders, shot = history_ui.orders, history_ui.shot


def on_disk(data_dir) -> bytes:
    return b"".join((data_dir / f"journal.sqlite3{s}").read_bytes()
                    for s in ("", "-wal", "-shm") if (data_dir / f"journal.sqlite3{s}").exists())


def marked(n, marker, profile):
    now = time.time()
    return [new_event(i, now, profile, "orders", 1, f"{marker}-{i}-" + "x" * 30)
            for i in range(n)]


def test_clear_history_asks_first_then_removes_the_bytes(make_window, qloop, qtbot, data_dir):
    w = make_window()
    secret, kept = f"SECRET-{uuid.uuid4().hex}", f"KEPT-{uuid.uuid4().hex}"
    w.hub.events_arrived.emit(marked(300, secret, "crm"))
    w.hub.events_arrived.emit(marked(300, kept, "shop"))
    assert w.history.link.flush(10)
    assert secret.encode() in on_disk(data_dir)
    w.history.action_clear.trigger()
    dlg = w.history.dialogs[-1]
    assert dlg.isVisible() and dlg.windowTitle() == "Clear history"
    run_until(qloop, lambda: dlg.who.findData("crm") >= 0, timeout=10)
    shot(dlg, "clear-history.png")
    assert secret.encode() in on_disk(data_dir)  # asked, not yet done
    dlg.who.setCurrentIndex(dlg.who.findData("crm"))
    # Received just before the click, still queued: must not come back afterwards.
    w.hub.events_arrived.emit(marked(5, secret + "-late", "crm"))
    qtbot.mouseClick(dlg.clear_button, Qt.MouseButton.LeftButton)
    run_until(qloop, lambda: dlg.task is not None and dlg.task.done(), timeout=30)
    assert not dlg.isVisible()
    assert secret.encode() not in on_disk(data_dir)
    assert kept.encode() in on_disk(data_dir)
    assert "Removed 305 events (connection 'crm')" in w.statusBar().currentMessage()
    with JournalReader(data_dir / "journal.sqlite3") as r:
        assert {e.profile for e in r.events()} == {"shop"}
    assert w.event_model.rowCount() == 605  # the table's rows are not the journal's


def test_clear_history_cancel_keeps_everything(make_window, qloop, qtbot, data_dir):
    w = make_window()
    w.hub.events_arrived.emit(marked(10, "keep", "shop"))
    assert w.history.link.flush(10)
    w.history.dock.show()
    w.history.dock_widget.tabs.setCurrentIndex(1)
    qtbot.mouseClick(w.history.dock_widget.clear_button, Qt.MouseButton.LeftButton)
    dlg = w.history.dialogs[-1]
    assert dlg.isVisible()
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert not dlg.isVisible()
    with JournalReader(data_dir / "journal.sqlite3") as r:
        assert len(list(r.events())) == 10


def test_clear_everything_with_the_journal_off(make_window, qloop, data_dir):
    """No writer running (off for this run): the dialog clears the file itself."""
    w = make_window()
    w.hub.events_arrived.emit(marked(10, "old", "shop"))
    assert w.history.link.flush(10)
    w.history.link.apply_settings(False, 100, 7)
    assert w.history.link.writer is None
    w.history.open_clear()
    dlg = w.history.dialogs[-1]
    qloop.run_until_complete(asyncio.wait_for(dlg.clear(), 20))
    with JournalReader(data_dir / "journal.sqlite3") as r:
        assert list(r.events()) == []


def test_statistics_are_not_a_stale_zero(make_window, qloop):
    """Shown before any event, the dock used to keep its first, empty statistics."""
    w = make_window()
    w.history.dock.show()
    dockw = w.history.dock_widget
    w.hub.events_arrived.emit(orders(50, time.time()))
    dockw.tabs.setCurrentIndex(1)  # the user opens Statistics
    run_until(qloop, lambda: dockw.stats is not None and dockw.stats.notifications == 50)
    assert dockw.stats_note.text().startswith("50 notifications")
    w.hub.events_arrived.emit(orders(10, time.time()))
    w.history.dock.hide()
    w.history.dock.show()
    run_until(qloop, lambda: dockw.stats.notifications == 60)


def test_older_events_close_with_escape_and_a_button(make_window, qloop, qtbot):
    w = make_window(capacity=10)
    w.hub.events_arrived.emit(orders(50, time.time() - 100))
    win = w.history.open_older()
    run_until(qloop, lambda: win.model.rowCount() > 0)
    assert win.close_button.text() == "Close"
    shot(win, "older-events-close.png")
    win.view.setFocus()
    qtbot.keyClick(win.view, Qt.Key.Key_Escape)
    assert not win.isVisible()
    win = w.history.open_older()
    run_until(qloop, lambda: win.model.rowCount() > 0)
    qtbot.mouseClick(win.close_button, Qt.MouseButton.LeftButton)
    assert not win.isVisible()

"""Journeys through the whole window: the demo with all its background tasks running
(writer, listener, queue monitor), driven as a user would, real dialogs included."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from pgwatch_gui.core.demo.session import Demo
from pgwatch_gui.ui.demo.session import DemoSession
from pgwatch_gui.ui.shell.main_window import MainWindow
from tests.ui.waiting import run_until


class Answerer:
    """Answers every message box that shows up, `delay` ms after it appeared (the time
    a user takes to read it): modal ones (which then run their own event loop) and
    open()ed ones alike."""

    def __init__(self, yes: bool = True, delay: int = 800) -> None:
        self.yes = yes
        self.delay = delay
        self.seen: list[str] = []
        self._waiting: set[int] = set()
        self.timer = QTimer(interval=50, timeout=self._look)
        self.timer.start()

    def _look(self) -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QMessageBox) and w.isVisible() and id(w) not in self._waiting:
                self._waiting.add(id(w))
                self.seen.append(w.text())
                QTimer.singleShot(self.delay, lambda box=w: self._answer(box))

    def _answer(self, box: QMessageBox) -> None:
        want = QMessageBox.StandardButton.Yes if self.yes else QMessageBox.StandardButton.No
        button = box.button(want) or box.button(QMessageBox.StandardButton.Ok)
        if button is not None:
            button.click()

    def stop(self) -> None:
        self.timer.stop()


@pytest.fixture
def demo_window(qloop, qtbot, tmp_path):
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    session = DemoSession(window, rate=50, demo=Demo(root=tmp_path / "demo"))
    window.add_part(session)
    monitor = window.event_screen.status.monitor
    monitor.interval = 0.1  # the queue monitor polls all the time
    assert qloop.run_until_complete(session.start())
    run_until(qloop, lambda: window.event_model.rowCount() >= 5, timeout=20)
    yield window, session
    # (Tests end with shutdown() themselves: pytest-qt processes Qt events after the
    # test, outside the running loop, which a still-running writer does not survive.)
    qloop.run_until_complete(window.shutdown())


def test_install_through_the_dialog_keeps_writer_and_monitor_running(qloop, demo_window):
    window, session = demo_window
    with psycopg.connect(session.demo.conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS journey_notes (id serial PRIMARY KEY, body text)")
    browser = window.tables_browser
    browser.refresh()
    run_until(qloop, lambda: browser.snapshot is not None and any(
        t.name == "journey_notes" for t in browser.snapshot.tables))
    browser.select(("public", "journey_notes"))
    browser.dialog = None
    browser.install_selected()
    run_until(qloop, lambda: browser.dialog is not None)
    dlg = browser.dialog
    dlg.preview_btn.click()
    run_until(qloop, lambda: dlg.plan is not None)

    polls: list[str] = []
    window.event_screen.status.monitor.usage_changed.connect(lambda name, *_: polls.append(name))
    answerer = Answerer(yes=True)
    try:
        dlg.install_btn.click()
        run_until(qloop, lambda: answerer.seen and dlg.isHidden(), timeout=15)
    finally:
        answerer.stop()
    assert answerer.seen and "Listen on channel" in answerer.seen[0]

    async def keeps_flowing():
        changes, rows, n_polls = session.generator.changes, window.event_model.appended, \
            len(polls)
        await asyncio.sleep(1.5)
        return (session.generator.changes - changes, window.event_model.appended - rows,
                len(polls) - n_polls)

    written, arrived, polled = qloop.run_until_complete(keeps_flowing())
    assert session.task is not None and not session.task.done()
    assert session.generator.running
    assert written > 10 and arrived > 10, (written, arrived)
    assert polled >= 3
    assert "The demo generator stopped" not in window.statusBar().currentMessage()
    qloop.run_until_complete(window.shutdown())


def test_supervised_writer_failure_is_shown_and_restarted(qloop, demo_window):
    """A writer that dies of an unexpected error is restarted, and the user is told."""
    window, session = demo_window
    gen = session.generator
    original = gen._write
    calls = {"n": 0}

    async def broken(conn, n):
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyError("boom")  # not an error the writer expects
        return await original(conn, n)

    gen._write = broken
    run_until(qloop, lambda: "demo writer failed" in window.statusBar().currentMessage(),
              timeout=5)
    assert "boom" in window.statusBar().currentMessage()
    before = gen.changes
    run_until(qloop, lambda: gen.changes > before + 5, timeout=10)
    assert not session.task.done()
    qloop.run_until_complete(window.shutdown())


def test_guard_sees_an_unretrieved_task_exception(qloop, _no_unhandled_loop_errors):
    async def fails():
        raise KeyError("lost")

    async def main():
        asyncio.ensure_future(fails())  # noqa: RUF006 (left unretrieved on purpose)
        await asyncio.sleep(0.05)

    qloop.run_until_complete(main())
    import gc

    gc.collect()
    assert any(isinstance(c.get("exception"), KeyError) for c in _no_unhandled_loop_errors)
    _no_unhandled_loop_errors.clear()  # seen: the guard works; do not fail this test


class Closer:
    """Closes (rejects) every dialog that shows up, modal ones included."""

    def __init__(self) -> None:
        self.closed: list[str] = []
        self.timer = QTimer(interval=100, timeout=self._look)
        self.timer.start()

    def _look(self) -> None:
        from PySide6.QtWidgets import QDialog

        for w in QApplication.topLevelWidgets():
            if isinstance(w, QDialog) and w.isVisible():
                self.closed.append(w.windowTitle() or type(w).__name__)
                w.reject()

    def stop(self) -> None:
        self.timer.stop()


def _menu_actions(window):
    out = []
    for menu in (window.menu_file, window.menu_connection, window.menu_view,
                 window.menu_tools, window.menu_help):
        stack = [menu]
        while stack:
            m = stack.pop()
            for act in m.actions():
                if act.menu() is not None:
                    stack.append(act.menu())
                elif not act.isSeparator() and not act.isCheckable() \
                        and "Quit" not in act.text():
                    out.append(act)
    return out


def test_open_and_close_every_dialog_while_the_demo_runs(qloop, demo_window):
    window, session = demo_window
    window.event_screen.table.selectRow(0)
    closer = Closer()
    tried = []

    async def use(act):
        # From the running loop, as a click does (a modal dialog's own loop then runs
        # inside a loop callback, never inside a task).
        asyncio.get_running_loop().call_soon(act.trigger)
        await asyncio.sleep(0.25)

    try:
        for act in _menu_actions(window):
            if not act.isEnabled():
                continue
            tried.append(act.text())
            qloop.run_until_complete(use(act))
        before = session.generator.changes, window.event_model.appended
        qloop.run_until_complete(asyncio.sleep(1.0))
    finally:
        closer.stop()
    assert len(tried) >= 5, tried
    assert closer.closed, "no dialog opened"
    assert session.generator.running and not session.task.done()
    assert session.generator.changes > before[0] + 10
    assert window.event_model.appended > before[1] or window.event_model.paused
    qloop.run_until_complete(window.shutdown())


def test_closing_the_window_ends_everything_within_4_s(qloop, demo_window):
    import time

    window, session = demo_window
    t = time.monotonic()
    window.close()
    qloop.run_until_complete(window.shutdown())
    assert time.monotonic() - t < 4.0
    assert not session.generator.running
    assert not (session.demo.server.root / "demo.lock").exists()

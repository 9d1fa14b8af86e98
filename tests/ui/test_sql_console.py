"""The SQL console in the main window: a commit's notifications reach the event table."""

from __future__ import annotations

import asyncio
import os

import pytest
from PySide6.QtWidgets import QDockWidget

from pgwatch_gui.core.pg.connection import make_conninfo
from pgwatch_gui.core.triggers.spec import TriggerSpec
from pgwatch_gui.ui.shell.main_window import MainWindow
from tests.core.trigger_helpers import install
from tests.ui.waiting import run_until

SHOTS = "/tmp/shots/issue5"


@pytest.fixture
def window(qloop, qtbot, db, pg_dsn):
    db.execute("CREATE TABLE orders (id serial PRIMARY KEY, status text, total numeric)")
    install(pg_dsn, TriggerSpec("public", "orders", channel="orders", payload="diff"))
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1300, 800)
    w.show()
    lst = w.hub.open("shop", make_conninfo(pg_dsn), ["orders"])
    qloop.run_until_complete(lst.wait_listening(10))
    yield w
    qloop.run_until_complete(w.shutdown())


def run_sql(qloop, console, text, button=None):
    fired = []
    console.finished.connect(lambda: fired.append(1))
    if text is not None:
        console.editor.setPlainText(text)
    (button or console.run_btn).click()
    run_until(qloop, lambda: fired)
    console.finished.disconnect()


def test_commit_delivers_notifications_to_the_event_table(qloop, window, db):
    console = window.sql_console
    assert window.tables_browser is not None
    assert [a.text() for a in window.menu_tools.actions()] == ["Tables && &triggers",
                                                               "&SQL console"]
    assert console.connection.currentText() == "shop"
    run_sql(qloop, console, "INSERT INTO orders (status, total) VALUES ('new', 10), "
                            "('new', 20) RETURNING id")
    assert "INSERT 0 2\n-- 2 row(s) affected" in console.log.toPlainText()
    assert console.rows.rowCount() == 2 and console.commit_btn.isEnabled()
    assert "transaction open" in console.state.text()
    run_sql(qloop, console, "UPDATE orders SET status = 'paid' WHERE id = 1")
    run_sql(qloop, console, "UPDATE orders SET nope = 1")
    assert "column \"nope\" of relation \"orders\" does not exist" in console.log.toPlainText()
    qloop.run_until_complete(asyncio.sleep(0.3))
    assert window.event_model.rowCount() == 0  # nothing before the commit
    assert db.execute("SELECT count(*) FROM orders").fetchone()[0] == 0
    run_sql(qloop, console, None, console.commit_btn)
    run_until(qloop, lambda: window.event_model.rowCount() == 3)
    ops = [window.event_model.event(i).op for i in range(3)]
    assert ops == ["INSERT", "INSERT", "UPDATE"]
    assert window.event_model.event(2).decoded.value["changed"] == ["status"]
    assert "no transaction" in console.state.text() and not console.commit_btn.isEnabled()
    window.findChild(QDockWidget, "dock-sql-console").show()
    window.tables_browser.select(("public", "orders"))
    run_until(qloop, lambda: window.tables_browser.snapshot is not None)
    os.makedirs(SHOTS, exist_ok=True)
    window.grab().save(os.path.join(SHOTS, "main_window_console.png"))


def test_rollback_sends_nothing(qloop, window, db):
    console = window.sql_console
    run_sql(qloop, console, "INSERT INTO orders (status) VALUES ('draft')")
    run_sql(qloop, console, None, console.rollback_btn)
    assert "ROLLBACK" in console.log.toPlainText()
    qloop.run_until_complete(asyncio.sleep(0.3))
    assert window.event_model.rowCount() == 0
    assert db.execute("SELECT count(*) FROM orders").fetchone()[0] == 0

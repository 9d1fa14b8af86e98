"""The demo in the window: a "Demo" connection with events flowing, a rate control that
drives the generator, and closing stops the generator and the server."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from PySide6.QtWidgets import QPushButton

from pgwatch_gui.core.demo.session import Demo
from pgwatch_gui.ui.demo.controls import STOPS, DemoRateControl, nearest_stop
from pgwatch_gui.ui.demo.session import DemoSession
from pgwatch_gui.ui.shell.main_window import MainWindow
from tests.ui.waiting import until


def test_nearest_stop():
    assert [STOPS[nearest_stop(r)] for r in (0, 1, 3, 7, 140, 4000, 9999)] == \
        [0, 1, 2, 5, 100, 5000, 5000]


def test_demo_window_flows_and_stops(qloop, qtbot, tmp_path, capfd):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    session = DemoSession(window, rate=200, demo=Demo(root=tmp_path / "demo"))

    async def main():
        assert await session.start()
        await until(lambda: window.event_model.rowCount() >= 20, timeout=15.0)
        assert window.hub.names() == ["Demo"]
        control = session.control
        assert isinstance(control, DemoRateControl) and control.rate == 200
        control.slider.setValue(STOPS.index(1000))  # the slider drives the generator
        assert session.generator.rate == 1000 and control.spin.value() == 1000
        control.spin.setValue(0)  # paused
        assert session.generator.rate == 0
        assert control.slider.value() == 0
        await asyncio.sleep(0.3)
        made = session.generator.changes
        await asyncio.sleep(0.4)
        assert session.generator.changes == made
        window.grab().save(str(tmp_path / "demo.png"))
        conninfo = session.demo.conninfo
        await check_where_the_demo_is(window, session, capfd)
        await window.shutdown()
        await session.stop()
        return conninfo

    conninfo = qloop.run_until_complete(main())
    channels = {window.event_model.event(i).channel for i in range(window.event_model.rowCount())}
    assert {"shop_orders", "shop_customers"} <= channels
    assert session.task.done() and not session.generator.running
    with pytest.raises(psycopg.OperationalError):  # the server is stopped
        psycopg.connect(conninfo, connect_timeout=2).close()
    assert not (tmp_path / "demo" / "demo.lock").exists()


async def check_where_the_demo_is(window, session, capfd):
    """Issue 11: the demo's DSN was shown nowhere, and its connections had an empty
    application_name although the README promises pgwatch-gui."""
    from PySide6.QtGui import QGuiApplication

    dsn = session.demo.public_dsn
    assert dsn and "application_name" not in dsn and "password" not in dsn
    assert f"demo database: {dsn}" in capfd.readouterr().err
    action = next(a for a in window.menu_help.actions() if a.text() == "&Demo database…")
    action.trigger()
    dlg = window.demo_info_dialog
    assert dlg.isVisible()
    assert dlg.fields["dsn"].text() == dsn
    dlg.findChild(QPushButton, "copy-dsn").click()
    assert QGuiApplication.clipboard().text() == dsn
    assert dlg.fields["psql"].text().startswith("psql ")
    dlg.close()
    with psycopg.connect(dsn, autocommit=True) as conn:  # psql can do what this does
        names = {r[0] for r in conn.execute(
            "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()")}
    assert "pgwatch-gui" in names  # the listener (and the queue monitor)
    assert "pgwatch-gui demo writer" in names  # the change generator
    assert "" not in names, names


def test_demo_that_cannot_start_says_why(qloop, qtbot, tmp_path):
    import json
    import os

    lock = tmp_path / "demo" / "demo.lock"
    lock.parent.mkdir()
    lock.write_text(json.dumps({"pid": os.getppid()}))  # a live process holds it
    window = MainWindow()
    qtbot.addWidget(window)
    session = DemoSession(window, demo=Demo(root=tmp_path / "demo"))
    assert qloop.run_until_complete(session.start()) is False
    assert "already running" in session.error
    assert "already running" in window.statusBar().currentMessage()
    assert window.hub.names() == []


def test_cli_refuses_a_second_demo_before_opening_a_window(tmp_path):
    import json
    import os

    from tests.conftest import run_cli

    lock = tmp_path / "demo" / "demo.lock"
    lock.parent.mkdir()
    lock.write_text(json.dumps({"pid": os.getpid()}))
    r = run_cli("--demo", PGWATCH_DATA_DIR=str(tmp_path))
    assert r.returncode == 2
    assert "already running" in r.stderr and str(os.getpid()) in r.stderr

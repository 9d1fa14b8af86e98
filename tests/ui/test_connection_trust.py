"""Connections in the window, from an outside walkthrough: a reconnecting connection says
why at 1280 px; a password that stops working is asked for (open(), the window goes on)
instead of a failed login every 2 s; 'received' counts what the table shows."""

from __future__ import annotations

import asyncio
import os

import psycopg
from psycopg import sql
from PySide6.QtWidgets import QInputDialog

from pgwatch_gui.core.profiles.imports import profile_from_dsn
from pgwatch_gui.core.stream.status import State
from tests.conftest import dsn_for
from tests.pgproxy import PgProxy
from tests.pgroles import password_role
from tests.ui.waiting import until
from tests.ui.windows import shown_window

SHOTS = os.environ.get("PGWATCH_SHOTS", "/tmp/shots/issue22")


def shot(widget, name: str) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    widget.grab().save(os.path.join(SHOTS, name))


def test_reconnect_status_says_why_at_1280(qtbot, tmp_path, qloop, pg_dsn):
    w = shown_window(qtbot, tmp_path, (1280, 720))
    status = w.event_screen.status
    try:
        with PgProxy(pg_dsn) as proxy:
            async def main():
                lst = w.hub.open("orders-db", proxy.dsn(), ["orders", "audit"])
                await lst.wait_listening(10)
                proxy.down()
                await until(lambda: lst.status.state is State.RECONNECTING
                            and lst.status.attempt >= 2, 20)
                status.refresh()
                # Qt lays the bar out while the loop runs (never processEvents() inside a
                # coroutine: it would step other tasks from inside this one).
                await asyncio.sleep(0.1)
                shot(w, "reconnecting-1280.png")
                c = status.connections["orders-db"]
                seen = (c.text.text(), c.text.full_text, c.toolTip(), lst.status.reason,
                        c.text.width(), c.text.fontMetrics().horizontalAdvance(c.text.text()))
                proxy.up()
                await lst.wait_listening(10)
                return seen

            shown, full, tip, reason, width, drawn = qloop.run_until_complete(main())
    finally:
        qloop.run_until_complete(w.shutdown())
    assert reason and full.endswith(reason)  # the reason is said, last
    assert "0 received" in shown  # ahead of the reason: never cut off by it
    assert shown.startswith("orders-db  reconnecting in")
    assert shown.endswith(reason[-20:])  # why it failed: libpq says it last
    assert "…" in shown and drawn <= width  # cut to fit, not pushed off the bar
    assert reason in tip


def test_received_counts_this_windows_own_notifications(qtbot, tmp_path, qloop, pg_dsn):
    """'5 shown' and '2 received' differed by the window's own notifications."""
    w = shown_window(qtbot, tmp_path, (1280, 720))
    status = w.event_screen.status
    try:
        async def main():
            lst = w.hub.open("local", pg_dsn, ["orders"])
            await lst.wait_listening(10)
            for i in range(3):
                await w.hub.notify("local", "orders", f"own {i}")
            with psycopg.connect(pg_dsn, autocommit=True) as c:
                c.execute("SELECT pg_notify('orders', 'other ' || g) "
                          "FROM generate_series(1, 2) g")
            await until(lambda: w.event_model.rowCount() == 5)
            status.refresh()
            return lst.received, status.connections["local"].text.full_text, \
                status.counts.text()

        received, text, counts = qloop.run_until_complete(main())
    finally:
        qloop.run_until_complete(w.shutdown())
    assert received == 5
    assert "5 received" in text and counts.startswith("5 shown")


def test_a_password_that_stops_working_is_asked_for_then_used(
        qtbot, tmp_path, qloop, pg_server, monkeypatch):
    monkeypatch.setenv("PGWATCH_CONFIG_DIR", str(tmp_path / "config"))
    with password_role(pg_server, "first") as role:
        w = shown_window(qtbot, tmp_path, (1280, 720))
        panel = w.profiles_panel
        try:
            profile, _ = profile_from_dsn("pw", dsn_for(pg_server, user=role,
                                                        dbname="postgres"))
            profile.channels = ["c"]
            panel.store.add(profile, password="first")
            panel.refresh()
            panel.connect_profile("pw")
            qloop.run_until_complete(until(lambda: w.hub.is_listening("pw"), 10))
            statuses = []
            w.hub.status_changed.connect(lambda n, st: statuses.append(st))
            with psycopg.connect(pg_server, autocommit=True) as c:
                c.execute(sql.SQL("ALTER ROLE {} PASSWORD 'second'").format(
                    sql.Identifier(role)))
                c.execute("SELECT pg_terminate_backend(%s)",
                          (w.hub.listener("pw").backend_pid,))

            qloop.run_until_complete(until(lambda: "pw" in panel.password_dialogs, 10))
            dlg = panel.password_dialogs["pw"]
            assert isinstance(dlg, QInputDialog) and dlg.isVisible()
            st = w.hub.status("pw")
            assert st.state is State.FAILED and st.auth_failed
            assert "password authentication failed" in dlg.labelText()
            shot(w, "password-asked-1280.png")
            shot(dlg, "password-dialog.png")
            # The window goes on meanwhile, and the listener does not try again.
            qloop.run_until_complete(asyncio.sleep(2.5))
            failures = [s for s in statuses if s.state is State.FAILED]
            assert len(failures) == 1
            assert w.hub.status("pw").state is State.FAILED
            dlg.setTextValue("second")
            dlg.accept()
            qloop.run_until_complete(until(lambda: w.hub.is_listening("pw"), 10))
            assert not dlg.isVisible()
        finally:
            qloop.run_until_complete(w.shutdown())

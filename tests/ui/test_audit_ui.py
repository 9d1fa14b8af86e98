"""Audit triggers… in the window: from the Tables dock, SQL first, live counters,
discrepancies beside their committed rows, and nothing left on the server."""

from __future__ import annotations

import asyncio
import os

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QMenu

from pgwatch_gui.core.audit.results import MISMATCHED, MISSING
from pgwatch_gui.core.audit.session import AUDITING, DONE
from pgwatch_gui.core.pg.connection import make_conninfo
from tests.core.replication.streams import execute, run_sql, slots_and_publications
from tests.ui.waiting import until
from tests.ui.windows import shown_window

SHOTS = os.environ.get("PGWATCH_SHOTS", "/tmp/shots/issue24")
ORDERS = ("public", "orders")

SCHEMA = [
    "CREATE TABLE orders (id int PRIMARY KEY, status text, total numeric(10, 2))",
    "CREATE TABLE customers (id int PRIMARY KEY, name text)",
    # OLD for everything but INSERT, and no DELETE: two bugs to find
    "CREATE FUNCTION orders_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "PERFORM pg_notify('orders_events', json_build_object('table', TG_TABLE_NAME, 'action', "
    "TG_OP, 'data', CASE WHEN TG_OP = 'INSERT' THEN row_to_json(NEW) ELSE row_to_json(OLD) "
    "END)::text); RETURN NULL; END $$",
    "CREATE TRIGGER orders_notify AFTER INSERT OR UPDATE ON orders FOR EACH ROW "
    "EXECUTE FUNCTION orders_notify()",
]


async def shot(widget, name: str, size: tuple[int, int] | None = None) -> None:
    """Resize, let the loop lay it out (no processEvents() inside a coroutine), save."""
    os.makedirs(SHOTS, exist_ok=True)
    if size is not None:
        widget.resize(*size)
    await asyncio.sleep(0.2)
    assert widget.grab().save(os.path.join(SHOTS, name))


@pytest.fixture
def window(qtbot, tmp_path, qloop):
    w = shown_window(qtbot, tmp_path, (1400, 860))
    yield w
    qloop.run_until_complete(w.shutdown())


def test_audit_from_the_tables_dock_live_counters_and_side_by_side(window, qloop, qtbot,
                                                                   logical_dsn):
    execute(logical_dsn, SCHEMA)
    hub, browser = window.hub, window.tables_browser

    async def main():
        lst = hub.open("shop", make_conninfo(logical_dsn), [])
        await lst.wait_listening(10)
        await until(lambda: browser.snapshot is not None)
        assert not browser.audit_btn.isEnabled()  # nothing selected
        browser.select(ORDERS)
        assert browser.audit_btn.isEnabled()
        await shot(browser, "tables_dock_audit_button.png")
        browser._context_menu(QPoint(5, 5))
        menu = browser.findChildren(QMenu)[-1]
        assert "Audit triggers of 1 table(s)..." in [a.text() for a in menu.actions()]
        menu.close()
        browser.audit_btn.click()
        win = window.audit_window
        qtbot.addWidget(win)
        assert not win.isModal() and win.isVisible()
        await until(lambda: win.plan is not None)
        assert win.channels.text() == "orders_events"
        assert win.sql.toPlainText().startswith(
            'CREATE PUBLICATION "pgwatch_changes_') and '"public"."orders"' in \
            win.sql.toPlainText()
        assert win.start.isEnabled() and not win.stop.isEnabled()
        await shot(win, "audit_before_start.png", (1280, 720))
        win.start.click()
        session = win.session
        await until(lambda: session.state == AUDITING, 30)
        assert win.stop.isEnabled() and not win.start.isEnabled()
        assert not win.channels.isEnabled()
        await run_sql(logical_dsn, [
            "INSERT INTO orders VALUES (1, 'new', 10.50), (2, 'new', 7)",
            "UPDATE orders SET status = 'paid' WHERE id = 1",
            "DELETE FROM orders WHERE id = 2",
            "INSERT INTO customers VALUES (1, 'not audited')",
        ])
        await until(lambda: session.auditor.counts[ORDERS].changes == 4, 20)
        await until(lambda: win.results.counters.item(0, 1).text() == "4")  # live counters
        row = [win.results.counters.item(0, i).text() for i in range(7)]
        assert row == ["public.orders", "4", "2", "1", "1", "0", "0"]
        kinds = [win.results.list.item(r, 1).text() for r in range(win.results.list.rowCount())]
        assert sorted(kinds) == [MISMATCHED, MISSING]
        win.results.select(kinds.index(MISMATCHED))
        assert '"status": "paid"' in win.results.committed.toPlainText()
        assert '"status": "new"' in win.results.notified.toPlainText()
        assert "orders_events" in win.results.notified.toPlainText()
        assert "status: 'new' in the payload, 'paid' committed" in win.results.why.text()
        await shot(win, "audit_running_1280x720.png", (1280, 720))
        await shot(win, "audit_running_1920x1080.png", (1920, 1080))
        win.stop.click()
        await until(lambda: session.state == DONE, 30)
        assert "Audit ended: 1 missing, 1 mismatched of 4 change(s)" in win.message.text()
        assert win.start.isEnabled() and not win.stop.isEnabled()
        assert "Trigger audit: 1 missing" in browser.status.text()
        await shot(win, "audit_ended.png", (1280, 720))
        # Again, after the trigger is fixed: the triggers are read afresh.
        await run_sql(logical_dsn, [
            "CREATE OR REPLACE FUNCTION orders_notify() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_notify('orders_events', json_build_object('table', "
            "TG_TABLE_NAME, 'action', TG_OP, 'data', row_to_json(COALESCE(NEW, OLD)))::text); "
            "RETURN NULL; END $$",
            "CREATE OR REPLACE TRIGGER orders_notify AFTER INSERT OR UPDATE OR DELETE ON orders "
            "FOR EACH ROW EXECUTE FUNCTION orders_notify()"])
        win.start.click()
        await until(lambda: win.session is not session and win.session.state == AUDITING, 30)
        assert win.results.list.rowCount() == 0
        await run_sql(logical_dsn, ["UPDATE orders SET status = 'shipped'",
                                    "DELETE FROM orders"])
        await until(lambda: win.session.auditor.counts[ORDERS].matched == 2, 20)
        win.close()  # closing ends it too
        await until(lambda: win.session.state == DONE, 30)
        assert win.session.auditor.clean

    qloop.run_until_complete(main())
    assert slots_and_publications(logical_dsn) == ([], [])


def test_quitting_during_an_audit_drops_its_publication(window, qloop, qtbot, logical_dsn):
    execute(logical_dsn, SCHEMA)
    part = window.part("audit")

    async def main():
        win = part.open("shop", make_conninfo(logical_dsn), [ORDERS])
        qtbot.addWidget(win)
        await until(lambda: win.plan is not None)
        win.start.click()
        await until(lambda: win.session.state == AUDITING, 30)
        await window.shutdown()
        assert win.session.state == DONE

    qloop.run_until_complete(main())
    assert slots_and_publications(logical_dsn) == ([], [])


def test_no_trigger_found_asks_for_channels(window, qloop, qtbot, logical_dsn):
    execute(logical_dsn, "CREATE TABLE quiet (id int PRIMARY KEY)")
    part = window.part("audit")

    async def main():
        win = part.open("shop", make_conninfo(logical_dsn), [("public", "quiet")])
        qtbot.addWidget(win)
        await until(lambda: win.plan is not None)
        assert win.channels.text() == "" and "type the channels" in \
            win.channels.placeholderText()
        assert "public.quiet has no notify trigger" in win.warnings.text()
        win.start.click()
        assert "-c CHANNEL" in win.message.text() and win.session is None
        win.channels.setText("bad channel " + "x" * 70)
        win.start.click()
        assert "63" in win.message.text() and win.session is None
        await shot(win, "audit_no_trigger.png", (1280, 720))

    qloop.run_until_complete(main())

"""Watching row changes in the window: the dialog (SQL first), the stream as a connection."""

from __future__ import annotations

import asyncio
import json
import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from pgwatch_gui.core.pg.connection import make_conninfo
from pgwatch_gui.core.stream.status import State
from tests.core.replication.streams import execute, run_sql, slots_and_publications
from tests.ui.waiting import run_until, until
from tests.ui.windows import shown_window

SHOTS = os.environ.get("PGWATCH_SHOTS", "/tmp/shots/issue14")


def shot(widget, name: str) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    QApplication.processEvents()
    assert widget.grab().save(os.path.join(SHOTS, name))


@pytest.fixture
def window(qtbot, tmp_path, qloop):
    w = shown_window(qtbot, tmp_path, (1400, 860))
    yield w
    qloop.run_until_complete(w.shutdown())


def test_watch_changes_dialog_then_stream_with_status_and_gap(window, qloop, qtbot,
                                                              logical_dsn):
    execute(logical_dsn, [
        'CREATE SCHEMA "Sales Dept"',
        'CREATE TABLE "Sales Dept"."Order Items" (id int PRIMARY KEY, "select" text, '
        "qty int)",
        "CREATE TABLE loose (v text)",
        'CREATE PUBLICATION "App Pub" FOR TABLE "Sales Dept"."Order Items"',
    ])
    hub, browser = window.hub, window.tables_browser
    events = []
    hub.events_arrived.connect(events.extend)

    async def main():
        lst = hub.open("shop", make_conninfo(logical_dsn), [])
        await lst.wait_listening(10)
        await until(lambda: browser.snapshot is not None)
        # a keyless table: refused as it is, offered with REPLICA IDENTITY FULL
        browser.select(("public", "loose"))
        browser.watch_changes()
        dlg = window.watch_dialog
        await until(lambda: dlg.preview is not None)
        assert dlg.full.isChecked() and dlg.start.isEnabled()
        assert dlg.sql.toPlainText().startswith(
            'ALTER TABLE "public"."loose" REPLICA IDENTITY FULL;')
        assert "no replica identity" in dlg.message.text()
        dlg.reject()
        # a keyed table: the publication's SQL first, FULL optional
        browser.select(("Sales Dept", "Order Items"))
        browser.watch_changes()
        dlg = window.watch_dialog
        qtbot.addWidget(dlg)
        await until(lambda: dlg.preview is not None)
        assert not dlg.full.isChecked()
        # an existing publication instead: nothing created, nothing to run
        assert [dlg.source.itemText(i) for i in range(dlg.source.count())][1:] == ["App Pub"]
        dlg.source.setCurrentIndex(1)
        dlg.source.activated.emit(1)
        await until(lambda: dlg.preview is not None and dlg.plan.publication == "App Pub")
        assert dlg.sql.toPlainText().startswith("-- publication App Pub exists")
        assert not dlg.full.isEnabled() and dlg.start.isEnabled()
        shot(dlg, "watch_changes_existing_publication.png")
        dlg.source.setCurrentIndex(0)
        dlg.source.activated.emit(0)
        await until(lambda: dlg.preview is not None and dlg.plan.publication is None)
        sql_text = dlg.sql.toPlainText()
        assert sql_text.startswith('CREATE PUBLICATION "pgwatch_changes_')
        assert 'FOR TABLE "Sales Dept"."Order Items"' in sql_text
        dlg.full.setChecked(True)
        assert "REPLICA IDENTITY FULL" in dlg.sql.toPlainText()
        assert "whole old row to WAL" in dlg.cost.text()
        shot(dlg, "watch_changes_dialog.png")
        dlg.full.setChecked(False)
        dlg.start.click()
        assert "shop changes" in hub.names() and hub.is_change_stream("shop changes")
        source = hub.listener("shop changes")
        await source.wait_streaming(20)
        await run_sql(logical_dsn, [
            """INSERT INTO "Sales Dept"."Order Items" VALUES (1, 'from', 2), (2, 'where', 3)""",
            """UPDATE "Sales Dept"."Order Items" SET qty = 5 WHERE id = 1""",
        ])
        await until(lambda: window.event_model.rowCount() == 3, 15)
        status = window.event_screen.status
        status.refresh()
        await until(lambda: "streaming changes" in status.connections["shop changes"]
                    .text.text())
        ev = window.event_model.event(2)
        assert (ev.kind, ev.op, ev.table, ev.key) == ("change", "UPDATE", "Order Items",
                                                      {"id": 1})
        assert json.loads(ev.payload)["row"]["select"] == "from"
        window.event_screen.table.selectRow(2)
        received = window.event_screen.inspector.meta["received"]
        await until(lambda: "after its commit" in received.text())
        shot(window, "window_change_stream.png")
        # the walsender goes away: a gap row that says the slot cannot resume
        await run_sql(logical_dsn, "SELECT pg_terminate_backend(active_pid) "
                                   "FROM pg_replication_slots WHERE active")
        await until(lambda: any(e.is_gap for e in events)
                    and source.status.state is State.LISTENING, 20)
        gap = next(e for e in events if e.is_gap)
        assert "cannot resume" in gap.payload
        shot(window, "window_change_stream_gap.png")
        # a change stream has no channels to listen on: one line, no traceback
        with pytest.raises(ValueError, match="change stream"):
            await hub.listen("shop changes", "x")
        browser.stop_stream("shop changes")
        await until(lambda: "shop changes" not in hub.names())
        await until(lambda: source.status.state is State.STOPPED, 15)
        # said when the stop task ends, which may be a loop turn after the source's state
        await until(lambda: "Stopped watching 'shop changes'" in browser.status.text())

    qloop.run_until_complete(main())
    assert slots_and_publications(logical_dsn) == ([], ["App Pub"])
    assert asyncio.get_event_loop() is qloop


def test_quitting_while_a_stream_stops_still_drops_its_publication(qloop, logical_dsn):
    import psycopg

    from pgwatch_gui.core.replication.preview import preview
    from pgwatch_gui.core.replication.publication import WatchPlan
    from pgwatch_gui.ui.common.hub import ConnectionHub

    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    hub = ConnectionHub()

    async def main():
        async with await psycopg.AsyncConnection.connect(logical_dsn, autocommit=True) as c:
            pv = await preview(c, WatchPlan(tables=(("public", "t"),)))
        source = hub.open_changes("db changes", logical_dsn, pv.setup)
        await source.wait_streaming(20)
        closing = asyncio.ensure_future(hub.close("db changes"))
        await asyncio.sleep(0)
        assert hub.names() == []
        await hub.close_all()  # what quitting does: it must wait for the stop under way
        assert source.status.state is State.STOPPED
        await closing

    qloop.run_until_complete(main())
    assert slots_and_publications(logical_dsn) == ([], [])


def test_dialog_on_a_server_that_cannot_stream_says_why_and_offers_no_start(
        qloop, qtbot, replica_dsn):
    from pgwatch_gui.core.replication.publication import WatchPlan
    from pgwatch_gui.ui.replication.watch_dialog import WatchChangesDialog

    execute(replica_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    dlg = WatchChangesDialog(replica_dsn, WatchPlan(tables=(("public", "t"),)))
    qtbot.addWidget(dlg)
    dlg.open()
    qloop.run_until_complete(until(lambda: dlg.preview is not None))
    assert "wal_level is 'replica'" in dlg.message.text() and "\n" not in dlg.message.text()
    assert "#cf222e" in dlg.message.styleSheet()
    assert not dlg.start.isEnabled() and not dlg.full.isEnabled()
    assert dlg.sql.toPlainText() == ""
    shot(dlg, "watch_changes_refused.png")


def test_watching_a_schema_in_the_window_follows_new_tables(window, qloop, qtbot, logical_dsn):
    """Issue 23 in the window: the SQL shown publishes STORED generated columns (18+),
    and a table created while the schema streams arrives after an amber row saying so."""
    import psycopg

    execute(logical_dsn, [
        "CREATE SCHEMA shop",
        "CREATE TABLE shop.orders (id int PRIMARY KEY, net numeric, "
        "gross numeric GENERATED ALWAYS AS (net * 1.2) STORED)",
    ])
    with psycopg.connect(logical_dsn) as c:
        v18 = c.info.server_version >= 180000
    hub, browser = window.hub, window.tables_browser

    async def main():
        lst = hub.open("shop", make_conninfo(logical_dsn), [])
        await lst.wait_listening(10)
        await until(lambda: browser.snapshot is not None)
        browser.watch_changes(schema="shop")
        dlg = window.watch_dialog
        qtbot.addWidget(dlg)
        await until(lambda: dlg.preview is not None)
        sql_text = dlg.sql.toPlainText()
        assert ("publish_generated_columns = stored" in sql_text) == v18
        shot(dlg, "watch_schema_dialog.png")
        dlg.start.click()
        source = hub.listener("shop changes")
        source.follow_interval = 0.2
        await source.wait_streaming(20)
        await run_sql(logical_dsn, ["INSERT INTO shop.orders (id, net) VALUES (1, 10)",
                                    "CREATE TABLE shop.later (id int PRIMARY KEY, v text)"])
        await until(lambda: any(window.event_model.event(r).is_gap
                                for r in range(window.event_model.rowCount())), 20)
        await run_sql(logical_dsn, "INSERT INTO shop.later VALUES (7, 'new table')")
        await until(lambda: window.event_model.rowCount() == 3, 20)
        rows = [window.event_model.event(r) for r in range(3)]
        assert [r.kind for r in rows] == ["change", "gap", "change"]
        assert "table shop.later was created after the stream started" in rows[1].payload
        assert (rows[2].table, rows[2].key) == ("later", {"id": 7})
        row = json.loads(rows[0].payload)
        assert ("gross" in row["row"]) == v18 and ("generated_missing" in row) != v18
        window.resize(1280, 720)
        window.event_screen.table.selectRow(1)
        shot(window, "window_schema_new_table.png")
        await hub.close("shop changes")

    qloop.run_until_complete(main())


def test_the_dialog_says_what_streams_left_behind_and_removes_it(qtbot, qloop, logical_dsn):
    """A publication whose stream died (kill -9, long ago) is named under the SQL, and
    Remove leftovers drops it (the audit window shows them with the same piece)."""
    from pgwatch_gui.core.replication.publication import WatchPlan
    from pgwatch_gui.ui.replication.watch_dialog import WatchChangesDialog

    info = json.dumps({"pgwatch-gui": "change stream", "slot": "pgwatch_slot_gone",
                       "created": 0})
    execute(logical_dsn, ["CREATE TABLE kept (id int PRIMARY KEY)",
                          "CREATE PUBLICATION pgwatch_changes_gone FOR TABLE kept",
                          f"COMMENT ON PUBLICATION pgwatch_changes_gone IS '{info}'"])
    dlg = WatchChangesDialog(make_conninfo(logical_dsn), WatchPlan(tables=(("public", "kept"),)))
    qtbot.addWidget(dlg)
    dlg.show()
    left = dlg.leftovers
    run_until(qloop, lambda: dlg.preview is not None)
    assert left.button.isVisible()
    assert left.label.text().startswith("Left behind by streams that ended without "
                                        "cleaning up: pgwatch_changes_gone (created ")
    assert left.label.text().endswith(", its slot pgwatch_slot_gone is gone).")
    shot(dlg, "watch_dialog_leftovers.png")
    qtbot.mouseClick(left.button, Qt.MouseButton.LeftButton)
    run_until(qloop, lambda: not left.button.isVisible())
    assert left.label.text() == "Removed 1 leftover publication(s)."
    assert slots_and_publications(logical_dsn) == ([], [])

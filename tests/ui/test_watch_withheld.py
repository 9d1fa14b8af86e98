"""Watch changes… holds back the columns the table's notify trigger never sends: the SQL
shows the column list, the dialog says why, and neither the table nor the journal ever
gets them."""

from __future__ import annotations

import os

import psycopg
import pytest
from PySide6.QtCore import QSettings

from pgwatch_gui.core.journal.reader import JournalReader
from pgwatch_gui.core.pg.connection import make_conninfo
from pgwatch_gui.core.triggers.spec import TriggerSpec
from pgwatch_gui.ui.shell.main_window import MainWindow
from tests.core.replication.streams import execute, run_sql
from tests.core.trigger_helpers import install
from tests.ui.waiting import until

SHOTS = os.environ.get("PGWATCH_SHOTS", "/tmp/shots/issue22")


def test_watch_changes_never_sends_nor_journals_never_sent_columns(
        qtbot, qloop, tmp_path, monkeypatch, logical_dsn):
    with psycopg.connect(logical_dsn) as c:
        if c.info.server_version < 150000:
            pytest.skip("column lists need PostgreSQL 15")
    execute(logical_dsn, "CREATE TABLE users (id int PRIMARY KEY, name text, email text)")
    install(logical_dsn, TriggerSpec("public", "users", channel="users", payload="row",
                                     exclude=("email",)))
    data = tmp_path / "data"
    monkeypatch.setenv("PGWATCH_DATA_DIR", str(data))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    hub, browser = window.hub, window.tables_browser

    async def main():
        lst = hub.open("shop", make_conninfo(logical_dsn), [])
        await lst.wait_listening(10)
        await until(lambda: browser.snapshot is not None)
        browser.select(("public", "users"))
        browser.watch_changes()
        dlg = window.watch_dialog
        qtbot.addWidget(dlg)
        await until(lambda: dlg.preview is not None)
        assert 'FOR TABLE "public"."users" ("id", "name")' in dlg.sql.toPlainText()
        assert dlg.notes.isVisible()
        assert dlg.notes.text() == ("public.users: email held back (its notify trigger never "
                                    "sends them)")
        os.makedirs(SHOTS, exist_ok=True)
        dlg.grab().save(os.path.join(SHOTS, "watch-changes-held-back.png"))
        # REPLICA IDENTITY FULL would need every column: not offered, and it says why
        assert not dlg.full.isEnabled() and "never sends email" in dlg.full.toolTip()
        dlg.start.click()
        source = hub.listener("shop changes")
        await source.wait_streaming(20)
        await run_sql(logical_dsn, "INSERT INTO users VALUES (1, 'Ann', 'ann@example.com')")
        await until(lambda: window.event_model.rowCount() == 1, 15)
        assert window.history.link.flush(10)

    try:
        qloop.run_until_complete(main())
        ev = window.event_model.event(0)
        assert "Ann" in ev.payload and "example.com" not in ev.payload
        with JournalReader(data / "journal.sqlite3") as r:  # read back, not grepped: a
            kept = [e.payload for e in r.events()]          # calm stream is compressed
        assert len(kept) == 1 and "Ann" in kept[0] and "example.com" not in kept[0]
    finally:
        qloop.run_until_complete(window.shutdown())

"""History in the window: the journal gets every batch, timeline, rate and statistics dock,
older events from the journal, settings. Screenshots go to $PGWATCH_SHOTS."""

from __future__ import annotations

import asyncio
import json
import os
import time

import psycopg
import pytest
from PySide6.QtCore import QSettings

from pgwatch_gui.core.journal.reader import JournalReader
from pgwatch_gui.core.pg.connection import make_conninfo
from pgwatch_gui.core.stream.events import new_event
from pgwatch_gui.ui.shell.main_window import MainWindow
from tests.ui.waiting import run_until, until

SHOTS = os.environ.get("PGWATCH_SHOTS", "/tmp/shots/issue13")


def shot(widget, name: str, size=None) -> None:
    os.makedirs(SHOTS, exist_ok=True)
    if size is not None:
        widget.resize(*size)
    widget.grab().save(os.path.join(SHOTS, name))


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    d = tmp_path / "data"
    monkeypatch.setenv("PGWATCH_DATA_DIR", str(d))
    return d


@pytest.fixture
def make_window(qtbot, tmp_path, qloop, data_dir):
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    made = []

    def make(**kw) -> MainWindow:
        w = MainWindow(**kw)
        qtbot.addWidget(w)
        w.resize(1280, 720)
        w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        qloop.run_until_complete(w.shutdown())


def envelope(i: int, key: int, status: str, op: str = "UPDATE") -> str:
    return json.dumps({"v": 1, "op": op, "schema": "public", "table": "orders",
                       "key": {"id": key}, "row": {"id": key, "status": status, "n": i}})


def orders(n: int, t0: float, profile="shop") -> list:
    statuses = ("new", "paid", "packed", "shipped")
    return [new_event(i, t0 + i * 0.5, profile, "orders" if i % 3 else "audit", 100 + i % 7,
                      envelope(i, i % 5, statuses[(i // 5) % 4],
                               "INSERT" if i < 5 else "UPDATE"))
            for i in range(n)]


def test_real_notifications_reach_the_journal(make_window, qloop, pg_dsn, data_dir):
    w = make_window()

    async def main():
        lst = w.hub.open("local", make_conninfo(pg_dsn), ["orders"])
        await lst.wait_listening(10)
        with psycopg.connect(pg_dsn, autocommit=True) as c:
            c.execute("SELECT pg_notify('orders', 'n' || g) FROM generate_series(1, 300) g")
        await until(lambda: w.event_model.rowCount() == 300)
        assert w.history.link.flush(5)

    qloop.run_until_complete(main())
    with JournalReader(data_dir / "journal.sqlite3") as r:
        got = [e.payload for e in r.events(profile="local")]
    assert got == [f"n{i}" for i in range(1, 301)]


def test_no_journal_writes_nothing(make_window, data_dir):
    w = make_window(journal=False)
    w.hub.events_arrived.emit(orders(10, time.time()))
    assert w.history.link.writer is None
    assert not (data_dir / "journal.sqlite3").exists()
    assert not w.history.action_older.isEnabled()


def test_settings_turn_it_off_and_set_limits(make_window, qloop):
    w = make_window()
    dlg = w.history.open_settings()
    shot(dlg, "history-settings.png")
    dlg.enabled.setChecked(False)
    dlg.max_mb.setValue(50)
    dlg.max_days.setValue(2)
    dlg.accept()
    link = w.history.link
    assert (link.enabled, link.max_mb, link.max_days) == (False, 50, 2)
    assert str(QSettings().value("history/enabled")).lower() == "false"
    w.hub.events_arrived.emit(orders(3, time.time()))
    assert link.writer is None


def test_timeline_of_a_row_from_the_journal(make_window, qloop, tmp_path):
    w = make_window()
    t0 = time.time() - 600
    w.hub.events_arrived.emit(orders(60, t0))
    ev = next(e for e in w.event_model.all_events() if e.key == {"id": 2} and e.op == "UPDATE")
    dlg = w.history.open_timeline(ev)
    run_until(qloop, lambda: dlg.entries, timeout=10)
    assert [e.event.key for e in dlg.entries] == [{"id": 2}] * 12
    assert dlg.entries[0].note == "inserted"
    changes = [e.summary() for e in dlg.entries[1:]]
    assert changes[0] == "status: new → paid; n: 2 → 7"
    assert all(e.event.received_at <= f.event.received_at
               for e, f in zip(dlg.entries, dlg.entries[1:], strict=False))
    dlg.resize(1000, 560)
    dlg.table.selectRow(4)
    shot(dlg, "timeline.png")
    dlg.filter_edit.setText("shipped")
    assert 0 < len(dlg.shown) < 12
    out = tmp_path / "tl.jsonl"
    assert dlg.export_to(str(out)) == len(dlg.shown)
    lines = out.read_text().splitlines()
    assert all(json.loads(x)["key"] == {"id": 2} for x in lines)


def test_timeline_with_the_journal_off_uses_memory(make_window, qloop):
    w = make_window(journal=False)
    w.hub.events_arrived.emit(orders(20, time.time()))
    ev = w.event_model.all_events()[-1]
    dlg = w.history.open_timeline(ev)
    assert len(dlg.entries) == 4 and "memory" in dlg.header.text()


def test_history_dock_rates_and_statistics(make_window, qloop):
    w = make_window()
    dockw = w.history.dock_widget
    assert not dockw.listening  # hidden: not even connected to the hub
    now = time.time()
    w.hub.events_arrived.emit(orders(200, now - 100))
    w.history.link.flush()
    w.history.dock.show()
    assert dockw.listening
    run_until(qloop, lambda: dockw.graph.series, timeout=10)
    assert set(dockw.graph.series) == {"orders", "audit"}
    w.hub.events_arrived.emit([new_event(1, time.time(), "shop", "live", 1, "x")] * 5)
    dockw.redraw()
    assert sum(dockw.graph.series["live"]) == 5
    w.resizeDocks([w.history.dock], [300], __import__("PySide6.QtCore").QtCore.Qt.Vertical)
    shot(w, "window-history-1280.png")
    dockw.mode.setCurrentIndex(1)
    run_until(qloop, lambda: any("UPDATE" in s for s in dockw.graph.series), timeout=10)
    dockw.tabs.setCurrentIndex(1)
    dockw.scope.setCurrentIndex(1)  # journal, last hour
    run_until(qloop, lambda: dockw.stats is not None and dockw.stats.notifications >= 200,
              timeout=10)
    st = dockw.stats
    assert st.by_channel["audit"] == 67 and st.by_op["INSERT"] == 5
    assert st.top_keys(1)[0][1] == 40
    shot(w, "window-statistics-1920.png", (1920, 1080))
    w.history.dock.hide()
    assert not dockw.listening


def test_older_events_page_back_with_the_live_filter(make_window, qloop):
    w = make_window(capacity=50)
    t0 = time.time() - 3600
    evs = orders(400, t0)
    for a in range(0, 400, 40):
        w.hub.events_arrived.emit(evs[a:a + 40])
    assert w.event_model.rowCount() == 50
    w.event_screen.filter_bar.set_text("audit")
    w.event_screen.filter_bar.apply_now()
    win = w.history.open_older()
    run_until(qloop, lambda: win.model.rowCount() > 0, timeout=10)
    older = win.model.all_events()
    assert all(e.channel == "audit" for e in older)
    assert older[-1].received_at < w.event_model.all_events()[0].received_at
    assert len(older) == len([e for e in evs[:350] if e.channel == "audit"])
    assert win.exhausted
    shot(win, "older-events.png")


def test_many_pages(make_window, qloop, monkeypatch):
    from pgwatch_gui.ui.history import older_events

    monkeypatch.setattr(older_events, "PAGE", 30)
    w = make_window(capacity=10)
    evs = orders(200, time.time() - 500)
    w.hub.events_arrived.emit(evs)
    win = w.history.open_older()
    run_until(qloop, lambda: win.model.rowCount() == 30, timeout=10)

    async def more():
        while not win.exhausted:
            await win.load_older()

    qloop.run_until_complete(asyncio.wait_for(more(), 20))
    assert [e.payload for e in win.model.all_events()] == [e.payload for e in evs[:190]]


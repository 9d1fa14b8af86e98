"""The event screen in the main window: filter bar, table, flow controls, export, shots."""

from __future__ import annotations

import json
import os
import random

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from pgwatch_gui.core.stream.events import Event, make_gap
from pgwatch_gui.core.stream.recording import read_jsonl
from pgwatch_gui.ui.events.columns import COL_PAYLOAD
from pgwatch_gui.ui.inspector.dock import TAB_DIFF
from pgwatch_gui.ui.shell.main_window import MainWindow
from tests.ui.windows import shown_window

SHOTS = os.environ.get("PGWATCH_SHOTS", "/tmp/shots/issue3")
STATUSES = ("new", "paid", "packed", "shipped", "delivered")


def sample_events(n: int = 1000, seed: int = 7, start: float = 1_763_719_200.0) -> list[Event]:
    """A realistic mix: this tool's envelope, the seeds' shapes, text, own sends, a gap."""
    rng = random.Random(seed)
    t = start
    out: list[Event] = []
    for i in range(n):
        t += rng.uniform(0.005, 0.4)
        r = rng.random()
        if i == n * 3 // 5:
            out.append(make_gap(i, "Demo", t - 4.2, t, "server closed the connection "
                                "unexpectedly"))
            continue
        if r < 0.62:
            op = rng.choice(("INSERT", "UPDATE", "UPDATE", "UPDATE", "DELETE"))
            oid = rng.randint(1, 9000)
            table = rng.choice(("orders", "orders", "order_items", "customers"))
            row = {"id": oid, "customer": rng.choice(("alice", "bob", "carol", "dave")),
                   "status": rng.choice(STATUSES), "total": round(rng.uniform(5, 500), 2)}
            old = dict(row, status=rng.choice(STATUSES))
            payload = {"v": 1, "op": op, "schema": "public", "table": table,
                       "key": {"id": oid}, "row": row if op != "DELETE" else None,
                       "old": old if op != "INSERT" else None, "txid": 81_000 + i,
                       "ts": "2026-11-21T10:00:00.123456+00:00"}
            out.append(Event(i, t, "Demo", "orders", 41_877, json.dumps(payload)))
        elif r < 0.76:
            out.append(Event(i, t, "Staging", "article_changes", 52_301, json.dumps(
                {"operation": rng.choice(("INSERT", "UPDATE", "DELETE")),
                 "record_id": rng.randint(1, 900)})))
        elif r < 0.86:
            out.append(Event(i, t, "Staging", "record_changes", 52_301, json.dumps(
                {"id": rng.randint(1, 99), "name": "widget", "price": 9.99})))
        elif r < 0.95:
            out.append(Event(i, t, "Demo", f"user_notifications_{rng.randint(1, 60)}", 41_880,
                             json.dumps({"table": "public.notification", "operation": "INSERT",
                                         "data": {"id": rng.randint(1, 99),
                                                  "message": "Your order shipped",
                                                  "type": "info"}})))
        else:
            out.append(Event(i, t, "Demo", "my_channel", 41_877,
                             "cache flush requested by admin", own=rng.random() < 0.6))
    return out


@pytest.fixture
def window(qtbot, tmp_path, qloop):
    """The window with its loop, as the app has it: whatever it starts runs, and ends
    with it (without a loop, a started task was left pending and failed a later test)."""
    w = shown_window(qtbot, tmp_path, (1500, 900))
    qtbot.waitExposed(w)
    yield w
    qloop.run_until_complete(w.shutdown())


def test_filter_bar_drives_the_model(window, qtbot):
    scr = window.event_screen
    window.event_model.append_events(sample_events(300))
    total = window.event_model.rowCount()
    bar = scr.filter_bar
    bar.set_text("widget")
    bar.apply_now()
    n = window.event_model.rowCount()
    assert 0 < n < total
    assert all(e.is_gap or "widget" in e.payload for e in window.event_model.events())
    # debounced typing applies by itself
    bar.text.setText("alice")
    qtbot.waitUntil(lambda: window.event_model.filter.spec.text == "alice", timeout=2000)
    # a bad regex shows inline and leaves the text filter off
    bar.regex.setChecked(True)
    bar.set_text("(alice")
    bar.apply_now()
    assert bar.error.isVisible() and "invalid regular expression" in bar.error.text()
    assert bar.text.property("invalid") is True
    bar.set_text("alice|bob")
    bar.apply_now()
    assert not bar.error.isVisible()
    # a field condition
    bar.reset()
    bar.set_fields("row.status = shipped and op = UPDATE")
    assert all(e.is_gap or (e.op == "UPDATE" and '"status": "shipped"' in e.payload)
               for e in window.event_model.events())
    bar.set_fields("row.status =")
    assert "Field:" in bar.error.text()
    bar.reset()
    assert window.event_model.rowCount() == total


def test_context_menu_filters_to_channel_table_op(window):
    scr = window.event_screen
    window.event_model.append_events(sample_events(200))
    scr.table.filter_requested.emit("channel", "article_changes")
    assert scr.filter_bar.channel_picker.selected == {"article_changes"}
    assert {e.channel for e in window.event_model.events() if not e.is_gap} == \
        {"article_changes"}
    scr.filter_bar.reset()
    scr.table.filter_requested.emit("table", "public.customers")
    scr.table.filter_requested.emit("op", "DELETE")
    got = [e for e in window.event_model.events() if not e.is_gap]
    assert got and all(e.op == "DELETE" and e.qualified_table == "public.customers" for e in got)
    assert scr.filter_bar.table_picker.text().startswith("Table: public.cust")  # cut
    assert scr.filter_bar.table_picker.toolTip() == "public.customers"


def test_pickers_offer_what_was_seen(window):
    window.event_model.append_events(sample_events(200))
    channels, ops, tables = window.event_screen.seen_values()
    assert {"orders", "article_changes", "my_channel"} <= channels
    assert {"public.orders", "public.customers", "public.notification"} <= tables
    assert "UPDATE" in ops


def test_selection_survives_refilter_and_feeds_the_inspector(window, qtbot):
    scr = window.event_screen
    model = window.event_model
    model.append_events(sample_events(400))
    scr.table.set_follow(False)
    row = next(r for r in range(model.rowCount()) if model.event(r).channel == "record_changes")
    chosen = model.event(row)
    scr.table.selectRow(row)
    assert scr.inspector.event is chosen
    scr.filter_bar.set_text("widget")
    scr.filter_bar.apply_now()
    assert scr.table.current_event() is chosen
    scr.filter_bar.set_text("nothing matches this")
    scr.filter_bar.apply_now()
    assert scr.inspector.event is None


def test_follow_newest_and_scrolling_away(window, qtbot):
    scr = window.event_screen
    model = window.event_model
    model.append_events(sample_events(500))
    QApplication.processEvents()
    sb = scr.table.verticalScrollBar()
    assert scr.table.follow and sb.value() == sb.maximum()
    sb.triggerAction(sb.SliderAction.SliderToMinimum)
    assert not scr.table.follow and not scr.action_follow.isChecked()
    model.append_events(sample_events(50, seed=3))
    QApplication.processEvents()
    assert sb.value() == 0
    scr.action_follow.setChecked(True)
    QApplication.processEvents()
    assert sb.value() == sb.maximum()


def test_pause_resume_and_clear_actions(window):
    scr = window.event_screen
    model = window.event_model
    model.append_events(sample_events(100))
    scr.action_pause.trigger()
    assert model.paused and scr.action_pause.text() == "Resume"
    model.append_events(sample_events(40, seed=2))
    assert model.rowCount() == 100 and model.waiting == 40
    scr.status.refresh()
    assert "40 waiting" in scr.status.paused.text()
    scr.action_pause.trigger()
    assert not model.paused and model.rowCount() == 140
    scr.action_clear.trigger()
    assert model.rowCount() == 0 and scr.inspector.event is None


def test_ctrl_f_focuses_the_filter(window, qtbot):
    window.activateWindow()
    window.event_screen.table.setFocus()
    window.event_screen.filter_bar.focus_action.trigger()
    assert window.event_screen.filter_bar.text.hasFocus() or \
        QApplication.focusWidget() is window.event_screen.filter_bar.text


def test_status_counts(window):
    scr = window.event_screen
    window.event_model.append_events(sample_events(120))
    scr.filter_bar.set_text("widget")
    scr.filter_bar.apply_now()
    scr.status.refresh()
    text = scr.status.counts.text()
    assert f"of {window.event_model.buffered:,}" in text and "shown" in text


def test_export_and_reopen_round_trip(window, qloop, tmp_path):
    scr = window.event_screen
    model = window.event_model
    events = sample_events(300)
    model.append_events(events)
    scr.filter_bar.set_text("widget")
    scr.filter_bar.apply_now()
    shown = model.events()
    path = str(tmp_path / "rows.jsonl")
    from pgwatch_gui.ui.events.recordings import export_with_dialog

    n = qloop.run_until_complete(export_with_dialog(window, shown, path, lambda _m: None))
    assert n == len(shown)
    back, reader = read_jsonl(path)
    assert reader.skipped == 0 and [e.payload for e in back] == [e.payload for e in shown]
    csv_path = str(tmp_path / "rows.csv")
    qloop.run_until_complete(export_with_dialog(window, shown, csv_path, lambda _m: None))
    with open(csv_path, encoding="utf-8") as f:
        assert f.read().count("\n") >= len(shown) + 1
    # reopen into the table
    scr.filter_bar.reset()
    model.clear()
    qloop.run_until_complete(scr.open_recording(path))
    assert [e.payload for e in model.all_events()] == [e.payload for e in shown]
    assert scr.recording == path
    assert "Opened rows.jsonl" in window.statusBar().currentMessage()


def test_export_cancel_leaves_no_file(window, qloop, tmp_path):
    from pgwatch_gui.ui.events.recordings import export_to_path

    path = tmp_path / "big.jsonl"
    calls = []

    def progress(done, total):
        calls.append(done)
        return len(calls) < 2

    import asyncio

    with pytest.raises(asyncio.CancelledError):
        qloop.run_until_complete(export_to_path(sample_events(9000), str(path),
                                                progress=progress))
    assert not path.exists() and not (tmp_path / "big.jsonl.part").exists()


def test_settings_persist_column_widths(window, tmp_path):
    scr = window.event_screen
    scr.table.setColumnWidth(2, 231)
    window.save_state()
    other = MainWindow()
    try:
        other.restore_state()
        assert other.event_screen.table.columnWidth(2) == 231
    finally:
        other.close()
        other.deleteLater()


def test_columns_can_be_hidden_and_payload_fills_the_rest(window):
    from pgwatch_gui.ui.events.columns import COL_PID
    from pgwatch_gui.ui.events.table import MIN_PAYLOAD_WIDTH

    table = window.event_screen.table
    hh = table.horizontalHeader()
    window.resize(2400, 900)
    QApplication.processEvents()
    assert hh.visualIndex(COL_PAYLOAD) == hh.count() - 1
    assert not window.event_screen.filter_bar._two_rows
    before = table.columnWidth(COL_PAYLOAD)
    table.set_column_visible(COL_PID, False)
    assert hh.isSectionHidden(COL_PID)
    assert table.columnWidth(COL_PAYLOAD) > before
    window.resize(600, 600)
    QApplication.processEvents()
    assert table.columnWidth(COL_PAYLOAD) >= MIN_PAYLOAD_WIDTH
    assert window.event_screen.filter_bar._two_rows


def test_fast_painter_matches_the_model(window):
    """The row painter reads the same cached strings the model serves to Qt."""
    model = window.event_model
    model.append_events(sample_events(60))
    table = window.event_screen.table
    table.fast_paint = True
    fast = table.viewport().grab()
    table.fast_paint = False
    qt = table.viewport().grab()
    table.fast_paint = True
    assert fast.size() == qt.size() and not fast.toImage().isNull()
    assert model.index(model.rowCount() - 1, COL_PAYLOAD).data()


def test_screenshots(window, qtbot):
    """Main window with a thousand events; the inspector on an UPDATE diff."""
    os.makedirs(SHOTS, exist_ok=True)
    window.resize(1800, 1000)  # a desktop monitor's window
    scr = window.event_screen
    model = window.event_model
    model.append_events(sample_events(1000))
    model.set_profile_color("Demo", QColor("#2f81f7"))
    model.set_profile_color("Staging", QColor("#d29922"))
    for r in range(model.rowCount() - 1, 0, -1):
        e = model.event(r)
        if e.op == "UPDATE" and e.channel == "orders" and model.rowCount() - r > 6:
            scr.table.selectRow(r)
            break
    scr.status.refresh()
    QApplication.processEvents()
    assert window.grab().save(os.path.join(SHOTS, "main_window.png"))
    scr.inspector.show_diff_tab()
    assert scr.inspector.tabs.currentIndex() == TAB_DIFF
    QApplication.processEvents()
    assert scr.inspector.grab().save(os.path.join(SHOTS, "inspector_update_diff.png"))
    # the gap row, centred
    gap_row = next(r for r in range(model.rowCount()) if model.event(r).is_gap)
    scr.table.set_follow(False)
    scr.table.selectRow(gap_row - 3)
    scr.table.scrollTo(model.index(gap_row, 0), scr.table.ScrollHint.PositionAtCenter)
    QApplication.processEvents()
    assert window.grab().save(os.path.join(SHOTS, "main_window_gap.png"))
    # the event screen alone (the Tables dock of the trigger manager closed)
    tables = getattr(window, "tables_browser", None)
    dock = tables.parentWidget() if tables is not None else None
    if dock is not None:
        dock.hide()
    scr.table.set_follow(True)
    scr.table.selectRow(model.rowCount() - 8)
    QApplication.processEvents()
    assert window.grab().save(os.path.join(SHOTS, "main_window_event_screen.png"))
    # a filter in use
    scr.filter_bar.set_fields("row.status = shipped")
    scr.filter_bar.restrict("op", "UPDATE")
    scr.table.set_follow(True)
    QApplication.processEvents()
    assert window.grab().save(os.path.join(SHOTS, "main_window_filtered.png"))
    assert scr.inspector.isVisible()

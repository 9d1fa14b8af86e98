"""The event screen against a real server: channels, send, status bar, queue usage."""

from __future__ import annotations

import asyncio
import os

import psycopg
import pytest
from PySide6.QtGui import QColor

from pgwatch_gui.core.pg.connection import make_conninfo
from pgwatch_gui.core.pg.notify import MAX_PAYLOAD_BYTES
from pgwatch_gui.core.stream.status import State
from pgwatch_gui.ui.events.send import SendDialog
from tests.ui.waiting import until
from tests.ui.windows import shown_window

SHOTS = os.environ.get("PGWATCH_SHOTS", "/tmp/shots/issue3")


def notify(dsn: str, channel: str, payload: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SELECT pg_notify(%s, %s)", (channel, payload))


@pytest.fixture
def window(qtbot, tmp_path, qloop):
    w = shown_window(qtbot, tmp_path, (1400, 860))
    yield w
    qloop.run_until_complete(w.shutdown())


def test_channels_add_and_remove_while_connected(window, qloop, pg_dsn):
    hub = window.hub
    panel = window.event_screen.channels
    model = window.event_model

    async def main():
        lst = hub.open("local", make_conninfo(pg_dsn), ["first"])
        await lst.wait_listening(10)
        await until(lambda: panel.channels() == ["first"])
        assert panel.current == "local"
        # add a channel with a space and capitals: it must be quoted on LISTEN
        panel.entry.setText("Order Events")
        await panel.add_clicked()
        assert lst.channels == ("first", "Order Events")
        assert panel.channels() == ["first", "Order Events"]
        assert "Listening on Order Events" in panel.message.text()
        await asyncio.to_thread(notify, pg_dsn, "Order Events", '{"op": "INSERT"}')
        await until(lambda: model.rowCount() == 1)
        assert model.event(0).channel == "Order Events"
        # a bad name is refused before anything is sent
        panel.entry.setText("x" * 64)
        assert panel.add_clicked() is None
        assert "63" in panel.message.text()
        # remove it again: nothing arrives any more on it
        panel.list.item(1).setSelected(True)
        await panel.remove_clicked()
        assert lst.channels == ("first",)
        assert panel.channels() == ["first"]
        await asyncio.to_thread(notify, pg_dsn, "Order Events", "gone")
        await asyncio.to_thread(notify, pg_dsn, "first", "still here")
        await until(lambda: model.rowCount() == 2)
        assert model.event(1).payload == "still here"

    qloop.run_until_complete(main())


def test_send_dialog_counts_bytes_and_comes_back_dimmed(window, qloop, pg_dsn, qtbot):
    hub = window.hub
    model = window.event_model

    async def main():
        lst = hub.open("local", make_conninfo(pg_dsn), ["orders"])
        await lst.wait_listening(10)
        dlg = SendDialog(hub, window)
        qtbot.addWidget(dlg)
        assert dlg.connection.currentText() == "local"
        assert dlg.channel.currentText() == "orders"
        dlg.payload.setPlainText('{"op": "UPDATE", "note": "é"}')
        assert dlg.byte_count() == 30  # é is two bytes
        assert dlg.counter.text() == "30 / 7,999 bytes"
        assert dlg.json_state.text() == "Valid JSON."
        assert dlg.send_button.isEnabled()
        dlg.payload.setPlainText("not json {")
        assert dlg.json_state.text().startswith("Not JSON")
        assert dlg.send_button.isEnabled()  # text is allowed
        dlg.payload.setPlainText("é" * 4000)
        assert dlg.byte_count() == 8000
        assert not dlg.send_button.isEnabled()
        assert "1 byte too long" in dlg.message.text()
        dlg.payload.setPlainText("x" * MAX_PAYLOAD_BYTES)
        assert dlg.send_button.isEnabled()
        dlg.channel.setEditText("")
        assert not dlg.send_button.isEnabled()
        dlg.channel.setEditText("orders")
        dlg.payload.setPlainText('{"hello":  "world"}')
        dlg.compact_button.click()
        assert dlg.payload.toPlainText() == '{"hello":"world"}'
        await dlg.send()
        assert dlg.sent == 1 and "shows dimmed" in dlg.message.text()
        await until(lambda: model.rowCount() == 1)
        ev = model.event(0)
        assert ev.own and ev.payload == '{"hello":"world"}'
        dlg.close()

    qloop.run_until_complete(main())


def test_status_bar_and_queue_usage(window, qloop, pg_dsn):
    hub = window.hub
    status = window.event_screen.status
    status.monitor.interval = 0.2

    async def main():
        lst = hub.open("local", make_conninfo(pg_dsn), ["orders", "Order Events"])
        await lst.wait_listening(10)
        await until(lambda: "local" in status.monitor.usage)
        for i in range(30):
            await asyncio.to_thread(notify, pg_dsn, "orders",
                                    f'{{"v": 1, "op": "INSERT", "schema": "public", '
                                    f'"table": "orders", "key": {{"id": {i}}}}}')
        await until(lambda: window.event_model.rowCount() == 30)
        status.refresh()
        w = status.connections["local"]
        assert "listening on orders, Order Events" in w.text.text()
        assert "30 received" in w.text.text()
        assert status.queue.isVisible() and status.queue.text().startswith("queue ")
        assert 0.0 <= status.monitor.usage["local"] < 0.5
        assert "#cf222e" not in status.queue.styleSheet()
        # the hook the profiles dock uses to colour a connection
        window.event_model.set_profile_color("local", QColor("#8250df"))
        table = window.event_screen.table
        table.selectRow(window.event_model.rowCount() - 2)
        await asyncio.sleep(0.05)  # the loop lays it out (no processEvents() in a coroutine)
        os.makedirs(SHOTS, exist_ok=True)
        assert window.grab().save(os.path.join(SHOTS, "main_window_live.png"))
        # the connection goes away: reconnecting, attempt k, reason
        with psycopg.connect(pg_dsn, autocommit=True) as c:
            c.execute("SELECT pg_terminate_backend(%s)", (lst.backend_pid,))
        await until(lambda: w.status is not None and w.status.state in
                    (State.RECONNECTING, State.LISTENING) and lst.gaps == 1, 15)
        await until(lambda: window.event_model.rowCount() == 31, 15)
        assert window.event_model.event(30).is_gap

    qloop.run_until_complete(main())


def test_queue_warning_above_half(window):
    status = window.event_screen.status
    status.monitor.usage["far"] = 0.62
    status._refresh_queue()
    assert status.queue.text() == "queue 62.0%"
    assert "#cf222e" in status.queue.styleSheet()
    assert "every transaction that calls pg_notify fails" in status.queue.toolTip()
    status.monitor.usage.clear()
    status.monitor.errors["far"] = "connection refused"
    status._refresh_queue()
    assert status.queue.text() == "queue ?"
    assert "connection refused" in status.queue.toolTip()


def test_reconnecting_text_counts_down(window):
    from pgwatch_gui.core.stream.status import Status
    from pgwatch_gui.ui.events.status import ConnectionStatus

    w = ConnectionStatus("far")
    w.set_status(Status(State.RECONNECTING, "far", attempt=3, delay=4.0, reason="refused"))
    assert w.describe_state() in ("reconnecting in 4 s (attempt 3)",
                                  "reconnecting in 3 s (attempt 3)")
    w.set_status(Status(State.FAILED, "far", reason="password authentication failed"))
    assert w.describe_state() == "failed: password authentication failed"


def test_pause_while_streaming_reading_goes_on(window, qloop, pg_dsn):
    hub = window.hub
    model = window.event_model
    scr = window.event_screen

    def burst(n: int, first: int) -> None:
        with psycopg.connect(pg_dsn, autocommit=True) as c:
            c.execute("SELECT pg_notify('orders', 'n' || g) "
                      "FROM generate_series(%s::int, %s::int) g", (first, first + n - 1))

    async def main():
        lst = hub.open("local", make_conninfo(pg_dsn), ["orders"])
        await lst.wait_listening(10)
        await asyncio.to_thread(burst, 100, 1)
        await until(lambda: model.rowCount() == 100)
        scr.action_pause.trigger()
        await asyncio.to_thread(burst, 3000, 101)
        await until(lambda: lst.received == 3100)  # the listener kept reading
        await until(lambda: model.waiting == 3000)
        assert model.rowCount() == 100
        scr.status.refresh()
        assert "3,000 waiting" in scr.status.paused.text()
        scr.action_pause.trigger()
        assert model.rowCount() == 3100 and model.waiting == 0
        assert [model.event(r).payload for r in (0, 3099)] == ["n1", "n3100"]
        # a big batch switches the connection to the busy cadence; small ones back
        from pgwatch_gui.ui.common import hub as hubmod

        await asyncio.to_thread(burst, 5000, 4000)
        await until(lambda: model.rowCount() == 8100)
        assert lst.batch_interval in (hubmod.BUSY_INTERVAL, hubmod.QUIET_INTERVAL)
        for i in range(3):
            await asyncio.to_thread(notify, pg_dsn, "orders", f"quiet{i}")
            await until(lambda i=i: model.rowCount() == 8101 + i)
        assert lst.batch_interval == hubmod.QUIET_INTERVAL

    qloop.run_until_complete(main())

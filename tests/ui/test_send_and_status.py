"""The Send dialog keeps what was last sent; the status bar's channel list (issue 11)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from pgwatch_gui.core.stream.status import State, Status
from pgwatch_gui.ui.common.hub import ConnectionHub
from pgwatch_gui.ui.events.send import SendDialog
from pgwatch_gui.ui.events.status import ConnectionStatus


@pytest.fixture(autouse=True)
def settings(tmp_path):
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    QSettings().clear()
    yield
    QSettings().clear()


def test_send_dialog_remembers_the_last_channel_and_payload(qtbot):
    hub = ConnectionHub()
    dlg = SendDialog(hub, channel="orders")
    qtbot.addWidget(dlg)
    assert dlg.channel.currentText() == "orders" and dlg.payload.toPlainText() == ""
    dlg.channel.setEditText("Order Events")
    dlg.payload.setPlainText('{"op": "UPDATE", "id": 42}')
    dlg.reject()  # Close, or Esc
    again = SendDialog(hub, channel="orders")  # a row on another channel is selected
    qtbot.addWidget(again)
    assert again.channel.currentText() == "Order Events"
    assert again.payload.toPlainText() == '{"op": "UPDATE", "id": 42}'


def test_status_bar_lists_every_channel_in_its_tooltip(qtbot):
    channels = ("shop_orders", "shop_order_items", "shop_customers", "product_changes",
                "user_notifications_1", "user_notifications_2", "user_notifications_3")
    w = ConnectionStatus("Demo")
    qtbot.addWidget(w)
    w.set_status(Status(State.LISTENING, "Demo", pid=4242, channels=channels))
    text = w.text.text()
    assert "listening on 7 channels: shop_orders" in text and "(+" in text
    assert len(text) < 110, text  # the bar keeps room for the counts after it
    tip = w.toolTip()
    assert all(f"\n  {c}" in tip for c in channels), tip
    assert "listening backend pid 4242" in tip
    w.set_status(Status(State.LISTENING, "Demo", channels=("a", "b")))
    assert "listening on a, b" in w.text.text()

"""Send a notification from the window: channel, payload editor, JSON check, byte counter.

It goes out on the listening connection itself, so when the window listens on that
channel the notification comes back marked as its own (dimmed in the table).
"""

from __future__ import annotations

import asyncio
import json

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from pgwatch_gui.core.pg.connection import one_line
from pgwatch_gui.core.pg.notify import MAX_PAYLOAD_BYTES, NotifyError, check_channel, payload_size
from pgwatch_gui.ui.common.hub import ConnectionHub
from pgwatch_gui.ui.common.json_view import JsonText
from pgwatch_gui.ui.common.tasks import AsyncWork
from pgwatch_gui.ui.common.wording import counted

OK_COLOR = "#1a7f37"
WARN_COLOR = "#9a6700"
BAD_COLOR = "#cf222e"


class PayloadEditor(JsonText):
    def __init__(self, parent=None) -> None:
        super().__init__(parent, highlight=True)
        self.setReadOnly(False)
        self.setUndoRedoEnabled(True)
        self.setPlaceholderText('{"op": "UPDATE", "table": "orders", "id": 42}')


def remembered() -> tuple[str, str, str]:
    """(connection, channel, payload) of the last notification sent or typed."""
    s = QSettings()
    return tuple(str(s.value(f"send/{k}", "") or "")  # type: ignore[return-value]
                 for k in ("connection", "channel", "payload"))


class SendDialog(QDialog):
    """Opens with the last connection, channel and payload used (kept in QSettings);
    `connection` and `channel` (the selected row's) are used when nothing is kept."""

    def __init__(self, hub: ConnectionHub, parent=None, *, connection: str | None = None,
                 channel: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Send notification")
        self.setObjectName("send-dialog")
        self.hub = hub
        self._task: asyncio.Task | None = None
        self.work = AsyncWork(self)  # the one task runner (ui/common/tasks.py)
        self.sent = 0

        last_connection, last_channel, last_payload = remembered()
        if last_channel:
            channel = last_channel
        if last_connection in hub.names():
            connection = last_connection
        self.payload = PayloadEditor(self)
        self.payload.setPlainText(last_payload)
        self.connection = QComboBox(self)
        self.connection.addItems(hub.names())
        if connection:
            self.connection.setCurrentText(connection)
        self.connection.currentTextChanged.connect(self._fill_channels)
        self.channel = QComboBox(self)
        self.channel.setEditable(True)
        self.channel.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.channel.editTextChanged.connect(self.validate)
        self._fill_channels()
        if channel:
            self.channel.setEditText(channel)

        self.payload.textChanged.connect(self.validate)
        self.counter = QLabel(self)
        self.counter.setObjectName("byte-counter")
        self.counter.setTextFormat(Qt.TextFormat.PlainText)
        self.json_state = QLabel(self)
        self.json_state.setTextFormat(Qt.TextFormat.PlainText)
        self.json_state.setWordWrap(True)
        self.message = QLabel(self)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)

        self.format_button = QPushButton("Format JSON", self)
        self.format_button.clicked.connect(lambda: self._reformat(indent=2))
        self.compact_button = QPushButton("Compact", self)
        self.compact_button.setToolTip("Remove whitespace: fewer bytes against the limit")
        self.compact_button.clicked.connect(lambda: self._reformat(indent=None))
        self.send_button = QPushButton("Send", self)
        self.send_button.setDefault(False)
        self.send_button.setToolTip("Send (Ctrl+Enter)")
        self.send_button.clicked.connect(self.send)
        close = QPushButton("Close", self)
        close.clicked.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.send)

        form = QFormLayout()
        form.addRow("Connection", self.connection)
        form.addRow("Channel", self.channel)
        info = QHBoxLayout()
        info.addWidget(self.json_state, 1)
        info.addWidget(self.counter)
        buttons = QHBoxLayout()
        buttons.addWidget(self.format_button)
        buttons.addWidget(self.compact_button)
        buttons.addStretch(1)
        buttons.addWidget(self.send_button)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(QLabel("Payload", self))
        lay.addWidget(self.payload, 1)
        lay.addLayout(info)
        lay.addWidget(self.message)
        lay.addLayout(buttons)
        self.resize(560, 420)
        self.validate()

    def _fill_channels(self, *_args) -> None:
        text = self.channel.currentText()
        lst = self.hub.listener(self.connection.currentText())
        self.channel.blockSignals(True)
        self.channel.clear()
        if lst is not None:
            self.channel.addItems(list(lst.channels))
        self.channel.setEditText(text or (lst.channels[0] if lst and lst.channels else ""))
        self.channel.blockSignals(False)
        self.validate()

    # ---- checks ---------------------------------------------------------------------

    def byte_count(self) -> int:
        return payload_size(self.payload.toPlainText())

    def validate(self, *_args) -> bool:
        if not hasattr(self, "send_button"):
            return False  # still being built
        text = self.payload.toPlainText()
        size = payload_size(text)
        over = size > MAX_PAYLOAD_BYTES
        self.counter.setText(f"{size:,} / {MAX_PAYLOAD_BYTES:,} bytes")
        self.counter.setStyleSheet(f"color: {BAD_COLOR}; font-weight: bold;" if over else
                                   f"color: {WARN_COLOR};" if size > 7000 else "")
        self.counter.setToolTip("PostgreSQL refuses a payload of 8,000 bytes or more")
        is_json = False
        if not text.strip():
            self._state("Empty payload (allowed).", "")
        else:
            try:
                json.loads(text)
            except ValueError as exc:
                self._state(f"Not JSON ({exc}); it will be sent as text.", WARN_COLOR)
            else:
                is_json = True
                self._state("Valid JSON.", OK_COLOR)
        self.format_button.setEnabled(is_json)
        self.compact_button.setEnabled(is_json)
        channel_ok = True
        try:
            check_channel(self.channel.currentText())
        except NotifyError:
            channel_ok = False
        problem = ""
        if "\x00" in text:
            problem = "The payload contains a NUL character, which PostgreSQL cannot send."
        elif over:
            problem = f"{counted(size - MAX_PAYLOAD_BYTES, 'byte')} too long."
        ok = channel_ok and not problem and bool(self.connection.currentText()) and \
            (self._task is None or self._task.done())
        self.send_button.setEnabled(ok)
        if problem:
            self._say(problem, BAD_COLOR)
            self._problem_shown = True
        elif getattr(self, "_problem_shown", False):
            self._say("")
            self._problem_shown = False
        return ok

    def _state(self, text: str, color: str) -> None:
        self.json_state.setText(text)
        self.json_state.setStyleSheet(f"color: {color};" if color else "")

    def _say(self, text: str, color: str = "") -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {color};" if color else "")

    def _reformat(self, indent: int | None) -> None:
        try:
            value = json.loads(self.payload.toPlainText())
        except ValueError:
            return
        sep = (",", ": ") if indent else (",", ":")
        self.payload.setPlainText(json.dumps(value, indent=indent, ensure_ascii=False,
                                             separators=sep))

    def remember(self) -> None:
        s = QSettings()
        s.setValue("send/connection", self.connection.currentText())
        s.setValue("send/channel", self.channel.currentText())
        s.setValue("send/payload", self.payload.toPlainText())

    def done(self, result: int) -> None:  # closed (Close, Esc, the title bar's x)
        self.remember()
        super().done(result)

    # ---- sending --------------------------------------------------------------------

    def send(self) -> asyncio.Task | None:
        if not self.validate():
            return None
        name = self.connection.currentText()
        channel = self.channel.currentText()
        payload = self.payload.toPlainText()
        self.remember()
        self._task = self.work.spawn(self._send(name, channel, payload))
        self.send_button.setEnabled(False)
        return self._task

    async def _send(self, name: str, channel: str, payload: str) -> None:
        try:
            await self.hub.notify(name, channel, payload)
        except Exception as exc:
            self._say(f"Not sent: {one_line(exc)}", BAD_COLOR)
        else:
            self.sent += 1
            lst = self.hub.listener(name)
            back = lst is not None and channel in lst.channels
            self._say(f"Sent to {channel} ({counted(payload_size(payload), 'byte')})."
                      + (" It shows dimmed in the table as your own." if back else
                         " This window does not listen on that channel."), OK_COLOR)
        finally:
            self._task = None
            self.validate()

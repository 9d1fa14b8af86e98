"""The channels panel (a dock): LISTEN / UNLISTEN on an open connection while it runs."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.pg.connection import one_line
from pgwatch_gui.core.pg.notify import NotifyError, check_channel
from pgwatch_gui.core.stream.status import State, Status
from pgwatch_gui.ui.common.combo import refill_keeping_current
from pgwatch_gui.ui.common.hub import ConnectionHub
from pgwatch_gui.ui.common.tasks import AsyncWork


class ChannelsPanel(QWidget):
    def __init__(self, hub: ConnectionHub, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("channels-panel")
        self.hub = hub
        self._busy = 0
        self._state_shown = False  # the message says the connection's state (not a result)
        self.work = AsyncWork(self)

        self.connection = QComboBox(self)
        self.connection.setToolTip("The connection whose channels these are")
        self.connection.currentTextChanged.connect(self.refresh)
        self.list = QListWidget(self)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.entry = QLineEdit(self)
        self.entry.setPlaceholderText("channel name, exactly as pg_notify spells it")
        self.entry.returnPressed.connect(self.add_clicked)
        self.entry.textChanged.connect(self._update_buttons)
        self.add_button = QPushButton("Listen", self)
        self.add_button.clicked.connect(self.add_clicked)
        self.remove_button = QPushButton("Stop listening", self)
        self.remove_button.clicked.connect(self.remove_clicked)
        self.message = QLabel(self)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(QLabel("Connection", self))
        top.addWidget(self.connection, 1)
        add = QHBoxLayout()
        add.addWidget(self.entry, 1)
        add.addWidget(self.add_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(top)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignRight)
        lay.addLayout(add)
        lay.addWidget(self.message)

        hub.connections_changed.connect(self._sync_connections)
        hub.status_changed.connect(self._on_status)
        self._sync_connections()

    # ---- state ------------------------------------------------------------------------

    @property
    def current(self) -> str | None:
        return self.connection.currentText() or None

    def channels(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _sync_connections(self) -> None:
        refill_keeping_current(self.connection, self.hub.names())
        self.refresh()

    def _on_status(self, name: str, status: Status) -> None:
        if name == self.current:
            self.refresh()

    def refresh(self, *_args) -> None:
        name = self.current
        lst = self.hub.listener(name) if name else None
        chans = list(lst.channels) if lst else []
        if chans != self.channels():
            selected = {i.text() for i in self.list.selectedItems()}
            self.list.clear()
            self.list.addItems(chans)
            for i in range(self.list.count()):
                self.list.item(i).setSelected(self.list.item(i).text() in selected)
        if not self._busy:
            state_text = ""
            if lst is None:
                state_text = ("Open a connection to choose its channels."
                              if not self.hub.names() else "")
            elif lst.status.state is not State.LISTENING:
                state_text = (f"{name} is {lst.status.describe()}; changes apply when it "
                              "listens.")
            if state_text:
                self._say(state_text)
                self._state_shown = True
            elif self._state_shown:
                self._say("")
                self._state_shown = False
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.current is not None and not self._busy
        self.add_button.setEnabled(has and bool(self.entry.text().strip()))
        self.remove_button.setEnabled(has and bool(self.list.selectedItems()))
        self.entry.setEnabled(self.current is not None)

    # ---- gestures ---------------------------------------------------------------------

    def add_clicked(self) -> asyncio.Task | None:
        name = self.current
        channel = self.entry.text().strip()
        if not name or not channel:
            return None
        try:
            check_channel(channel)
        except NotifyError as exc:
            self._say(str(exc), error=True)
            return None
        if channel in self.channels():
            self._say(f"Already listening on {channel}.")
            return None
        return self._run(self._listen(name, channel))

    def remove_clicked(self) -> asyncio.Task | None:
        name = self.current
        chans = [i.text() for i in self.list.selectedItems()]
        if not name or not chans:
            return None
        return self._run(self._unlisten(name, chans))

    def _run(self, coro) -> asyncio.Task:
        self._busy += 1
        self._update_buttons()
        return self.work.spawn(coro, on_done=self._done,
                               on_error=lambda e: (self._say(e, error=True), self._done()))

    def _done(self, _result=None) -> None:
        self._busy -= 1
        self.refresh()

    async def _listen(self, name: str, channel: str) -> None:
        try:
            await self.hub.listen(name, channel)
        except Exception as exc:
            self._say(f"Could not listen on {channel}: {one_line(exc)}", error=True)
        else:
            self.entry.clear()
            self._say(f"Listening on {channel}.")

    async def _unlisten(self, name: str, channels: list[str]) -> None:
        for ch in channels:
            try:
                await self.hub.unlisten(name, ch)
            except Exception as exc:
                self._say(f"Could not stop listening on {ch}: {one_line(exc)}", error=True)
                return
        self._say("Stopped listening on " + ", ".join(channels) + ".")

    def _say(self, text: str, error: bool = False) -> None:
        self._state_shown = False
        self.message.setText(text)
        self.message.setStyleSheet("color: #cf222e;" if error else "")

"""A SQL console for trying triggers out: run statements, then Commit or Rollback.

Statements run in a transaction on their own connection (core.console); each run
is undone on its own if it fails. The notifications a commit releases reach the
event table through the hub, like any others, when the hub listens on the channel.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.triggers.console import ConsoleSession, RunResult
from pgwatch_gui.ui.common.combo import refill_keeping_current
from pgwatch_gui.ui.common.hub import ConnectionHub
from pgwatch_gui.ui.common.tasks import AsyncWork


class SqlConsole(QWidget):
    finished = Signal()  # after each run, commit or rollback (tests wait for it)

    def __init__(self, hub: ConnectionHub, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self.work = AsyncWork(self)
        self.session: ConsoleSession | None = None
        mono = QFontDatabase.systemFont(QFontDatabase.FixedFont)

        self.connection = QComboBox()
        self.connection.currentTextChanged.connect(self._connection_changed)
        self.state = QLabel("")
        self.run_btn = QPushButton("Run", clicked=self.run)
        self.run_btn.setToolTip("Run the statements in the open transaction (Ctrl+Return)")
        self.commit_btn = QPushButton("Commit", clicked=self.commit)
        self.rollback_btn = QPushButton("Rollback", clicked=self.rollback)
        top = QHBoxLayout()
        top.addWidget(QLabel("Connection"))
        top.addWidget(self.connection, 1)
        top.addWidget(self.state)
        for b in (self.run_btn, self.commit_btn, self.rollback_btn):
            top.addWidget(b)

        self.editor = QPlainTextEdit()
        self.editor.setFont(mono)
        self.editor.setPlaceholderText(
            "INSERT INTO orders (status) VALUES ('new');\n"
            "-- Run, then Commit: the trigger's notifications arrive in the event table.")
        QShortcut(QKeySequence("Ctrl+Return"), self.editor, activated=self.run)
        self.rows = QTableWidget()
        self.rows.setEditTriggers(QTableWidget.NoEditTriggers)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setFont(mono)
        self.log.setMaximumBlockCount(2000)

        lower = QSplitter(Qt.Horizontal)
        lower.addWidget(self.rows)
        lower.addWidget(self.log)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.editor)
        split.addWidget(lower)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        hub.connections_changed.connect(self._sync_connections)
        self.work.busy_changed.connect(lambda _b: self._sync())
        self._sync_connections()

    # ---- connection ----
    def _sync_connections(self) -> None:
        if refill_keeping_current(self.connection, self.hub.names()):
            self._connection_changed(self.connection.currentText())
        self._sync()

    def _connection_changed(self, name: str) -> None:
        old = self.session
        self.session = None
        if old is not None:
            if old.in_transaction:
                self._say("-- connection changed: the open transaction was rolled back")
            self.work.spawn(old.close())
        conninfo = self.hub.conninfo(name) if name else None
        if conninfo:
            self.session = ConsoleSession(conninfo, route=self.hub.route(name))
        self._sync()

    def _sync(self) -> None:
        s = self.session
        busy = self.work.busy
        open_tx = s is not None and s.in_transaction
        self.run_btn.setEnabled(s is not None and not busy)
        self.commit_btn.setEnabled(open_tx and not busy)
        self.rollback_btn.setEnabled(open_tx and not busy)
        if s is None:
            self.state.setText("no connection")
        elif open_tx:
            self.state.setText(f"transaction open ({s.statements} run(s))")
            self.state.setStyleSheet("color: #9a6700; font-weight: bold;")
        else:
            self.state.setText("no transaction")
            self.state.setStyleSheet("")

    def _say(self, text: str) -> None:
        self.log.appendPlainText(text)

    # ---- actions ----
    def run(self) -> None:
        if self.session is None or self.work.busy:
            return
        text = self.editor.textCursor().selectedText().replace("\u2029", "\n") or \
            self.editor.toPlainText()
        self.work.spawn(self.session.run(text), on_done=self._show,
                        on_error=lambda e: self._done(f"ERROR: {e}"))

    def _show(self, result: RunResult) -> None:
        for n in result.notices:
            self._say(n)
        if result.error:
            self._done(f"ERROR: {result.error}\n-- that run was undone; the transaction "
                       "stays open" if result.in_transaction else f"ERROR: {result.error}")
            return
        for r in result.results:
            extra = " (first rows shown)" if r.more_rows else ""
            self._say(f"{r.status}{extra}")
        last = next((r for r in reversed(result.results) if r.columns), None)
        if last is not None:
            self.rows.setColumnCount(len(last.columns))
            self.rows.setHorizontalHeaderLabels(last.columns)
            self.rows.setRowCount(len(last.rows))
            for i, row in enumerate(last.rows):
                for j, v in enumerate(row):
                    self.rows.setItem(i, j, QTableWidgetItem("NULL" if v is None else str(v)))
        affected = result.rows_affected
        self._done(f"-- {affected} row(s) affected; Commit to make them (and their "
                   "notifications) visible" if result.in_transaction else "-- done")

    def commit(self) -> None:
        if self.session is not None:
            self.work.spawn(self.session.commit(), on_done=lambda err: self._done(
                f"ERROR: {err}" if err else "COMMIT: notifications delivered to listeners"))

    def rollback(self) -> None:
        if self.session is not None:
            self.work.spawn(self.session.rollback(), on_done=lambda err: self._done(
                f"ERROR: {err}" if err else "ROLLBACK: nothing was changed, nothing notified"))

    def _done(self, text: str) -> None:
        self._say(text)
        self._sync()
        self.finished.emit()

    async def shutdown(self) -> None:
        if self.session is not None:
            await self.session.close()

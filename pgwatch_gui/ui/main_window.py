"""The main window: the live event table in the middle, docks around it.

Other features plug in as docks (`add_dock`) and menu entries; this module only
composes them.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTableView,
    QWidget,
)

from pgwatch_gui.core.connection import ConnectionConfigError, describe_target, make_conninfo
from pgwatch_gui.core.listener import State, Status
from pgwatch_gui.ui.event_model import EventTableModel
from pgwatch_gui.ui.hub import ConnectionHub
from pgwatch_gui.ui.profiles_panel import install_profiles_panel
from pgwatch_gui.ui.trigger_docks import attach_trigger_manager


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, hub: ConnectionHub | None = None, *, capacity: int = 100_000) -> None:
        super().__init__()
        self.setWindowTitle("pgwatch-gui")
        self.resize(1200, 720)
        self.hub = hub or ConnectionHub(self)
        self.event_model = EventTableModel(capacity, self)
        self.hub.events_arrived.connect(self.event_model.append_events)

        self.table = QTableView(self)
        self.table.setModel(self.event_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        vh = self.table.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.setCentralWidget(self.table)
        self.follow_newest = True
        self.event_model.rowsInserted.connect(self._on_rows_inserted)

        self._build_menus()
        attach_trigger_manager(self)
        self._status_labels: dict[str, QLabel] = {}
        self._counts = QLabel(self)
        self.statusBar().addPermanentWidget(self._counts)
        self.hub.status_changed.connect(self._on_status)
        self.hub.connections_changed.connect(self._sync_status_labels)
        self._timer = QTimer(self, interval=500, timeout=self._update_counts)
        self._timer.start()
        self._update_counts()
        self.profiles_panel = install_profiles_panel(self)

    # ---- composition ----
    def _build_menus(self) -> None:
        mb = self.menuBar()
        self.menu_file = mb.addMenu("&File")
        self.menu_connection = mb.addMenu("&Connection")
        self.menu_view = mb.addMenu("&View")
        self.menu_tools = mb.addMenu("&Tools")
        self.menu_help = mb.addMenu("&Help")

        quit_act = QAction("&Quit", self, shortcut=QKeySequence.Quit, triggered=self.close)
        self.menu_file.addAction(quit_act)

        self.action_connect_dsn = QAction("Connect to &DSN...", self, triggered=self._ask_dsn)
        self.menu_connection.addAction(self.action_connect_dsn)

        self.toolbar = self.addToolBar("Main")
        self.toolbar.setObjectName("main-toolbar")
        self.action_clear = QAction("Clear", self, triggered=self.event_model.clear)
        self.action_clear.setToolTip("Remove every row from the table (reading goes on)")
        self.toolbar.addAction(self.action_clear)

        about = QAction("&About pgwatch-gui", self, triggered=self._about)
        self.menu_help.addAction(about)

    def add_dock(self, widget: QWidget, title: str, area: Qt.DockWidgetArea =
                 Qt.RightDockWidgetArea, name: str | None = None) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name or f"dock-{title.lower().replace(' ', '-')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.menu_view.addAction(dock.toggleViewAction())
        return dock

    # ---- connections ----
    def open_connection(self, name: str, conninfo: str, channels: list[str]) -> None:
        self.hub.open(name, conninfo, channels)

    def _ask_dsn(self) -> None:
        dsn, ok = QInputDialog.getText(self, "Connect", "Connection URI or key=value string:")
        if not ok:
            return
        chans, ok = QInputDialog.getText(self, "Connect", "Channels (comma-separated):")
        if not ok:
            return
        try:
            conninfo = make_conninfo(dsn)
        except ConnectionConfigError as exc:
            QMessageBox.warning(self, "Connect", str(exc))
            return
        name = describe_target(conninfo)
        channels = [c.strip() for c in chans.split(",") if c.strip()]
        try:
            self.open_connection(name, conninfo, channels)
        except ValueError as exc:
            QMessageBox.warning(self, "Connect", str(exc))

    # ---- status ----
    def _sync_status_labels(self) -> None:
        names = set(self.hub.names())
        for name in list(self._status_labels):
            if name not in names:
                self.statusBar().removeWidget(self._status_labels.pop(name))
        for name in names:
            if name not in self._status_labels:
                label = QLabel(self)
                self._status_labels[name] = label
                self.statusBar().addWidget(label)
                st = self.hub.status(name)
                if st is not None:
                    self._on_status(name, st)

    def _on_status(self, name: str, status: Status) -> None:
        if name not in self._status_labels:
            self._sync_status_labels()
        label = self._status_labels.get(name)
        if label is None:
            return
        label.setText(f"{name}: {status.describe()}")
        color = {State.LISTENING: "#1a7f37", State.RECONNECTING: "#9a6700",
                 State.FAILED: "#cf222e"}.get(status.state)
        label.setStyleSheet(f"color: {color};" if color else "")

    def _update_counts(self) -> None:
        received, dropped = self.hub.totals()
        shown = self.event_model.rowCount()
        text = f"received {received:,} · shown {shown:,}"
        if dropped:
            text += f" · dropped {dropped:,}"
        self._counts.setText(text)

    def _on_rows_inserted(self, *_args) -> None:
        if self.follow_newest:
            self.table.scrollToBottom()

    def _about(self) -> None:
        from pgwatch_gui.ui.about_dialog import show_about

        show_about(self)

    # ---- lifecycle ----
    def save_state(self) -> None:
        s = QSettings()
        s.setValue("main/geometry", self.saveGeometry())
        s.setValue("main/state", self.saveState())

    def restore_state(self) -> None:
        s = QSettings()
        if (g := s.value("main/geometry")) is not None:
            self.restoreGeometry(g)
        if (st := s.value("main/state")) is not None:
            self.restoreState(st)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self._timer.stop()
        super().closeEvent(event)
        self.closed.emit()

    async def shutdown(self) -> None:
        await self.sql_console.shutdown()
        await asyncio.wait_for(self.hub.close_all(), timeout=10)

"""The main window: the live event table in the middle, docks around it.

Other features plug in as docks (`add_dock`) and menu entries; this module only
composes them.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from pgwatch_gui.core.pg.connection import ConnectionConfigError, describe_target, make_conninfo
from pgwatch_gui.ui.common.hub import ConnectionHub
from pgwatch_gui.ui.events.model import EventTableModel
from pgwatch_gui.ui.profiles.panel import install_profiles_panel
from pgwatch_gui.ui.replication.watching import attach_change_streams
from pgwatch_gui.ui.shell import dock_layout
from pgwatch_gui.ui.shell.event_screen import EventScreen
from pgwatch_gui.ui.triggers.docks import attach_trigger_manager


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, hub: ConnectionHub | None = None, *, capacity: int = 100_000) -> None:
        super().__init__()
        self.setWindowTitle("pgwatch-gui")
        self.resize(1200, 720)
        self.hub = hub or ConnectionHub(self)
        self.event_model = EventTableModel(capacity, self)
        self.hub.events_arrived.connect(self.event_model.append_events)

        self._build_menus()
        # The live table, filter bar, inspector, channels, flow controls, status bar.
        self.event_screen = EventScreen(self)
        self.table = self.event_screen.table
        attach_trigger_manager(self)
        attach_change_streams(self)
        self.profiles_panel = install_profiles_panel(self)
        dock_layout.arrange(self)

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
    def raise_dock(self, name: str) -> None:
        """Bring a dock (by object name) to the front of its tab group."""
        dock_layout.raise_dock(self, name)

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

    def _about(self) -> None:
        from pgwatch_gui.ui.shell.about import show_about

        show_about(self)

    # ---- lifecycle ----
    def save_state(self) -> None:
        s = QSettings()
        s.setValue("main/geometry", self.saveGeometry())
        s.setValue("main/state", self.saveState(dock_layout.LAYOUT_VERSION))
        self.event_screen.save_settings(s)

    def restore_state(self) -> None:
        s = QSettings()
        if (g := s.value("main/geometry")) is not None:
            self.restoreGeometry(g)
        if (st := s.value("main/state")) is not None and \
                self.restoreState(st, dock_layout.LAYOUT_VERSION):
            dock_layout.mark_restored(self)
        self.event_screen.restore_settings(s)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        super().closeEvent(event)
        self.closed.emit()

    async def shutdown(self) -> None:
        await self.event_screen.shutdown()
        await self.sql_console.shutdown()
        await asyncio.wait_for(self.hub.close_all(), timeout=10)

"""The main window: the live event table in the middle, docks around it.

Features plug in one way: as parts (`add_part`, see ui/common/parts.py) that add
their docks, menu entries and toolbars and are shut down with the window. Background
work of the window runs on `self.work` (ui/common/tasks.py); failures of supervised
tasks show in the status bar.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from pgwatch_gui.core.host.applog import log_dir, secure_log_dir
from pgwatch_gui.core.host.private_files import private_dir, private_file
from pgwatch_gui.core.pg.connection import ConnectionConfigError, describe_target, make_conninfo
from pgwatch_gui.ui.audit.part import AuditPart
from pgwatch_gui.ui.common.hub import ConnectionHub
from pgwatch_gui.ui.common.parts import PART_SHUTDOWN_SECONDS, WindowPart
from pgwatch_gui.ui.common.tasks import AsyncWork, task_failures
from pgwatch_gui.ui.events.model import EventTableModel
from pgwatch_gui.ui.events.table import EventTableView
from pgwatch_gui.ui.history.install import HistoryPart
from pgwatch_gui.ui.profiles.panel import ProfilesPart
from pgwatch_gui.ui.replication.watching import ChangeStreamsPart
from pgwatch_gui.ui.shell import dock_layout
from pgwatch_gui.ui.shell.event_screen import EventScreen
from pgwatch_gui.ui.triggers.docks import TriggerManagerPart

log = logging.getLogger(__name__)


def _event_table(parent) -> tuple[EventTableModel, EventTableView]:
    """A table like the live one, for rows read back from the journal."""
    model = EventTableModel(1_000_000, parent)
    return model, EventTableView(model, parent)


def secure_settings_file() -> None:
    """The settings file (window state, the last payload sent) is this user's alone: made
    0600, in our 0700 folder, before Qt first writes it; Qt keeps an existing file's mode
    when it rewrites it. The registry (Windows) has nothing to do; on macOS the plist sits
    in the shared ~/Library/Preferences and only the file is tightened."""
    path = QSettings().fileName()
    if sys.platform == "win32" or not os.path.isabs(path):
        return
    try:
        if sys.platform == "darwin":
            private_file(path)
            return
        if Path(path).parent.name == "pgwatch-gui":
            private_dir(Path(path).parent)
        private_file(path, create=Path(path).parent.is_dir())
    except OSError as exc:
        log.warning("the settings file %s could not be made private: %s", path, exc)


class MainWindow(QMainWindow):
    closed = Signal()

    def __init__(self, hub: ConnectionHub | None = None, *, capacity: int = 100_000,
                 journal: bool | None = None) -> None:
        super().__init__()
        secure_settings_file()
        self.setWindowTitle("pgwatch-gui")
        self.resize(1200, 720)
        self.hub = hub or ConnectionHub(self)
        self.event_model = EventTableModel(capacity, self)
        self.hub.events_arrived.connect(self.event_model.append_events)
        self.work = AsyncWork(self)
        self.parts: list[WindowPart] = []
        self._shut_down = False
        task_failures().failed.connect(self._task_failed)

        self._build_menus()
        # The live table, filter bar, inspector, channels, flow controls, status bar.
        self.event_screen = EventScreen(self)
        self.table = self.event_screen.table
        self.add_part(TriggerManagerPart())
        self.add_part(ChangeStreamsPart())
        self.add_part(AuditPart())
        self.add_part(ProfilesPart())
        # The journal on disk and what reads it; journal=False is --no-journal. Parts shut
        # down after the hub, so the last batches are written too.
        self.history = self.add_part(HistoryPart(journal, make_table=_event_table))
        dock_layout.arrange(self)

    # ---- parts ----
    def add_part(self, part: WindowPart) -> WindowPart:
        """Plug a feature in: it adds its docks, menus and toolbars now and is shut down
        with the window."""
        part.attach(self)
        self.parts.append(part)
        return part

    def part(self, name: str) -> WindowPart | None:
        return next((p for p in self.parts if p.name == name), None)

    @property
    def tables_browser(self):
        return self.part("triggers").tables_browser

    @property
    def sql_console(self):
        return self.part("triggers").sql_console

    @property
    def profiles_panel(self):
        return self.part("profiles").panel

    @property
    def demo_session(self):
        return self.part("demo")

    def _task_failed(self, _name: str, text: str) -> None:
        self.statusBar().showMessage(text, 15000)

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

        self.action_log_folder = QAction("Open &log folder", self,
                                         triggered=self.open_log_folder)
        self.action_log_folder.setToolTip(str(log_dir()))
        self.menu_help.addAction(self.action_log_folder)
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

    def open_log_folder(self) -> bool:
        """Show the folder of pgwatch-gui.log in the file manager."""
        folder = log_dir()
        try:
            secure_log_dir(folder)
        except OSError as exc:
            self.statusBar().showMessage(f"No log folder: {exc.strerror or exc}", 8000)
            return False
        ok = QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
        if not ok:
            self.statusBar().showMessage(f"The log is in {folder}", 15000)
        return ok

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
        """Stop everything: each step is bounded, so closing ends within a few seconds
        whatever state a step is in. A second call does nothing."""
        if self._shut_down:
            return
        self._shut_down = True
        await _bounded("event screen", self.event_screen.shutdown(), 1.5)
        await _bounded("listeners", self.hub.close_all(), 1.5)
        for part in reversed(self.parts):
            await _bounded(part.name, part.shutdown(), PART_SHUTDOWN_SECONDS)
        await _bounded("window tasks", self.work.stop(), 0.5)


async def _bounded(what: str, aw, seconds: float) -> None:
    try:
        await asyncio.wait_for(aw, seconds)
    except asyncio.TimeoutError:
        log.warning("shutdown: %s did not stop within %g s", what, seconds)
    except Exception:
        log.exception("shutdown: %s failed", what)

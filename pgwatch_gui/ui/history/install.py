"""Plug history into the main window: the journal link, View > History settings, Older
events and Clear history, the History dock, and *Timeline of this row* in the table's
menu."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from pgwatch_gui.ui.history.history_dock import HistoryDock
from pgwatch_gui.ui.history.journal_link import JournalLink


class HistoryPart:
    """A window part (ui/common/parts.py): attach() plugs it in, shutdown() writes what
    is queued and stops the journal's writer. `make_table(parent)` -> (model, view) for
    the older-events window: the live table's classes, handed over by the shell."""

    name = "history"

    def __init__(self, journal: bool | None = None, path=None, make_table=None) -> None:
        self.journal = journal
        self.path = path
        self.make_table = make_table

    def attach(self, window) -> None:
        self.window = window
        self.link = JournalLink(window.hub, window, path=self.path,
                                enabled=None if self.journal is None else self.journal)
        self.link.problem.connect(lambda text: window.statusBar().showMessage(
            f"Journal: {text}", 15000))
        self.dock_widget = HistoryDock(window, self.link, window)
        self.dock = window.add_dock(self.dock_widget, "History", Qt.BottomDockWidgetArea,
                                    "dock-history")
        self.dock.hide()
        self.dock.toggleViewAction().setText("History: rate && statistics")
        self.action_settings = QAction("History settings…", window,
                                       triggered=self.open_settings)
        self.action_older = QAction("Older events from the journal…", window,
                                    shortcut=QKeySequence("Ctrl+Shift+H"),
                                    triggered=self.open_older)
        self.action_clear = QAction("Clear history…", window, triggered=self.open_clear)
        self.action_clear.setToolTip("Remove events from the journal on disk, for good")
        view = window.menu_view
        view.addSeparator()
        view.addAction(self.action_older)
        view.addAction(self.action_settings)
        view.addAction(self.action_clear)
        self.dock_widget.clear_requested.connect(self.open_clear)
        self.link.enabled_changed.connect(self.action_older.setEnabled)
        self.action_older.setEnabled(self.link.enabled)
        window.table.row_menu_hooks.append(self._row_menu)
        self.dialogs: list = []

    def _row_menu(self, menu, ev) -> None:
        if ev.is_gap or not ev.qualified_table or not ev.key:
            return
        menu.addAction("Timeline of this row…", lambda: self.open_timeline(ev))

    def open_timeline(self, ev):
        from pgwatch_gui.ui.history.timeline_dialog import open_timeline

        dlg = open_timeline(self.window, self.link, ev)
        if dlg is not None:
            self._keep(dlg)
        return dlg

    def open_settings(self):
        from pgwatch_gui.ui.history.settings_dialog import HistorySettingsDialog

        dlg = HistorySettingsDialog(self.link, self.window)
        dlg.open()
        return self._keep(dlg)

    def open_clear(self):
        """Ask first (open(), never exec()); the status bar says what was removed."""
        from pgwatch_gui.ui.history.clear_dialog import ClearHistoryDialog

        dlg = ClearHistoryDialog(self.link, self.window.hub.names(), self.window)
        dlg.cleared.connect(lambda done: self._cleared(done))
        dlg.open()
        return self._keep(dlg)

    def _cleared(self, done) -> None:
        self.window.statusBar().showMessage(f"History: {done.line()}", 20000)
        if self.dock_widget.isVisible():
            self.dock_widget.refresh_stats()

    def open_older(self):
        from pgwatch_gui.ui.history.older_events import OlderEventsWindow

        model = self.window.event_model
        held = model.all_events()
        before = held[0].received_at if held else None
        spec = self.window.event_screen.filter_bar.spec()
        win = OlderEventsWindow(self.link, spec, before, self.make_table, self.window)
        win.show()
        win.load_older()
        return self._keep(win)

    def _keep(self, w):
        self.dialogs = [d for d in self.dialogs if d.isVisible()] + [w]
        return w

    async def shutdown(self) -> None:
        await self.link.shutdown()

"""The trigger manager as a part of the main window: the tables dock and the SQL console."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from pgwatch_gui.ui.triggers.console import SqlConsole
from pgwatch_gui.ui.triggers.tables import TablesBrowser


class TriggerManagerPart:
    """Adds the "Tables" and "SQL console" docks and their Tools menu entries."""

    name = "triggers"

    def __init__(self) -> None:
        self.tables_browser: TablesBrowser | None = None
        self.sql_console: SqlConsole | None = None

    def attach(self, window) -> None:
        self.tables_browser = TablesBrowser(window.hub, window)
        self.sql_console = SqlConsole(window.hub, window)
        tables = window.add_dock(self.tables_browser, "Tables", Qt.LeftDockWidgetArea,
                                 "dock-tables")
        console = window.add_dock(self.sql_console, "SQL console", Qt.BottomDockWidgetArea,
                                  "dock-sql-console")
        console.hide()
        for dock, label in ((tables, "Tables && &triggers"), (console, "&SQL console")):
            # Tools opens it, in front of its tab group: a toggle hid a console that was
            # open behind another tab instead of showing it (View still toggles).
            act = QAction(label, window, triggered=lambda _=False, d=dock: self._bring(d))
            window.menu_tools.addAction(act)

    @staticmethod
    def _bring(dock) -> None:
        dock.show()
        dock.raise_()
        dock.widget().setFocus()

    async def shutdown(self) -> None:
        if self.sql_console is not None:
            await self.sql_console.shutdown()
        if self.tables_browser is not None:
            await self.tables_browser.work.stop()

"""Plug the trigger manager into the main window: the tables dock and the SQL console."""

from __future__ import annotations

from PySide6.QtCore import Qt

from pgwatch_gui.ui.triggers.console import SqlConsole
from pgwatch_gui.ui.triggers.tables import TablesBrowser


def attach_trigger_manager(window) -> None:
    """Add the "Tables" and "SQL console" docks and their Tools menu entries."""
    window.tables_browser = TablesBrowser(window.hub, window)
    window.sql_console = SqlConsole(window.hub, window)
    tables = window.add_dock(window.tables_browser, "Tables", Qt.LeftDockWidgetArea,
                             "dock-tables")
    console = window.add_dock(window.sql_console, "SQL console", Qt.BottomDockWidgetArea,
                              "dock-sql-console")
    console.hide()
    for dock, label in ((tables, "Tables && &triggers"), (console, "&SQL console")):
        act = dock.toggleViewAction()
        act.setText(label)
        window.menu_tools.addAction(act)

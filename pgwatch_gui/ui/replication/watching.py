"""Starting and stopping change streams from the tables dock.

The dock calls `watch(...)` with the selected tables (or a schema): the dialog shows
the SQL first, and on Start the hub opens the stream as a connection named
"<connection> changes". `stop_actions` lists the open streams for the context menu;
stopping one drops the publication it created.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from pgwatch_gui.core.replication.publication import Setup, WatchPlan
from pgwatch_gui.ui.common.hub import ConnectionHub
from pgwatch_gui.ui.common.tasks import AsyncWork
from pgwatch_gui.ui.replication.watch_dialog import WatchChangesDialog


def stream_name(hub: ConnectionHub, connection: str) -> str:
    """A free connection name for a stream: 'shop changes', then 'shop changes 2'..."""
    base = f"{connection} changes"
    names = set(hub.names())
    if base not in names:
        return base
    n = 2
    while f"{base} {n}" in names:
        n += 1
    return f"{base} {n}"


def watch(parent: QWidget, hub: ConnectionHub, connection: str, conninfo: str,
          plan: WatchPlan, on_started: Callable[[str], None] | None = None
          ) -> WatchChangesDialog:
    """Open the dialog (with open(), never exec()); Start opens the stream in the hub."""
    dlg = WatchChangesDialog(conninfo, plan, parent=parent)

    def start(setup: Setup) -> None:
        name = stream_name(hub, connection)
        hub.open_changes(name, conninfo, setup, plan)
        if on_started is not None:
            on_started(name)

    dlg.start_requested.connect(start)
    dlg.open()
    return dlg


def add_stop_actions(menu: QMenu, hub: ConnectionHub, work: AsyncWork,
                     on_error: Callable[[str], None]) -> None:
    streams = [n for n in hub.names() if hub.is_change_stream(n)]
    if streams:
        menu.addSeparator()
    for name in streams:
        menu.addAction(QAction(f"Stop watching: {name}", menu,
                               triggered=lambda _c=False, n=name: work.spawn(
                                   hub.close(n), on_error=on_error)))

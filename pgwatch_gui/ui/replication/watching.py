"""Change streams in the window: the tables dock asks, the dialog shows, the hub streams.

`ChangeStreamsPart` (added by the shell) answers the tables dock's
`watch_requested` with the Watch changes dialog (SQL first; opened with open(), never
exec()); on Start the hub opens the stream as a connection named "<connection>
changes", beside the listeners. The dock itself stops streams through the hub.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from pgwatch_gui.core.replication.publication import Setup, WatchPlan
from pgwatch_gui.ui.common.hub import ConnectionHub
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
    """Open the dialog; Start opens the stream in the hub."""
    dlg = WatchChangesDialog(conninfo, plan, parent=parent)

    def start(setup: Setup) -> None:
        name = stream_name(hub, connection)
        # Through the connection's SSH tunnel, if it has one (its listener owns it).
        hub.open_changes(name, conninfo, setup, dlg.plan,
                         route=hub.route(connection))  # plan: perhaps theirs
        if on_started is not None:
            on_started(name)

    dlg.start_requested.connect(start)
    dlg.open()
    return dlg


class ChangeStreamsPart:
    """A WindowPart (ui/common/parts.py): the tables dock's *Watch changes…* answered
    with the dialog and the window's hub. Streams close with the hub's connections."""

    name = "change-streams"

    def __init__(self) -> None:
        self.window = None

    def attach(self, window) -> None:
        self.window = window
        window.watch_dialog = None  # the last one opened (tests look at it)
        window.tables_browser.watch_requested.connect(self._requested)

    def _requested(self, connection: str, conninfo: str, plan: WatchPlan) -> None:
        window = self.window
        browser = window.tables_browser
        window.watch_dialog = watch(
            window, window.hub, connection, conninfo, plan,
            on_started=lambda n: browser.set_status(f"Watching changes as connection {n!r}."))

    async def shutdown(self) -> None:
        return None

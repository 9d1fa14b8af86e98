"""The trigger audit as a part of the main window (added by the shell).

It answers the Tables dock's `audit_requested` (the dock's *Audit triggers…* button and
context menu entry) with an `AuditWindow`, non-modal, through the connection's SSH
tunnel when it has one; audits still running when the window closes are ended and
their publications dropped.
"""

from __future__ import annotations

import asyncio

from pgwatch_gui.ui.audit.window import AuditWindow


class AuditPart:
    """A WindowPart (ui/common/parts.py)."""

    name = "audit"

    def __init__(self) -> None:
        self.window = None
        self.windows: list[AuditWindow] = []

    def attach(self, window) -> None:
        self.window = window
        window.audit_window = None  # the last one opened (tests look at it)
        window.tables_browser.audit_requested.connect(self.open)

    def open(self, connection: str, conninfo: str, tables: list) -> AuditWindow:
        window = self.window
        # Through the connection's SSH tunnel, if it has one (its listener owns it).
        win = AuditWindow(conninfo, list(tables), route=window.hub.route(connection),
                          parent=window)
        win.finished_audit.connect(
            lambda text: window.tables_browser.set_status(f"Trigger audit: {text}."))
        self.windows = [w for w in self.windows if w.isVisible() or _running(w)] + [win]
        window.audit_window = win
        win.show()
        return win

    async def shutdown(self) -> None:
        await asyncio.gather(*(w.shutdown() for w in self.windows), return_exceptions=True)


def _running(w: AuditWindow) -> bool:
    return w.session is not None and w.session.running

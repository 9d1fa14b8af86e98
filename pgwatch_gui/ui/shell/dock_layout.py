"""Where the docks go by default: everything below the table, as in Wireshark.

The live table spans the window's whole width (at 1280x720 every column shows, and
the payload gets the rest), the inspector sits under it on the left, and the tools
(Profiles, Tables, Channels, SQL console) share one tabbed dock beside it.

A layout saved by an older version (docks on the sides) is not restored: the saved
state carries LAYOUT_VERSION and Qt ignores a state of another version.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

LAYOUT_VERSION = 2
INSPECTOR = "dock-inspector"
TOOLS = ("dock-profiles", "dock-tables", "dock-channels", "dock-sql-console")
BOTTOM_SHARE = 0.4  # of the window's height, for the docks under the table
INSPECTOR_SHARE = 0.62  # of the bottom's width, for the inspector
_BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea


def dock(window: QMainWindow, name: str) -> QDockWidget | None:
    return window.findChild(QDockWidget, name)


def arrange(window: QMainWindow) -> None:
    """Put the docks in their default places (call once every dock exists)."""
    inspector = dock(window, INSPECTOR)
    tools = [d for name in TOOLS if (d := dock(window, name)) is not None]
    if inspector is None:
        return
    for d in (inspector, *tools):
        if window.dockWidgetArea(d) != _BOTTOM:
            window.addDockWidget(_BOTTOM, d)
    if tools:
        window.splitDockWidget(inspector, tools[0], Qt.Orientation.Horizontal)
        for d in tools[1:]:
            window.tabifyDockWidget(tools[0], d)
    first = next((d for d in tools if not d.isHidden()), None)
    if first is not None:
        first.raise_()
    window.installEventFilter(_FirstShowSizes(window, inspector, tools))


def raise_dock(window: QMainWindow, name: str) -> None:
    d = dock(window, name)
    if d is not None and not d.isHidden():
        d.raise_()


class _FirstShowSizes(QObject):
    """Dock sizes as shares of the window, set when it is first shown at its real size
    (before that Qt has no size to share out); a restored layout keeps its own."""

    def __init__(self, window: QMainWindow, inspector: QDockWidget,
                 tools: list[QDockWidget]) -> None:
        super().__init__(window)
        self.window = window
        self.inspector = inspector
        self.tools = tools
        self.restored = False

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window and event.type() == event.Type.Show:
            self.window.removeEventFilter(self)
            if not self.restored:
                self.apply()
        return False

    def apply(self) -> None:
        w = self.window
        height = max(200, int(w.height() * BOTTOM_SHARE))
        w.resizeDocks([self.inspector], [height], Qt.Orientation.Vertical)
        visible = [d for d in self.tools if not d.isHidden()]
        if visible:
            left = int(w.width() * INSPECTOR_SHARE)
            w.resizeDocks([self.inspector, visible[0]], [left, w.width() - left],
                          Qt.Orientation.Horizontal)


def mark_restored(window: QMainWindow) -> None:
    """A saved layout was restored: keep its sizes."""
    for f in window.findChildren(_FirstShowSizes):
        f.restored = True

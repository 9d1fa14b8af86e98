"""How a feature plugs into the main window: a WindowPart, handed to
`MainWindow.add_part(part)`.

`attach(window)` is called once: the part adds its docks (`window.add_dock`), menu
entries (`window.menu_file`, `menu_connection`, `menu_view`, `menu_tools`,
`menu_help`), toolbars and actions there, and starts background work with
`window.work` (ui/common/tasks.py). `shutdown()` is awaited when the window closes,
after the listeners are closed, newest part first; it must end within a second or
two (the window gives up on it after PART_SHUTDOWN_SECONDS).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

PART_SHUTDOWN_SECONDS = 2.5


@runtime_checkable
class WindowPart(Protocol):
    name: str

    def attach(self, window: Any) -> None: ...

    async def shutdown(self) -> None: ...

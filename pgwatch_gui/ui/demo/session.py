"""`pgwatch-gui --demo`: start the demo database, open a "Demo" connection, run the generator.

The embedded server starts in a worker thread (initdb takes a moment the first time)
so the window stays responsive. A toolbar sets the generator's rate. The session is a
part of the window (`window.add_part`): the window's shutdown stops the generator,
then the server, after its own listeners are closed. The generator runs supervised
(ui/common/tasks.py): a failure is shown and it starts again.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

from PySide6.QtWidgets import QMessageBox

from pgwatch_gui.core.demo.session import PROFILE_NAME, Demo, DemoError
from pgwatch_gui.core.pg.connection import one_line
from pgwatch_gui.ui.demo.controls import DemoRateControl
from pgwatch_gui.ui.demo.info import install_help, psql_command

DEFAULT_RATE = 20


def show_error(window, title: str, text: str) -> QMessageBox:
    """A non-blocking error box (a modal exec() inside a coroutine would nest the loop)."""
    window.statusBar().showMessage(text)
    box = QMessageBox(QMessageBox.Critical, title, text, QMessageBox.Ok, window)
    box.setObjectName("demo-error")
    box.open()
    return box


class DemoSession:
    name = "demo"

    def __init__(self, window, *, reset: bool = False, rate: int = DEFAULT_RATE,
                 demo: Demo | None = None) -> None:
        self.window = window
        self.demo = demo or Demo(reset=reset)
        self.rate = rate
        self.generator = None
        self.control: DemoRateControl | None = None
        self.toolbar = None
        self.task: asyncio.Task | None = None
        self.help_action = None
        self.error = ""
        self._stopped = False
        self._starting: asyncio.Future | None = None

    def attach(self, window) -> None:
        self.window = window

    async def shutdown(self) -> None:
        await self.stop()

    async def start(self) -> bool:
        win = self.window
        win.statusBar().showMessage("Starting the demo database...")
        loop = asyncio.get_running_loop()
        try:
            self._starting = loop.run_in_executor(None, self.demo.start)
            conninfo = await self._starting
        except DemoError as exc:
            self.error = str(exc)
            show_error(win, "Demo", f"The demo cannot start: {self.error}")
            return False
        except Exception as exc:
            self.error = one_line(exc)
            show_error(win, "Demo", f"The demo database could not start: {self.error}")
            return False
        if self._stopped:  # the window closed while the server started
            return False
        win.statusBar().clearMessage()
        # Where the demo is, for psql and friends: on stderr, and in Help > Demo database.
        print(f"pgwatch-gui: demo database: {self.demo.public_dsn}  "
              f"(psql: {psql_command(self.demo.public_dsn)})", file=sys.stderr, flush=True)
        self.help_action = install_help(win, self.demo)
        win.open_connection(PROFILE_NAME, conninfo, list(self.demo.channels))
        win.raise_dock("dock-tables")  # the demo's triggers, not an empty list
        self.generator = self.demo.generator(self.rate)
        self.toolbar = win.addToolBar("Demo")
        self.toolbar.setObjectName("demo-toolbar")
        self.control = DemoRateControl(self.generator, self.toolbar)
        self.toolbar.addWidget(self.control)
        self.task = win.work.supervise("The demo writer", self.generator.run,
                                       on_failed=self._generator_failed)
        return True

    def _generator_failed(self, text: str) -> None:
        self.error = text
        self.window.statusBar().showMessage(f"The demo generator stopped: {text}")
        if self.control is not None:
            self.control.refresh()

    async def stop(self) -> None:
        """Generator, then server; a second call does nothing."""
        if self._stopped:
            return
        self._stopped = True
        if self.control is not None:
            with contextlib.suppress(RuntimeError):  # the window is gone already
                self.control.stop_updates()
        if self.generator is not None:
            self.generator.stop()
        if self.task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self.task, 1.5)
        if self._starting is not None and not self._starting.done():
            # Stopping in the middle of start would leave the server it starts behind.
            await asyncio.wait({self._starting}, timeout=2.0)
        await asyncio.get_running_loop().run_in_executor(None, self.demo.stop)


async def start_demo(window, *, reset: bool = False):
    """Start the demo as a part of the window; returns its async cleanup (None on
    failure). The window's shutdown stops it too."""
    session = DemoSession(window, reset=reset)
    window.add_part(session)
    if not await session.start():
        return None
    return session.stop

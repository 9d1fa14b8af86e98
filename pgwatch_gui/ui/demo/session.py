"""`pgwatch-gui --demo`: start the demo database, open a "Demo" connection, run the generator.

The embedded server starts in a worker thread (initdb takes a moment the first time)
so the window stays responsive. A toolbar sets the generator's rate. The cleanup this
returns stops the generator, then the server; app.run_gui awaits it when the window
closes (after the window's own listeners are closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

from PySide6.QtWidgets import QMessageBox

from pgwatch_gui.core.demo.session import PROFILE_NAME, Demo, DemoError, GeneratorError
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

    async def start(self) -> bool:
        win = self.window
        win.statusBar().showMessage("Starting the demo database...")
        loop = asyncio.get_running_loop()
        try:
            conninfo = await loop.run_in_executor(None, self.demo.start)
        except DemoError as exc:
            self.error = str(exc)
            show_error(win, "Demo", f"The demo cannot start: {self.error}")
            return False
        except Exception as exc:
            self.error = one_line(exc)
            show_error(win, "Demo", f"The demo database could not start: {self.error}")
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
        self.task = asyncio.ensure_future(self.generator.run())
        self.task.add_done_callback(self._generator_ended)
        return True

    def _generator_ended(self, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, GeneratorError):
            self.error = str(exc)
            self.window.statusBar().showMessage(f"The demo generator stopped: {exc}")
        if self.control is not None:
            self.control.refresh()

    async def stop(self) -> None:
        if self.control is not None:
            self.control.stop_updates()
        if self.generator is not None:
            self.generator.stop()
        if self.task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self.task, 5)
        await asyncio.get_running_loop().run_in_executor(None, self.demo.stop)


async def start_demo(window, *, reset: bool = False):
    """The app's demo hook: start the demo; returns the async cleanup (None on failure)."""
    session = DemoSession(window, reset=reset)
    window.demo_session = session
    if not await session.start():
        return None
    return session.stop

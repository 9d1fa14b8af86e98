"""`pgwatch-gui --demo`: start the embedded server, connect the window, run the generator."""

from __future__ import annotations

import asyncio
import contextlib

from PySide6.QtWidgets import QMessageBox

from pgwatch_gui.core import demo
from pgwatch_gui.core.connection import make_conninfo, one_line


async def start_demo(window, *, reset: bool = False):
    window.statusBar().showMessage("Starting the demo database...")
    loop = asyncio.get_running_loop()
    try:
        uri = await loop.run_in_executor(None, demo.start_server, reset)
        conninfo = make_conninfo(uri)
        await demo.ensure_schema(conninfo)
    except Exception as exc:
        QMessageBox.critical(window, "Demo", f"The demo database could not start: {one_line(exc)}")
        return None
    window.statusBar().clearMessage()
    window.open_connection("Demo", conninfo, [demo.DEMO_CHANNEL])
    stop = asyncio.Event()
    task = asyncio.ensure_future(demo.run_generator(conninfo, 1.0, stop))

    async def cleanup() -> None:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)

    return cleanup

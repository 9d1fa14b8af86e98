"""`pgwatch-gui --smoke [--dsn DSN]`: a self-test of an installed (or frozen) app.

Offscreen, it builds the main window, connects, LISTENs on a channel of its own,
sends itself one notification and waits until it shows in the window's event table.
Prints ``ok`` and exits 0, or exits 1 with one line saying what failed. Without
--dsn it runs against the embedded demo server (which checks that it ships, too).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid

from pgwatch_gui.core.pg.connection import ConnectionConfigError, make_conninfo, one_line

EXIT_FAILED = 1


def run_smoke(dsn: str | None, *, timeout: float = 30.0) -> int:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
    try:
        reason = _smoke(dsn, timeout)
    except Exception as exc:  # anything at all: the answer is one line
        reason = f"{exc.__class__.__name__}: {one_line(exc)}"
    if reason:
        print(f"pgwatch-gui: smoke failed: {reason}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    print("ok", flush=True)
    return 0


def _smoke(dsn: str | None, timeout: float) -> str | None:
    import qasync

    from pgwatch_gui.core.demo.server import DemoServer
    from pgwatch_gui.core.demo.session import DemoError
    from pgwatch_gui.ui.shell.app import make_app
    from pgwatch_gui.ui.shell.main_window import MainWindow

    server = None
    if dsn:
        try:
            conninfo = make_conninfo(dsn)
        except ConnectionConfigError as exc:
            return str(exc)
    else:
        server = DemoServer()
        try:
            conninfo = make_conninfo(server.start())
        except DemoError as exc:
            return str(exc)
    _quiet_qt_warnings()
    app = make_app()
    loop = qasync.QSelectorEventLoop(app)
    asyncio.set_event_loop(loop)
    window = MainWindow()
    try:
        window.show()
        with loop:
            return loop.run_until_complete(
                asyncio.wait_for(_round_trip(window, conninfo), timeout))
    except asyncio.TimeoutError:
        return f"no notification came back within {timeout:g} s"
    finally:
        asyncio.set_event_loop(None)
        window.hide()
        window.deleteLater()
        if server is not None:
            server.stop()


def _quiet_qt_warnings() -> None:
    """Offscreen Qt warns about window hints it ignores; only errors reach stderr."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind, _context, message) -> None:
        if kind in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            print(f"Qt: {message}", file=sys.stderr, flush=True)

    qInstallMessageHandler(handler)


async def _round_trip(window, conninfo: str) -> str | None:
    from pgwatch_gui.core.stream.status import State

    channel = f"pgwatch-gui smoke {os.getpid()}"
    payload = f'{{"smoke": "{uuid.uuid4()}"}}'
    hub, model = window.hub, window.event_model
    try:
        listener = hub.open("smoke", conninfo, [channel])
        while listener.status.state is not State.LISTENING:
            if listener.status.state is State.FAILED:
                return listener.status.reason
            await asyncio.sleep(0.02)
        await hub.notify("smoke", channel, payload)
        started = time.monotonic()
        while not any(model.event(i).payload == payload for i in range(model.rowCount())):
            if listener.status.state is State.FAILED:
                return listener.status.reason
            await asyncio.sleep(0.02)
        if time.monotonic() - started > 5:
            return "the notification came back, but slowly"
        return None
    finally:
        await hub.close_all()

"""Start the window: a QApplication driven by a qasync QSelectorEventLoop.

qasync's default loop on Windows is a Proactor loop, which psycopg refuses, so the
selector loop is used on every platform.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from pgwatch_gui import __version__
from pgwatch_gui.core.host.desktop import resources_dir


@dataclass
class StartupConnection:
    name: str
    conninfo: str
    channels: list[str] = field(default_factory=list)
    # A profile with an SSH tunnel: the profiles panel opens it (tunnel, host key prompt).
    ssh: bool = False


def make_app(argv: Sequence[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("pgwatch-gui")
    app.setOrganizationName("pgwatch-gui")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("pgwatch-gui")  # the .desktop entry; Wayland's app id
    app.setWindowIcon(QIcon(str(resources_dir() / "pgwatch-gui.png")))
    return app  # type: ignore[return-value]


def run_gui(connections: Sequence[StartupConnection] = (), *, demo: bool = False,
            demo_reset: bool = False, journal: bool = True) -> int:
    import qasync

    from pgwatch_gui.core.host.applog import quiet_library_warnings, setup_logging
    from pgwatch_gui.ui.shell.main_window import MainWindow
    from pgwatch_gui.ui.shell.quit import QuitGuard

    setup_logging()
    quiet_library_warnings(to_log=True)
    app = make_app()
    # The loop ends when the window's close has been cleaned up, not when Qt sees no window.
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QSelectorEventLoop(app)
    asyncio.set_event_loop(loop)
    window = MainWindow(journal=None if journal else False)
    # Quit, Ctrl-C and SIGTERM: the orderly shutdown, bounded by a watchdog.
    guard = QuitGuard(window)
    guard.install_signals()
    window.restore_state()
    window.show()
    from pgwatch_gui.ui.shell import gc_policy

    gc_policy.install(window, lambda: window.event_model.appended)

    async def main() -> int:
        closed = asyncio.Event()
        window.closed.connect(closed.set)
        for c in connections:
            if c.ssh:
                window.profiles_panel.connect_profile(c.name, channels=c.channels)
            else:
                window.open_connection(c.name, c.conninfo, c.channels)
        if demo:
            from pgwatch_gui.ui.demo.session import DemoSession

            session = DemoSession(window, reset=demo_reset)
            window.add_part(session)
            guard.on_emergency(session.demo.emergency_stop)
            # Not awaited here: closing the window while the server starts must work.
            window.work.spawn(session.start())
        await closed.wait()
        await window.shutdown()
        return 0

    with loop:
        return loop.run_until_complete(main())

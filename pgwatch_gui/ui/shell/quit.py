"""Quit, Ctrl-C and SIGTERM end the process within QUIT_SECONDS, in every state.

Closing the window starts the orderly shutdown (listeners, parts, the demo server).
At the same moment a watchdog thread is armed: if the process is still alive
WATCHDOG_SECONDS later (a step hangs, the loop is wedged), it runs the emergency
stops the parts registered (the demo server is stopped from its pid file and its lock
released) and ends the process with os._exit. A second signal ends it at once the
same way.

Signals reach Python through a wake-up socket watched by Qt, so they are handled even
while Qt's own loop is idle in C++.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

log = logging.getLogger(__name__)

QUIT_SECONDS = 4.0
WATCHDOG_SECONDS = 2.8  # leaves room for the emergency stops inside QUIT_SECONDS
EXIT_STUCK = 1


class QuitGuard(QObject):
    def __init__(self, window, *, watchdog_seconds: float = WATCHDOG_SECONDS) -> None:
        super().__init__(window)
        self._window = window
        self._seconds = watchdog_seconds
        self._emergency: list[Callable[[], None]] = []
        self._timer: threading.Timer | None = None
        self._signalled = 0
        self._notifier: QSocketNotifier | None = None
        self._sockets: tuple[socket.socket, socket.socket] | None = None
        window.closed.connect(self.arm)

    def on_emergency(self, fn: Callable[[], None]) -> None:
        """fn runs in the watchdog thread if the orderly shutdown does not finish."""
        self._emergency.append(fn)

    # ---- signals ----
    def install_signals(self) -> None:
        rsock, wsock = socket.socketpair()
        rsock.setblocking(False)
        wsock.setblocking(False)
        self._sockets = (rsock, wsock)
        with contextlib.suppress(ValueError):  # not the main thread (tests)
            signal.set_wakeup_fd(wsock.fileno(), warn_on_full_buffer=False)
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, self._on_signal)
        self._notifier = QSocketNotifier(rsock.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)

    def _drain(self, *_args) -> None:
        # Reading the byte is all: Python has run the handler by the time we get here.
        with contextlib.suppress(OSError):
            self._sockets[0].recv(64)

    def _on_signal(self, signum: int, _frame) -> None:
        self._signalled += 1
        log.info("signal %s: closing", signum)
        if self._signalled > 1:
            self.hard_exit("second signal")
        self.arm()
        # Not from inside the handler (it interrupts whatever Python code ran).
        QTimer.singleShot(0, self._window.close)

    # ---- watchdog ----
    def arm(self) -> None:
        if self._timer is not None:
            return
        self._timer = threading.Timer(self._seconds, self.hard_exit, ("shutdown took too long",))
        self._timer.daemon = True
        self._timer.start()

    def hard_exit(self, why: str) -> None:
        log.warning("ending the process now: %s", why)
        for fn in self._emergency:
            try:
                fn()
            except Exception:
                log.exception("emergency stop failed")
        logging.shutdown()
        os._exit(EXIT_STUCK)

"""PySide6 6.12.0 under qasync on CPython 3.11 aborts the interpreter (a refcount
underflow of None/True) after socket-notifier callbacks. pyproject excludes that
release; this test runs a notifier storm in a subprocess and wants a clean exit."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import cli_env

STORM = textwrap.dedent(
    """
    import asyncio, socket, sys
    from PySide6.QtWidgets import QApplication
    import qasync

    app = QApplication([])
    loop = qasync.QSelectorEventLoop(app)
    asyncio.set_event_loop(loop)
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    N = 1000
    count = 0
    done = loop.create_future()

    def on_readable():
        global count
        a.recv(1)
        count += 1
        loop.remove_reader(a.fileno())
        if count == N:
            done.set_result(count)
        else:
            loop.add_reader(a.fileno(), on_readable)
            b.send(b"x")

    loop.add_reader(a.fileno(), on_readable)
    b.send(b"x")
    with loop:
        print(loop.run_until_complete(asyncio.wait_for(done, 60)))
    """
)


def test_notifier_storm_exits_cleanly():
    r = subprocess.run([sys.executable, "-c", STORM], capture_output=True, text=True, timeout=120,
                       env=cli_env(QT_QPA_PLATFORM="offscreen"))
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr[-2000:]}"
    assert r.stdout.strip() == "1000"


def test_installed_pyside6_is_not_the_broken_release():
    import PySide6

    assert PySide6.__version__ != "6.12.0"

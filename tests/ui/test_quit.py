"""Quit and SIGTERM end `pgwatch-gui --demo` within 4 s in every state, stopping the
demo server and freeing the demo lock (a real process, offscreen)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from pgwatch_gui.core.demo.server import _stop_leftover, pid_alive
from tests.conftest import cli_env

QUIT_SECONDS = 4.0


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


@pytest.fixture
def data_dir():
    # Outside pytest's 0700 basetemp: the server may run as another system user.
    root = Path(tempfile.mkdtemp(prefix="pgwatch-quit-test-"))
    yield root
    _stop_leftover(root / "demo" / "pgdata", timeout=5)
    shutil.rmtree(root, ignore_errors=True)


def _start(data_dir: Path) -> subprocess.Popen:
    env = cli_env(PGWATCH_DATA_DIR=str(data_dir), QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen([sys.executable, "-m", "pgwatch_gui", "--demo"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _term_and_time(proc: subprocess.Popen) -> float:
    t = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return time.monotonic() - t


def _wait_for(pred, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.05)


def test_sigterm_with_the_demo_running(data_dir):
    proc = _start(data_dir)
    pgdata = data_dir / "demo" / "pgdata"
    try:
        _wait_for(lambda: _postmaster_pid(pgdata) is not None, 90)
        time.sleep(2.5)  # listener, writer and queue monitor at work
        assert proc.poll() is None, proc.stderr.read()
        pm = _postmaster_pid(pgdata)
    finally:
        took = _term_and_time(proc)
    err = proc.stderr.read()
    assert took < QUIT_SECONDS, (took, err[-2000:])
    assert not (data_dir / "demo" / "demo.lock").exists()
    assert pm is not None and not pid_alive(pm), "the demo server is still running"
    assert "Traceback" not in err, err[-2000:]


def test_sigterm_while_the_demo_server_starts(data_dir):
    proc = _start(data_dir)
    try:
        _wait_for(lambda: (data_dir / "demo" / "demo.lock").exists(), 60)
        time.sleep(0.3)
    finally:
        took = _term_and_time(proc)
    assert took < QUIT_SECONDS, (took, proc.stderr.read()[-2000:])
    # Whatever it had got to, nothing is left behind.
    time.sleep(0.2)
    pm = _postmaster_pid(data_dir / "demo" / "pgdata")
    assert pm is None or not pid_alive(pm), "the demo server is still running"
    assert not (data_dir / "demo" / "demo.lock").exists()
    # ... and the next start is not refused.
    assert os.path.isdir(data_dir)


WEDGED = """
import sys, time
from pgwatch_gui.ui.shell import main_window
from pgwatch_gui.ui.shell.app import run_gui

class Wedged:
    name = "wedged"
    def attach(self, window):
        print("up", flush=True)
    async def shutdown(self):
        time.sleep(60)  # blocks the loop itself: only the watchdog can end this

init = main_window.MainWindow.__init__
def patched(self, *a, **kw):
    init(self, *a, **kw)
    self.add_part(Wedged())
main_window.MainWindow.__init__ = patched
sys.exit(run_gui())
"""


def test_sigterm_ends_a_wedged_window_within_4_s(tmp_path):
    env = cli_env(PGWATCH_DATA_DIR=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-c", WEDGED], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "up"
        time.sleep(0.5)
    finally:
        took = _term_and_time(proc)
    assert took < QUIT_SECONDS, (took, proc.stderr.read()[-2000:])
    assert proc.returncode != 0  # the watchdog ended it

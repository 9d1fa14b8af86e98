"""SIGTERM (or Ctrl-C) closes the window the normal way: listeners stop, exit 0."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from tests.conftest import cli_env


def test_sigterm_closes_cleanly(pg_dsn):
    p = subprocess.Popen(
        [sys.executable, "-m", "pgwatch_gui", "--dsn", pg_dsn, "-c", "x"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=cli_env(QT_QPA_PLATFORM="offscreen"),
    )
    time.sleep(3)  # the window is up and listening
    assert p.poll() is None, p.communicate()
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert "Traceback" not in err

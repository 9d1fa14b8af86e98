"""A stale postmaster.pid whose pid now belongs to another process is never signalled."""

from __future__ import annotations

import subprocess
import sys

from pgwatch_gui.core.demo.server import _stop_leftover, is_postmaster_of


def test_stale_pidfile_naming_another_process_is_left_alone(tmp_path):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        pgdata = tmp_path / "pgdata"
        pgdata.mkdir()
        (pgdata / "postmaster.pid").write_text(f"{bystander.pid}\n{pgdata}\n")
        assert not is_postmaster_of(bystander.pid, pgdata)
        _stop_leftover(pgdata, timeout=1)
        assert bystander.poll() is None  # still running: not ours to stop
    finally:
        bystander.kill()
        bystander.wait()

"""The demo's embedded server: data kept and reused, reset, and one demo at a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

from pgwatch_gui.core.demo.server import (
    DEMO_DATABASE,
    DemoBusyError,
    DemoLock,
    DemoServer,
    data_dir,
    pid_alive,
)


def _marker_count(conninfo: str) -> int | None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('public.marker')").fetchone()[0] is None:
            return None
        return conn.execute("SELECT count(*) FROM marker").fetchone()[0]


def test_data_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv("PGWATCH_DATA_DIR", str(tmp_path / "d"))
    assert data_dir() == tmp_path / "d"
    monkeypatch.delenv("PGWATCH_DATA_DIR")
    assert data_dir().name == "pgwatch-gui"


def test_start_reuse_and_reset(tmp_path):
    root = tmp_path / "demo"
    with DemoServer(root) as server:
        assert server.pgdata == root / "pgdata"
        assert (root / "pgdata" / "PG_VERSION").exists()
        with psycopg.connect(server.conninfo, autocommit=True) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == DEMO_DATABASE
            conn.execute("CREATE TABLE marker (x int); INSERT INTO marker VALUES (1)")
        assert (root / "demo.lock").exists()
    assert not (root / "demo.lock").exists()
    with pytest.raises(psycopg.OperationalError):  # stopped with the last handle
        psycopg.connect(server.conninfo, connect_timeout=2).close()

    with DemoServer(root) as again:  # the data is kept and reused
        assert _marker_count(again.conninfo) == 1

    with DemoServer(root, reset=True) as fresh:  # afresh
        assert _marker_count(fresh.conninfo) is None


@pytest.fixture
def other_process():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def test_second_demo_is_refused_while_one_runs(tmp_path, other_process):
    lock = tmp_path / "demo" / "demo.lock"
    lock.parent.mkdir()
    lock.write_text(json.dumps({"pid": other_process.pid}))
    with pytest.raises(DemoBusyError) as info:
        DemoServer(tmp_path / "demo").start()
    message = str(info.value)
    assert "already running" in message and str(other_process.pid) in message
    assert json.loads(lock.read_text())["pid"] == other_process.pid  # left alone


def test_same_process_cannot_run_two_demos(tmp_path):
    lock = DemoLock(tmp_path / "x.lock")
    lock.acquire()
    with pytest.raises(DemoBusyError):
        DemoLock(tmp_path / "x.lock").acquire()
    lock.release()
    assert not (tmp_path / "x.lock").exists()


def test_stale_lock_is_taken_over(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not pid_alive(proc.pid)
    path = tmp_path / "demo.lock"
    path.write_text(json.dumps({"pid": proc.pid}))
    lock = DemoLock(path)
    assert lock.holder() is None
    lock.acquire()
    assert json.loads(path.read_text())["pid"] == os.getpid()
    lock.release()


def test_garbage_lock_is_taken_over(tmp_path):
    path = tmp_path / "demo.lock"
    path.write_text("not json")
    lock = DemoLock(path)
    lock.acquire()
    assert lock.held
    lock.release()


def test_reused_pid_does_not_hold_the_lock(tmp_path):
    path = tmp_path / "demo.lock"
    # Our own pid, but a start time that is not ours: the holder is long gone.
    path.write_text(json.dumps({"pid": os.getpid(), "started": 1.0}))
    assert DemoLock(path).holder() is None

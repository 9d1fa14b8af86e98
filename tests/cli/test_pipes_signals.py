"""The command line keeps Unix contracts: `| head` ends it, signals end it cleanly, and the
exit statuses are the documented ones (docs/guide/cli.md, "Exit codes").

Real processes and real pipes: `pgwatch-gui ... | head -n 2` as a shell builds it (the
command's stdout is the write end of a pipe whose read end only `head` holds).
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from pgwatch_gui.cli.ending import (
    EXIT_PIPE,
    EXIT_SIGHUP,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    reader_gone,
)
from pgwatch_gui.core.journal.store import Retention
from pgwatch_gui.core.journal.writer import JournalWriter
from pgwatch_gui.core.stream.events import new_event
from tests.conftest import cli_env
from tests.core.replication.streams import execute, slots_and_publications

# The reader going away must end the command within a second; on a busy 2-core machine
# the interpreter's own exit can add to that, so the tests allow a little more and the
# measured figure is printed (-s shows it).
WITHIN = 2.0


_STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test():
    """A test that fails while its command still runs (a signal it waited for in vain)
    kills it: a failed run left a `listen` retrying its gone server for hours."""
    yield
    while _STARTED:
        proc = _STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _signals_default() -> None:
    """In the child: the signals these tests send at their defaults. A suite started under
    `nohup` ignores SIGHUP, its children inherit that, and the command rightly keeps
    ignoring it (test_a_command_started_ignoring_sighup_keeps_ignoring_it)."""
    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def pipeline(*args: str, lines: int = 2, ignore_hup: bool = False
             ) -> tuple[subprocess.Popen, subprocess.Popen]:
    """`pgwatch-gui ARGS | head -n LINES`; returns (command, head) once it is ready (the
    line it writes on stderr when it listens or streams). `ignore_hup`: started as
    `nohup` starts it."""
    cmd = subprocess.Popen([sys.executable, "-m", "pgwatch_gui", *args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=cli_env(),
                           preexec_fn=_ignore_hup if ignore_hup else _signals_default)
    head = subprocess.Popen(["head", "-n", str(lines)], stdin=cmd.stdout,
                            stdout=subprocess.PIPE, text=True)
    _STARTED.extend((cmd, head))
    cmd.stdout.close()  # only head holds the read end now, as in a shell pipeline
    before = []
    while True:
        line = cmd.stderr.readline()
        if not line or line.startswith(("listening on", "streaming")):
            break
        before.append(line)
    assert line, "".join(before) + cmd.stderr.read()
    return cmd, head


def _ignore_hup() -> None:
    _signals_default()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def ended_after_head(cmd: subprocess.Popen, head: subprocess.Popen) -> tuple[float, str]:
    """Wait for head to exit, then for the command; (seconds in between, its stderr)."""
    head.wait(30)
    gone = time.monotonic()
    cmd.wait(30)
    elapsed = time.monotonic() - gone
    err = cmd.stderr.read()
    print(f"ended {elapsed:.2f} s after head exited")
    return elapsed, err


def notify(dsn: str, channel: str, payloads: list[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as c, c.transaction():
        for p in payloads:
            c.execute("SELECT pg_notify(%s, %s)", (channel, p))


def test_reader_gone_sees_a_closed_pipe_before_anything_is_written():
    r, w = os.pipe()
    try:
        assert not reader_gone(w)
        os.close(r)
        assert reader_gone(w)
    finally:
        os.close(w)
    with open(os.devnull, "w") as f:  # a file is never "gone"
        assert not reader_gone(f.fileno())


def test_listen_into_head_ends_when_head_has_read_enough(pg_dsn):
    cmd, head = pipeline("listen", "--dsn", pg_dsn, "-c", "jobs")
    for i in range(6):  # more than head wants, one transaction each
        notify(pg_dsn, "jobs", [f"job {i}"])
    elapsed, err = ended_after_head(cmd, head)
    assert [json.loads(x)["payload"] for x in head.stdout.read().splitlines()] == [
        "job 0", "job 1"]
    assert cmd.returncode == EXIT_PIPE, err
    assert "Traceback" not in err and "Exception" not in err and "Broken" not in err, err
    assert elapsed < WITHIN


def test_listen_into_head_ends_with_nothing_left_to_write(pg_dsn):
    """head exits after the last line it wanted; nothing more arrives, so nothing is
    written that could fail: listen notices the closed pipe by itself."""
    cmd, head = pipeline("listen", "--dsn", pg_dsn, "-c", "jobs")
    notify(pg_dsn, "jobs", ["a", "b"])
    elapsed, err = ended_after_head(cmd, head)
    assert cmd.returncode == EXIT_PIPE, err
    assert "Traceback" not in err, err
    assert elapsed < WITHIN
    with psycopg.connect(pg_dsn, autocommit=True) as c:  # its session is gone too
        left = c.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                         "current_database() AND query ILIKE 'LISTEN%'").fetchone()[0]
    assert left == 0


def walsenders(dsn: str, wait: float = 5.0) -> int:
    deadline = time.monotonic() + wait
    with psycopg.connect(dsn, autocommit=True) as c:
        while True:
            n = c.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                          "'walsender' AND datname = current_database()").fetchone()[0]
            if n == 0 or time.monotonic() > deadline:
                return n
            time.sleep(0.05)


@pytest.mark.parametrize("more", [True, False], ids=["more-changes", "nothing-more"])
def test_changes_into_head_ends_and_releases_slot_publication_walsender(logical_dsn, more):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    cmd, head = pipeline("changes", "--dsn", logical_dsn, "--table", "t")
    assert walsenders(logical_dsn, wait=0) == 1
    execute(logical_dsn, "INSERT INTO t VALUES (1), (2)")
    if more:
        execute(logical_dsn, ["INSERT INTO t VALUES (3)", "INSERT INTO t VALUES (4)"])
    elapsed, err = ended_after_head(cmd, head)
    assert cmd.returncode == EXIT_PIPE, err
    assert "Traceback" not in err and "Broken" not in err, err
    assert elapsed < WITHIN
    assert slots_and_publications(logical_dsn) == ([], [])
    assert walsenders(logical_dsn) == 0


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, EXIT_SIGTERM),
                                      (signal.SIGHUP, EXIT_SIGHUP)], ids=["TERM", "HUP"])
def test_sigterm_and_sighup_end_listen(pg_dsn, sig, code):
    cmd, head = pipeline("listen", "--dsn", pg_dsn, "-c", "jobs", lines=100)
    cmd.send_signal(sig)
    assert cmd.wait(30) == code
    assert "Traceback" not in cmd.stderr.read()
    head.wait(30)


def test_a_command_started_ignoring_sighup_keeps_ignoring_it(pg_dsn):
    """`nohup pgwatch-gui listen ...`: the terminal going away does not end it; SIGTERM
    still does, the orderly way."""
    cmd, head = pipeline("listen", "--dsn", pg_dsn, "-c", "jobs", lines=1, ignore_hup=True)
    try:
        cmd.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert cmd.poll() is None
        notify(pg_dsn, "jobs", ["after the hangup"])
        assert json.loads(head.stdout.readline())["payload"] == "after the hangup"
        head.wait(30)
        assert cmd.wait(30) == EXIT_PIPE  # head took its one line and left
        assert "Traceback" not in cmd.stderr.read()
    finally:
        for p in (cmd, head):
            if p.poll() is None:
                p.kill()


def test_sigterm_and_sigint_end_changes_cleanly(logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    for sig, code in ((signal.SIGTERM, EXIT_SIGTERM), (signal.SIGINT, EXIT_SIGINT)):
        cmd, head = pipeline("changes", "--dsn", logical_dsn, "--table", "t", lines=100)
        cmd.send_signal(sig)
        assert cmd.wait(30) == code
        assert "Traceback" not in cmd.stderr.read()
        head.wait(30)
        assert slots_and_publications(logical_dsn) == ([], [])
        assert walsenders(logical_dsn) == 0


def closed_pipe() -> int:
    """The write end of a pipe whose reader is already gone."""
    r, w = os.pipe()
    os.close(r)
    return w


def run_into(fd: int, *args: str, input: str | None = None):
    try:
        return subprocess.run([sys.executable, "-m", "pgwatch_gui", *args], stdout=fd,
                              stderr=subprocess.PIPE, text=True, input=input, timeout=60,
                              env=cli_env())
    finally:
        os.close(fd)


def test_printing_commands_into_a_closed_pipe_exit_141_without_a_traceback(
        pg_dsn, db, tmp_path):
    db.execute("CREATE TABLE t (id int PRIMARY KEY)")
    record = tmp_path / "rec.jsonl"
    record.write_text("".join(
        json.dumps({"received_at": "2026-01-01T00:00:00+00:00", "channel": "c",
                    "payload": f"p{i}"}) + "\n" for i in range(5000)))
    journal = tmp_path / "journal.sqlite3"
    w = JournalWriter(journal, retention=Retention(max_age=1e12)).start()
    w.submit([new_event(i, time.time(), "p", "c", 1, f"p{i}") for i in range(5000)])
    assert w.flush()
    w.close()
    for args in (["filter", str(record)],
                 ["history", "--journal", str(journal)],
                 ["trigger", "list", "--dsn", pg_dsn],
                 ["trigger", "install", "--dsn", pg_dsn, "--table", "t", "--dry-run"],
                 ["profiles", "list", "--json"],
                 ["--help"]):
        r = run_into(closed_pipe(), *args)
        assert r.returncode in (0, EXIT_PIPE), (args, r.stderr)
        assert "Traceback" not in r.stderr and "Exception" not in r.stderr, (args, r.stderr)
        if args[0] in ("filter", "history", "trigger"):  # they print: the pipe breaks
            assert r.returncode == EXIT_PIPE, (args, r.stderr)


def test_sigterm_and_ctrl_c_end_a_waiting_filter(tmp_path):
    for sig, code in ((signal.SIGTERM, EXIT_SIGTERM), (signal.SIGINT, EXIT_SIGINT)):
        p = subprocess.Popen([sys.executable, "-m", "pgwatch_gui", "filter", "--op", "INSERT"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=cli_env())
        p.stdin.write('{"received_at": "2026-01-01T00:00:00+00:00", "channel": "c", '
                      '"payload": "{\\"op\\": \\"INSERT\\"}"}\n')
        p.stdin.flush()
        # A line that came down the pipe comes out before more input arrives (grep's way).
        ready, _, _ = select.select([p.stdout], [], [], 20)
        assert ready and "INSERT" in p.stdout.readline()
        p.send_signal(sig)
        _, err = p.communicate(timeout=30)
        assert p.returncode == code, err
        assert "Traceback" not in err


def test_sigterm_ends_listen_while_its_reader_stalls(pg_dsn):
    """Nobody reads its stdout: the pipe fills and listen's own loop blocks on a write.
    SIGTERM still ends it the orderly way (its LISTEN session closed), and quickly."""
    stalled_r, stalled_w = os.pipe()  # a reader that is there and never reads
    cmd = subprocess.Popen([sys.executable, "-m", "pgwatch_gui", "listen", "--dsn", pg_dsn,
                            "-c", "jobs"], stdout=stalled_w, stderr=subprocess.PIPE, text=True,
                           env=cli_env())
    os.close(stalled_w)
    try:
        assert cmd.stderr.readline().startswith("listening on")
        with psycopg.connect(pg_dsn, autocommit=True) as c:
            c.execute("SELECT pg_notify('jobs', repeat('x', 1000) || g) "
                      "FROM generate_series(1, 2000) g")  # 2 MB: far more than a pipe holds
        time.sleep(1.0)  # it is now blocked writing
        asked = time.monotonic()
        cmd.send_signal(signal.SIGTERM)
        assert cmd.wait(30) == EXIT_SIGTERM
        print(f"ended {time.monotonic() - asked:.2f} s after SIGTERM")
        assert time.monotonic() - asked < WITHIN
        assert "Traceback" not in cmd.stderr.read()
    finally:
        os.close(stalled_r)
        if cmd.poll() is None:
            cmd.kill()

"""`listen` and `notify` as a user runs them: real processes against the real server."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import datetime

import psycopg

from tests.conftest import cli_env, run_cli


def start_listen(*args: str) -> subprocess.Popen:
    p = subprocess.Popen(
        [sys.executable, "-m", "pgwatch_gui", "listen", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(),
    )
    line = p.stderr.readline()  # "listening on ..." once LISTEN is in effect
    assert line.startswith("listening on"), line + p.stderr.read()
    return p


def test_round_trip_spaces_and_capitals(pg_dsn):
    p = start_listen("--dsn", pg_dsn, "-c", "Order Events", "-c", "Foo", "--count", "3",
                     "--timeout", "30")
    envelope = json.dumps({"v": 1, "op": "INSERT", "schema": "public", "table": "orders",
                           "key": {"id": 42}})
    for ch, payload in [("Order Events", envelope), ("foo", "not ours"), ("Foo", "plain text"),
                        ("Foo", "")]:
        r = run_cli("notify", "--dsn", pg_dsn, "-c", ch, "-p", payload)
        assert r.returncode == 0, r.stderr
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    lines = [json.loads(x) for x in out.splitlines()]
    assert [(x["channel"], x["payload"]) for x in lines] == [
        ("Order Events", envelope), ("Foo", "plain text"), ("Foo", "")]
    first = lines[0]
    assert (first["op"], first["schema"], first["table"], first["key"]) == (
        "INSERT", "public", "orders", {"id": 42})
    assert lines[1]["op"] is None and lines[1]["key"] is None
    assert datetime.fromisoformat(first["received_at"]).tzinfo is not None
    assert isinstance(first["pid"], int)


def test_text_format_and_timeout(pg_dsn):
    p = start_listen("--dsn", pg_dsn, "-c", "t", "--format", "text", "--timeout", "1.5")
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        c.execute("SELECT pg_notify('t', 'multi' || chr(10) || 'line')")
    t0 = time.monotonic()
    out, _ = p.communicate(timeout=30)
    assert p.returncode == 0
    assert time.monotonic() - t0 < 10
    assert out.count("\n") == 1 and "t  pid=" in out and "multi\\nline" in out


def test_payload_too_large_refused_before_sending(pg_dsn):
    r = run_cli("notify", "--dsn", pg_dsn, "-c", "x", "-p", "é" * 4000)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "8,000 bytes" in r.stderr
    ok = run_cli("notify", "--dsn", pg_dsn, "-c", "x", "-p", "y" * 7999)
    assert ok.returncode == 0, ok.stderr


def test_connection_error_is_one_line(tmp_path):
    r = run_cli("listen", "--dsn", f"host={tmp_path} connect_timeout=2", "-c", "x")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    r = run_cli("notify", "--dsn", "postgresql://u:s3cr3t@/db?host=" + str(tmp_path),
                "-c", "x")
    assert r.returncode == 2 and "s3cr3t" not in r.stderr and "Traceback" not in r.stderr


def test_usage_errors_exit_2_one_line():
    for args in (["listen"], ["notify", "-c", "x", "--bogus"], ["listen", "-c", "x" * 64],
                 ["listen", "-c", "x", "--dsn", "not a = valid ' dsn"]):
        r = run_cli(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.count("\n") == 1, (args, r.stderr)


def test_ctrl_c_exits_130_without_traceback(pg_dsn):
    p = start_listen("--dsn", pg_dsn, "-c", "x")
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 130
    assert "Traceback" not in err


def test_version():
    from pgwatch_gui import __version__

    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"pgwatch-gui {__version__}"
    r2 = subprocess.run([sys.executable, "-m", "pgwatch_gui", "--version"], capture_output=True,
                        text=True, env=cli_env())
    assert r2.stdout == r.stdout

"""`--where` with quoted field names, as a user types it in a shell (issue 21)."""

from __future__ import annotations

import json

import psycopg

from tests.cli.test_listen_notify import start_listen
from tests.conftest import run_cli


def line(seq: int, item: int) -> str:
    payload = json.dumps({"v": 1, "op": "INSERT", "schema": "Sales Dept",
                          "table": "Order Items", "key": {"Item ID": item}})
    return json.dumps({"received_at": "2026-01-01T00:00:00+00:00", "channel": "c",
                       "payload": payload, "seq": seq}) + "\n"


def test_filter_where_takes_a_quoted_name():
    text = line(1, 7) + line(2, 8)
    r = run_cli("filter", "--where", 'key."Item ID" = 7', input=text)
    assert r.returncode == 0, r.stderr
    assert r.stdout == line(1, 7)
    r = run_cli("filter", "--where", 'key."Item ID = 7', input=text)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "unclosed quote" in r.stderr


def test_listen_where_takes_a_quoted_name(pg_dsn):
    p = start_listen("--dsn", pg_dsn, "-c", "items", "--where", 'key."Item ID" = 7',
                     "--count", "1", "--timeout", "30")
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        for item in (8, 7):
            c.execute("SELECT pg_notify('items', %s)", (json.dumps(
                {"v": 1, "op": "INSERT", "table": "Order Items", "key": {"Item ID": item}}),))
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert json.loads(out)["key"] == {"Item ID": 7}

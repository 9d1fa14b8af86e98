"""One spelling of --table works in every command: SQL form and as the table shows it.

`trigger` and `changes` find the table on the server (a missing one is one line naming
it); `listen`, `filter` and `history` match events with either spelling.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from pgwatch_gui.core.journal.store import Retention
from pgwatch_gui.core.journal.writer import JournalWriter
from pgwatch_gui.core.stream.events import new_event
from tests.conftest import cli_env, run_cli
from tests.core.replication.streams import execute, slots_and_publications

SQL_FORM = '"Sales Dept"."Order Items"'
SHOWN = "Sales Dept.Order Items"
SCHEMA = ['CREATE SCHEMA "Sales Dept"',
          'CREATE TABLE "Sales Dept"."Order Items" (id int PRIMARY KEY, "Item ID" int)',
          "CREATE TABLE orders (id int PRIMARY KEY)"]


def envelope(schema: str, table: str, i: int) -> str:
    return json.dumps({"v": 1, "op": "INSERT", "schema": schema, "table": table,
                       "key": {"id": i}})


@pytest.mark.parametrize("spelling", [SQL_FORM, SHOWN])
def test_trigger_install_show_remove_take_either_spelling(db, pg_dsn, spelling):
    execute(pg_dsn, SCHEMA)
    r = run_cli("trigger", "install", "--dsn", pg_dsn, "--table", spelling, "--channel", "items")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('installed on "Sales Dept"."Order Items"')
    r = run_cli("trigger", "show", "--dsn", pg_dsn, "--table", spelling)
    assert r.returncode == 0, r.stderr
    r = run_cli("trigger", "remove", "--dsn", pg_dsn, "--table", spelling)
    assert r.returncode == 0 and r.stdout == 'removed from "Sales Dept"."Order Items"\n', r.stderr


@pytest.mark.parametrize("spelling", ["Sales Dept.Nope", '"Sales Dept".nope', "nope"])
def test_trigger_names_a_table_that_is_not_there(db, pg_dsn, spelling):
    execute(pg_dsn, SCHEMA)
    for action in ("install", "remove", "show"):
        r = run_cli("trigger", action, "--dsn", pg_dsn, "--table", spelling)
        assert r.returncode == 2, (action, r.stderr)
        assert r.stderr.count("\n") == 1 and "no table " in r.stderr, r.stderr
        assert spelling.strip() in r.stderr


def listen_until(dsn: str, *args: str) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "pgwatch_gui", "listen", "--dsn", dsn,
                          "-c", "items", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=cli_env())
    line = p.stderr.readline()
    assert line.startswith("listening on"), line + p.stderr.read()
    return p


@pytest.mark.parametrize("spelling", [SQL_FORM, SHOWN, "Order Items", '"Order Items"'])
def test_listen_filter_history_match_either_spelling(pg_dsn, tmp_path, spelling):
    p = listen_until(pg_dsn, "--table", spelling, "--count", "1", "--timeout", "30")
    import psycopg

    with psycopg.connect(pg_dsn, autocommit=True) as c:
        for schema, table in (("public", "orders"), ("Sales Dept", "Order Items")):
            c.execute("SELECT pg_notify('items', %s)", (envelope(schema, table, 1),))
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    assert json.loads(out)["table"] == "Order Items"

    both = out.replace("Sales Dept", "public").replace("Order Items", "orders") + out
    r = run_cli("filter", "--table", spelling, input=both)
    assert r.returncode == 0 and r.stdout == out, r.stderr

    data = tmp_path / "data"
    w = JournalWriter(data / "journal.sqlite3", retention=Retention(max_age=1e12)).start()
    w.submit([new_event(i, time.time(), "p", "items", 1, envelope(s, t, i))
              for i, (s, t) in enumerate([("public", "orders"), ("Sales Dept", "Order Items")])])
    assert w.flush()
    w.close()
    r = run_cli("history", "--table", spelling, PGWATCH_DATA_DIR=str(data))
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["table"] for x in r.stdout.splitlines()] == ["Order Items"]


def test_a_malformed_filter_table_is_one_line():
    r = run_cli("filter", "--table", 'bad"name', input="")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "bad\"name" in r.stderr


@pytest.mark.parametrize("spelling", [SQL_FORM, SHOWN])
def test_changes_takes_either_spelling(logical_dsn, spelling):
    execute(logical_dsn, SCHEMA)
    r = run_cli("changes", "--dsn", logical_dsn, "--table", spelling, "--timeout", "0.5")
    assert r.returncode == 0, r.stderr
    assert 'FOR TABLE "Sales Dept"."Order Items"' in r.stderr
    r = run_cli("changes", "--dsn", logical_dsn, "--schema", "Sales Dept", "--timeout", "0.5")
    assert r.returncode == 0, r.stderr
    assert "streaming changes of schema Sales Dept" in r.stderr
    assert slots_and_publications(logical_dsn) == ([], [])


def test_changes_names_a_table_that_is_not_there(logical_dsn):
    execute(logical_dsn, SCHEMA)
    for args, named in ((["--table", "Sales Dept.Nope"], "no table Sales Dept.Nope"),
                        (["--table", "orders", "--table", "public.nope"], "no table public.nope"),
                        (["--schema", "Nope Dept"], "no schema Nope Dept")):
        r = run_cli("changes", "--dsn", logical_dsn, *args, "--timeout", "0.5")
        assert r.returncode == 2, r.stderr
        assert r.stderr.count("\n") == 1 and named in r.stderr, r.stderr
    assert slots_and_publications(logical_dsn) == ([], [])

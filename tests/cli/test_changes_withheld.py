"""`changes` never prints the columns a table's notify trigger marks 'never send' (a
publication column list, PostgreSQL 15+), and says that it holds them back."""

from __future__ import annotations

import json

import psycopg
import pytest

from pgwatch_gui.core.triggers.spec import TriggerSpec
from tests.cli.test_changes_cli import start_changes
from tests.conftest import run_cli
from tests.core.replication.streams import execute
from tests.core.trigger_helpers import install


def test_changes_holds_back_never_sent_columns(logical_dsn):
    with psycopg.connect(logical_dsn) as c:
        if c.info.server_version < 150000:
            pytest.skip("column lists need PostgreSQL 15")
    execute(logical_dsn, "CREATE TABLE users (id int PRIMARY KEY, name text, email text)")
    install(logical_dsn, TriggerSpec("public", "users", channel="users", payload="row",
                                     exclude=("email",)))
    p, before = start_changes("--dsn", logical_dsn, "--table", "users", "--count", "1",
                              "--timeout", "60")
    said = "".join(before)
    assert 'FOR TABLE "public"."users" ("id", "name")' in said
    assert ("pgwatch-gui: warning: public.users: email held back (its notify trigger never "
            "sends them)") in said
    execute(logical_dsn, "INSERT INTO users VALUES (1, 'Ann', 'ann@example.com')")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    rec = json.loads(out.splitlines()[0])
    assert rec["op"] == "INSERT" and "Ann" in out
    assert "example.com" not in out


def test_changes_refuses_a_full_identity_table_it_cannot_hold_back(logical_dsn):
    with psycopg.connect(logical_dsn) as c:
        if c.info.server_version < 150000:
            pytest.skip("column lists need PostgreSQL 15")
    execute(logical_dsn, ["CREATE TABLE users (id int PRIMARY KEY, name text, email text)",
                          "ALTER TABLE users REPLICA IDENTITY FULL"])
    install(logical_dsn, TriggerSpec("public", "users", channel="users", payload="row",
                                     exclude=("email",)))
    r = run_cli("changes", "--dsn", logical_dsn, "--table", "users", "--count", "1",
                "--timeout", "20")
    assert r.returncode == 2
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("pgwatch-gui: error: public.users: its notify trigger never sends "
                           "email, but with REPLICA IDENTITY FULL")

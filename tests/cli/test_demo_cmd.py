"""`pgwatch-gui demo`: sets up the shop on a given database and writes at a rate."""

from __future__ import annotations

import json

from pgwatch_gui.core.demo.schema import demo_ready
from tests.conftest import run_cli


def test_demo_on_a_given_database(pg_dsn, db):
    r = run_cli("demo", "--dsn", pg_dsn, "--rate", "500", "--seconds", "1", "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert 0 < summary["changes"] <= 500 * summary["seconds"] + 1
    assert summary["target_rate"] == 500 and summary["errors"] == 0
    assert demo_ready(db)
    assert "shop_orders" in r.stderr  # it says where to listen
    # Once more: the schema exists now and is left as it is, the writing goes on.
    orders = db.execute("SELECT count(*) FROM shop.orders").fetchone()[0]
    r = run_cli("demo", "--dsn", pg_dsn, "--rate", "500", "--seconds", "0.5")
    assert r.returncode == 0, r.stderr
    assert db.execute("SELECT count(*) FROM shop.orders").fetchone()[0] >= orders


def test_demo_on_the_embedded_server(tmp_path):
    env = {"PGWATCH_DATA_DIR": str(tmp_path)}
    r = run_cli("demo", "--rate", "200", "--seconds", "0.5", **env)
    assert r.returncode == 0, r.stderr
    assert "embedded demo server" in r.stderr
    assert (tmp_path / "demo" / "pgdata" / "PG_VERSION").exists()
    assert not (tmp_path / "demo" / "demo.lock").exists()
    r = run_cli("--demo-reset", "demo", "--rate", "0", "--seconds", "0", **env)
    assert r.returncode == 0, r.stderr


def test_second_demo_says_the_first_runs(tmp_path):
    from pgwatch_gui.core.demo.server import DemoServer

    with DemoServer(tmp_path / "demo"):
        r = run_cli("demo", "--seconds", "0", PGWATCH_DATA_DIR=str(tmp_path))
    assert r.returncode == 2
    assert "already running" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_bad_rate_and_bad_database_are_one_line(tmp_path):
    r = run_cli("demo", "--rate", "5001")
    assert r.returncode == 2 and "between 0 and 5,000" in r.stderr
    r = run_cli("demo", "--dsn", f"host={tmp_path} port=1", "--seconds", "0")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "demo schema" in r.stderr

"""`pgwatch-gui changes` as a user runs it: real processes against a wal_level=logical server."""

from __future__ import annotations

import json
import signal
import subprocess

import psycopg

from tests.conftest import run_cli, start_cli
from tests.core.replication.streams import (
    execute,
    slots_and_publications,
    wait_published,
)

ITEMS = '"Sales Dept"."Order Items"'
SCHEMA = [
    'CREATE SCHEMA "Sales Dept"',
    'CREATE TABLE "Sales Dept"."Order Items" (id int, line int, "select" text, '
    "PRIMARY KEY (id, line))",
]


def start_changes(*args: str) -> tuple[subprocess.Popen, list[str]]:
    return start_cli("changes", *args, ready="streaming")


def test_jsonl_lines_then_exit_after_count_leaving_nothing(logical_dsn):
    execute(logical_dsn, SCHEMA)
    p, before = start_changes("--dsn", logical_dsn, "--table", ITEMS, "--count", "3",
                              "--timeout", "60")
    assert any("CREATE PUBLICATION" in x and '"Sales Dept"."Order Items"' in x for x in before)
    execute(logical_dsn, [
        f"""INSERT INTO {ITEMS} VALUES (1, 1, 'a'), (1, 2, 'b')""",
        f"""DELETE FROM {ITEMS} WHERE line = 2""",
        f"""INSERT INTO {ITEMS} VALUES (9, 9, 'not counted')""",
    ])
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    lines = [json.loads(x) for x in out.splitlines()]
    assert [(x["kind"], x["op"], x["schema"], x["table"], x["key"]) for x in lines] == [
        ("change", "INSERT", "Sales Dept", "Order Items", {"id": 1, "line": 1}),
        ("change", "INSERT", "Sales Dept", "Order Items", {"id": 1, "line": 2}),
        ("change", "DELETE", "Sales Dept", "Order Items", {"id": 1, "line": 2}),
    ]
    assert json.loads(lines[0]["payload"])["row"] == {"id": 1, "line": 1, "select": "a"}
    assert lines[0]["channel"].startswith("pgwatch_changes_")
    assert slots_and_publications(logical_dsn) == ([], [])


def test_text_format_and_timeout(logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    p, _ = start_changes("--dsn", logical_dsn, "--format", "text", "--timeout", "2")
    execute(logical_dsn, "INSERT INTO t VALUES (1, e'two\\nlines')")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert out.count("\n") == 1 and "  change  " in out and "two\\nlines" in out
    assert slots_and_publications(logical_dsn) == ([], [])


def test_refusal_is_one_line_and_exit_2(replica_dsn):
    r = run_cli("changes", "--dsn", replica_dsn, "--timeout", "5")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "wal_level" in r.stderr and "Traceback" not in r.stderr


def test_usage_errors(logical_dsn):
    r = run_cli("changes", "--dsn", logical_dsn, "--table", "t", "--publication", "p")
    assert r.returncode == 2 and "not several" in r.stderr
    r = run_cli("changes", "--dsn", logical_dsn, "--table", 'bad"name')
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_kill_9_leaves_no_slot_and_the_publication_is_offered_for_removal(logical_dsn):
    """A real kill -9: the slot goes with the connection, the publication stays, and the
    very next run reports it and --drop-leftovers drops it (no minute's wait: the
    process that made it is known to be gone)."""
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    p, _ = start_changes("--dsn", logical_dsn, "--table", "t", "--timeout", "60")
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=30)
    slots, pubs = slots_and_publications(logical_dsn)
    assert slots == [] and len(pubs) == 1 and pubs[0].startswith("pgwatch_changes_")
    with psycopg.connect(logical_dsn, autocommit=True) as c:
        info = json.loads(c.execute("SELECT obj_description(oid, 'pg_publication') "
                                    "FROM pg_publication").fetchone()[0])
    assert info["pid"] == p.pid and info["slot"].startswith("pgwatch_slot_")
    r = run_cli("changes", "--dsn", logical_dsn, "--table", "t", "--timeout", "0.5")
    assert r.returncode == 0 and f"leftover publication {pubs[0]}" in r.stderr, r.stderr
    r = run_cli("changes", "--dsn", logical_dsn, "--drop-leftovers")
    assert r.returncode == 0 and f"dropped publication {pubs[0]}" in r.stderr, r.stderr
    assert slots_and_publications(logical_dsn) == ([], [])
    r = run_cli("changes", "--dsn", logical_dsn, "--drop-leftovers")
    assert r.returncode == 0 and "no leftover publication" in r.stderr


def test_sigterm_cleans_up(logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    p, _ = start_changes("--dsn", logical_dsn, "--timeout", "60")
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 143, err  # 128 + SIGTERM, after the same cleanup
    assert slots_and_publications(logical_dsn) == ([], [])


def test_filter_flags_keep_only_matching_changes(logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY, status text)")
    p, _ = start_changes("--dsn", logical_dsn, "--table", "t", "--count", "1", "--timeout", "60",
                         "--where", "op = UPDATE and row.status = shipped")
    execute(logical_dsn, ["INSERT INTO t VALUES (1, 'new'), (2, 'new')",
                          "UPDATE t SET status = 'paid' WHERE id = 1",
                          "UPDATE t SET status = 'shipped' WHERE id = 2"])
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    (line,) = [json.loads(x) for x in out.splitlines()]
    assert (line["op"], line["key"]) == ("UPDATE", {"id": 2})
    r = run_cli("changes", "--dsn", logical_dsn, "--where", "row.a = = 1")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--where" in r.stderr


def test_profile_and_unknown_profile(logical_dsn, tmp_path):
    env = {"PGWATCH_CONFIG_DIR": str(tmp_path / "config"),
           "PGWATCH_TEST_KEYRING_FILE": str(tmp_path / "keyring.json")}
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    assert run_cli("profiles", "add", "shop", "--dsn", logical_dsn, **env).returncode == 0
    r = run_cli("changes", "--profile", "shop", "--timeout", "0.5", **env)
    assert r.returncode == 0 and "streaming changes of every table" in r.stderr, r.stderr
    r = run_cli("changes", "--profile", "nope", "--timeout", "0.5", **env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "nope" in r.stderr
    assert slots_and_publications(logical_dsn) == ([], [])


def test_json_exactly_and_a_new_table_of_the_schema(logical_dsn):
    """Issue 23: json values are the server's text; a table created while a --schema
    stream runs is streamed, after a line that says so."""
    execute(logical_dsn, ["CREATE SCHEMA shop",
                          "CREATE TABLE shop.docs (id int PRIMARY KEY, j json)"])
    p, _ = start_changes("--dsn", logical_dsn, "--schema", "shop", "--count", "2",
                         "--timeout", "60")
    doc = '{"n": 1.000000000000000000001, "n": 1e400}'
    execute(logical_dsn, [f"INSERT INTO shop.docs VALUES (1, '{doc}')",
                          "CREATE TABLE shop.later (id bigint PRIMARY KEY)"])
    wait_published(logical_dsn, "later")
    execute(logical_dsn, "INSERT INTO shop.later VALUES (12345678901234567)")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    docs, note, later = [json.loads(x) for x in out.splitlines()]
    assert f'"j":{doc}' in docs["payload"]
    assert note["kind"] == "gap" and "table shop.later was created after the stream" in \
        note["payload"]
    assert (later["table"], later["key"]) == ("later", {"id": 12345678901234567})

"""`pgwatch-gui audit` as a CI job runs it: real processes against a wal_level=logical server."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from tests.conftest import cli_env, run_cli, start_cli
from tests.core.replication.streams import execute, slots_and_publications

SCHEMA = [
    "CREATE TABLE orders (id int PRIMARY KEY, status text)",
    "CREATE FUNCTION orders_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "PERFORM pg_notify('orders_events', json_build_object('table', TG_TABLE_NAME, 'action', "
    "TG_OP, 'data', row_to_json(NEW))::text); RETURN NULL; END $$",
    "CREATE TRIGGER orders_notify AFTER INSERT OR UPDATE ON orders FOR EACH ROW "
    "EXECUTE FUNCTION orders_notify()",
]


def start_audit(*args: str) -> tuple[subprocess.Popen, list[str]]:
    return start_cli("audit", *args, ready="auditing")


def test_jsonl_discrepancies_summary_and_exit_1(logical_dsn):
    execute(logical_dsn, SCHEMA)
    p, before = start_audit("--dsn", logical_dsn, "--table", "orders", "--count", "3",
                            "--format", "jsonl", "--grace", "1")
    assert any("running: CREATE PUBLICATION" in x for x in before)
    execute(logical_dsn, ["INSERT INTO orders VALUES (1, 'new'), (2, 'new')",
                          "DELETE FROM orders WHERE id = 2"])
    out, err = p.communicate(timeout=60)
    assert p.returncode == 1, err
    lines = [json.loads(x) for x in out.splitlines()]
    (missing, summary) = lines
    assert (missing["kind"], missing["table"], missing["op"], missing["key"]) == (
        "missing", "public.orders", "DELETE", {"id": 2})
    assert "fires on INSERT, UPDATE only" in missing["reason"]
    assert missing["committed"] == {"id": 2} and isinstance(missing["txid"], int)
    assert summary == {"summary": True, "table": "public.orders", "changes": 3, "matched": 2,
                       "missing": 1, "mismatched": 0, "unexpected": 0}
    assert "1 missing" in err.splitlines()[-1]
    assert slots_and_publications(logical_dsn) == ([], [])


def test_text_all_matched_exit_0_on_timeout(logical_dsn):
    execute(logical_dsn, SCHEMA)
    p, _ = start_audit("--dsn", logical_dsn, "--table", "public.orders", "--timeout", "3",
                       "--grace", "0.5")
    execute(logical_dsn, ["INSERT INTO orders VALUES (1, 'new')",
                          "UPDATE orders SET status = 'paid'"])
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    assert out.splitlines()[0].split() == ["table", "changes", "matched", "missing",
                                           "mismatched", "unexpected"]
    assert out.splitlines()[1].split() == ["public.orders", "2", "2", "0", "0", "0"]
    assert "every change matched its notification: 2 of 2" in err


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_ctrl_c_end_the_audit_with_its_report_and_clean_up(logical_dsn, sig, code):
    """The report still comes, and the exit status is the signal's, as for every command."""
    execute(logical_dsn, SCHEMA)
    p, _ = start_audit("--dsn", logical_dsn, "--table", "orders", "--format", "jsonl",
                       "--grace", "0.5")
    execute(logical_dsn, "INSERT INTO orders VALUES (1, 'new')")
    time.sleep(0.5)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert p.returncode == code, err
    assert json.loads(out.splitlines()[-1])["matched"] == 1
    assert "Traceback" not in err
    assert slots_and_publications(logical_dsn) == ([], [])


def test_a_reader_that_goes_away_ends_the_audit_with_141_and_cleans_up(logical_dsn):
    """`audit | head`: head has exited; the audit notices within a second, no traceback."""
    execute(logical_dsn, SCHEMA)
    p, _ = start_audit("--dsn", logical_dsn, "--table", "orders", "--format", "jsonl")
    p.stdout.close()  # the reader goes away while nothing is being printed
    started = time.monotonic()
    err = p.stderr.read()
    p.wait(30)
    assert p.returncode == 141, err
    assert time.monotonic() - started < 3
    assert "Traceback" not in err
    assert slots_and_publications(logical_dsn) == ([], [])


def test_the_table_may_be_written_as_the_event_table_shows_it(logical_dsn):
    execute(logical_dsn, ['CREATE SCHEMA "Sales Dept"',
                          'CREATE TABLE "Sales Dept"."Order Items" (id int PRIMARY KEY)'])
    for spelling in ('"Sales Dept"."Order Items"', "Sales Dept.Order Items"):
        r = run_cli("audit", "--dsn", logical_dsn, "--table", spelling, "-c", "x",
                    "--timeout", "0.5", "--format", "jsonl")
        assert r.returncode == 0, (spelling, r.stderr)
        assert json.loads(r.stdout.splitlines()[-1])["table"] == '"Sales Dept"."Order Items"'
    r = run_cli("audit", "--dsn", logical_dsn, "--table", "Sales Dept.Nope", "-c", "x")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Nope" in r.stderr, r.stderr


def test_kill_9_leaves_a_publication_that_changes_drop_leftovers_removes(logical_dsn):
    execute(logical_dsn, SCHEMA)
    p, _ = start_audit("--dsn", logical_dsn, "--table", "orders")
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=30)
    slots, pubs = slots_and_publications(logical_dsn)
    assert slots == [] and len(pubs) == 1
    with psycopg.connect(logical_dsn, autocommit=True) as c:  # pretend it was long ago
        comment = c.execute("SELECT obj_description(oid, 'pg_publication') FROM pg_publication"
                            ).fetchone()[0]
        info = {**json.loads(comment), "created": 0}
        c.execute(f"COMMENT ON PUBLICATION {pubs[0]} IS '{json.dumps(info)}'")
    r = run_cli("audit", "--dsn", logical_dsn, "--table", "orders", "--timeout", "0.5")
    assert r.returncode == 0 and f"leftover publication {pubs[0]}" in r.stderr
    r = run_cli("changes", "--dsn", logical_dsn, "--drop-leftovers")
    assert r.returncode == 0 and f"dropped publication {pubs[0]}" in r.stderr
    assert slots_and_publications(logical_dsn) == ([], [])


def test_errors_are_one_line_and_exit_2(logical_dsn, replica_dsn):
    execute(logical_dsn, ["CREATE TABLE quiet (id int PRIMARY KEY)", *SCHEMA])
    for args, words in [
        (("--table", "nope"), "no table nope"),
        (("--table", "quiet"), "no notify trigger on public.quiet"),
        ((), "at least one --table"),
        (("--table", 'bad"name'), ""),
        (("--table", "orders", "--count", "0"), "--count"),
        (("--table", "orders", "-c", "x" * 64), "channel"),
    ]:
        r = run_cli("audit", "--dsn", logical_dsn, *args, "--timeout", "5")
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.strip().splitlines()[-1].startswith("pgwatch-gui: error:"), r.stderr
        assert words in r.stderr and "Traceback" not in r.stderr
    execute(replica_dsn, SCHEMA)
    r = run_cli("audit", "--dsn", replica_dsn, "--table", "orders", "--timeout", "5")
    assert r.returncode == 2 and "wal_level" in r.stderr and r.stderr.count("\n") == 1


def test_an_audit_into_a_full_disk_says_so_in_one_line_exits_1_and_cleans_up(logical_dsn):
    """As listen, changes and history (cli.md, exit codes); before: a traceback."""
    execute(logical_dsn, SCHEMA)
    env = {k: v for k, v in cli_env().items() if k != "PYTHONUNBUFFERED"}  # as a user runs it
    with open("/dev/full", "w") as sink:
        p = subprocess.Popen([sys.executable, "-m", "pgwatch_gui", "audit", "--dsn", logical_dsn,
                              "--table", "orders", "--count", "3", "--format", "jsonl",
                              "--grace", "1"], stdout=sink, stderr=subprocess.PIPE, text=True,
                             env=env)
        while "auditing" not in (line := p.stderr.readline()):
            assert line, p.stderr.read()
        execute(logical_dsn, ["INSERT INTO orders VALUES (1, 'new'), (2, 'new')",
                              "DELETE FROM orders WHERE id = 2"])
        err = p.communicate(timeout=60)[1]
    assert p.returncode == 1, err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == \
        "pgwatch-gui: error: cannot write the output: No space left on device"
    assert slots_and_publications(logical_dsn) == ([], [])

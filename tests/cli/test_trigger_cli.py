"""`pgwatch-gui trigger ...` end to end: a subprocess against the real server."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import psycopg
import pytest
from psycopg import sql

from pgwatch_gui.core.triggers import manage as triggers
from pgwatch_gui.core.triggers.spec import TriggerSpec
from tests.conftest import dsn_for, run_cli
from tests.core.trigger_helpers import NOTHING_LEFT, call, pgwatch_leftovers
from tests.seed_triggers import ALL_SEEDS, EXPECTED


def trig(*args):
    return run_cli("trigger", *args)


def one_line_error(proc):
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_install_list_remove_round_trip(db, pg_dsn):
    db.execute('CREATE TABLE "Order Items" (id int PRIMARY KEY, "User Id" int, secret text)')
    db.execute('CREATE TABLE plain (id int PRIMARY KEY, "User Id" int)')  # no secret
    p = trig("install", "--dsn", pg_dsn, "--table", 'public."Order Items"', "--table", "plain",
             "--events", "insert,update,truncate", "--channel-prefix", "user_",
             "--channel-column", '"User Id"', "--payload", "row", "--exclude", "secret",
             "--update-of", '"User Id"', "--when", "true")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0].startswith('installed on public."Order Items": INSERT, '
                                                'UPDATE, TRUNCATE -> channel user_<User Id>')
    db.execute("LISTEN user_7")
    db.execute("INSERT INTO \"Order Items\" VALUES (1, 7, 'pw')")
    (n,) = list(db.notifies(timeout=3, stop_after=1))
    payload = json.loads(n.payload)
    assert payload["row"] == {"id": 1, "User Id": 7}

    listed = trig("list", "--dsn", pg_dsn, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert [(i["schema"], i["table"]) for i in data["installed"]] == [
        ("public", "Order Items"), ("public", "plain")]
    first = data["installed"][0]
    assert first["spec"]["exclude"] == ["secret"] and first["spec"]["when"] == "true"
    assert first["triggers"] == ["pgwatch_notify", "pgwatch_notify_truncate"]
    assert data["other"] == []
    text = trig("list", "--dsn", pg_dsn).stdout
    assert 'public."Order Items"  INSERT,UPDATE,TRUNCATE  channel user_<User Id>' in text

    r = trig("remove", "--dsn", pg_dsn, "--table", 'public."Order Items"')
    assert r.returncode == 0 and r.stdout == 'removed from public."Order Items"\n'
    r = trig("remove", "--dsn", pg_dsn, "--all")
    assert r.returncode == 0 and r.stdout == "removed from public.plain\n"
    r = trig("remove", "--dsn", pg_dsn, "--all")
    assert r.returncode == 0 and "nothing to remove" in r.stderr
    left = db.execute("SELECT (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgwatch%'), "
                      "(SELECT count(*) FROM pg_namespace WHERE nspname = 'pgwatch')").fetchone()
    assert left == (0, 0)


def test_dry_run_prints_the_script_and_changes_nothing(db, pg_dsn):
    db.execute("CREATE TABLE t (id int PRIMARY KEY)")
    p = trig("install", "--dsn", pg_dsn, "--table", "t", "--dry-run")
    assert p.returncode == 0, p.stderr
    oid = db.execute("SELECT 't'::regclass::oid").fetchone()[0]
    assert f'CREATE OR REPLACE FUNCTION "pgwatch"."public.t#{oid}"()' in p.stdout
    assert "CREATE TRIGGER \"pgwatch_notify\"" in p.stdout
    assert db.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgwatch%'"
                      ).fetchone()[0] == 0
    # the printed script is a working migration: one transaction of its own
    assert "\nBEGIN;\nSET LOCAL lock_timeout" in p.stdout and p.stdout.endswith("COMMIT;\n")
    db.execute(p.stdout.encode())
    assert trig("remove", "--dsn", pg_dsn, "--table", "t", "--dry-run").stdout.count("DROP") == 3


def test_errors_are_one_line_with_the_servers_message(db, pg_dsn):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, status text)")
    line = one_line_error(trig("install", "--dsn", pg_dsn, "--table", "public.nope"))
    assert line == "pgwatch-gui: error: --table: no table public.nope in this database"
    line = one_line_error(trig("install", "--dsn", pg_dsn, "--table", "t", "--events",
                               "update", "--when", "NEW.stauts <> OLD.status"))
    assert line.startswith("pgwatch-gui: error: public.t: column new.stauts does not exist")
    assert 'Perhaps you meant to reference the column "new.status"' in line
    line = one_line_error(trig("install", "--dsn", pg_dsn, "--table", "t", "--when",
                               "NEW.status = 'x'"))
    assert "DELETE trigger's WHEN condition cannot reference NEW values" in line
    line = one_line_error(trig("install", "--dsn", pg_dsn, "--table", "public.Order Items"))
    assert line.endswith("--table: no table public.Order Items in this database")
    line = one_line_error(trig("install", "--dsn", pg_dsn, "--table", "t",
                               "--channel-prefix", "u_"))
    assert "--channel-prefix needs --channel-column" in line
    line = one_line_error(trig("install", "--dsn", pg_dsn, "--table", "t", "--exclude", "nope"))
    assert "has no column 'nope'" in line
    line = one_line_error(trig("install", "--dsn", pg_dsn, "--table", "t", "--events", "upsert"))
    assert "unknown event 'upsert'" in line
    line = one_line_error(trig("remove", "--dsn", pg_dsn, "--table", "t"))
    assert "no trigger installed by pgwatch-gui" in line


def test_a_role_without_privileges(db, pg_server, pg_dsn):
    db.execute("CREATE TABLE t (id int PRIMARY KEY)")
    role = f"r_{uuid.uuid4().hex[:8]}"
    db.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        p = trig("install", "--dsn", dsn_for(pg_dsn, user=role), "--table", "t")
        line = one_line_error(p) if p.stderr.count("\n") == 1 else p.stderr.splitlines()[-1]
        assert p.returncode == 2
        assert line.startswith("pgwatch-gui: error: permission denied")
        assert "does not own table public.t" in line
        listed = trig("list", "--dsn", dsn_for(pg_dsn, user=role))
        assert listed.returncode == 0  # reading the catalog needs no privilege
    finally:
        db.close()
        with psycopg.connect(pg_server, autocommit=True) as su:
            su.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_list_shows_the_seed_triggers_with_their_channels(db, pg_dsn):
    db.execute(ALL_SEEDS)
    data = json.loads(trig("list", "--dsn", pg_dsn, "--format", "json").stdout)
    got = {}
    for t in data["other"]:
        names = [c["name"] + (f"<{c['column']}>" if c["kind"] == "prefix" else "")
                 for c in t["channels"]]
        got[(t["table"], t["trigger"])] = names
    assert got == EXPECTED
    text = trig("list", "--dsn", pg_dsn).stdout
    assert "pgwatch-gui triggers: none" in text
    assert 'public."Notification"  user_notification_trigger  AFTER INSERT  ' \
           "public.notify_user_notification()  channels: user_notifications_<user_id>" in text


def test_show_prints_spec_and_function(db, pg_dsn):
    db.execute("CREATE TABLE t (id int PRIMARY KEY)")
    assert trig("install", "--dsn", pg_dsn, "--table", "t", "--channel", "c").returncode == 0
    p = trig("show", "--dsn", pg_dsn, "--table", "t")
    assert p.returncode == 0, p.stderr
    assert '"channel": "c"' in p.stdout and "CREATE OR REPLACE FUNCTION pgwatch" in p.stdout


PSQL_15 = "/usr/lib/postgresql/15/bin/psql"


def psql_file(dsn, path):
    return subprocess.run([PSQL_15, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f",
                           str(path)], capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"})


@pytest.mark.skipif(not os.path.exists(PSQL_15), reason="Debian's psql 15 is not installed")
def test_dry_run_is_a_migration_psql_runs_as_one_transaction(db, pg_dsn, tmp_path):
    db.execute('CREATE TABLE "Order Items" (id int PRIMARY KEY, "bäck\\slash" text, '
               "note text)")
    db.execute("CREATE TABLE doomed (id int PRIMARY KEY)")
    args = ("--dsn", pg_dsn, "--payload", "row", "--channel", "oi:1", "--exclude", "note")
    # Two tables, the second gone by the time the migration runs: nothing may be left.
    p = trig("install", "--table", 'public."Order Items"', "--table", "doomed", "--dry-run",
             *args)
    assert p.returncode == 0, p.stderr
    (tmp_path / "both.sql").write_text(p.stdout, encoding="utf-8")
    db.execute("DROP TABLE doomed")
    r = psql_file(pg_dsn, tmp_path / "both.sql")
    assert r.returncode == 3 and 'relation "public.doomed" does not exist' in r.stderr
    assert pgwatch_leftovers(db) == NOTHING_LEFT

    p = trig("install", "--table", 'public."Order Items"', "--dry-run", *args)
    (tmp_path / "one.sql").write_text(p.stdout, encoding="utf-8")
    r = psql_file(pg_dsn, tmp_path / "one.sql")
    assert r.returncode == 0, r.stderr
    assert "WARNING" not in r.stderr  # SET LOCAL inside the script's own transaction
    db.execute('LISTEN "oi:1"')
    db.execute("INSERT INTO \"Order Items\" VALUES (1, 'a\\b', 'private')")
    (n,) = list(db.notifies(timeout=3, stop_after=1))
    assert json.loads(n.payload)["row"] == {"id": 1, "bäck\\slash": "a\\b"}
    # what --dry-run printed is the plan's script, byte for byte (the window shows and
    # saves the same)
    spec = TriggerSpec("public", "Order Items", channel="oi:1", payload="row",
                       exclude=("note",))
    (tmp_path / "again.sql").write_text(
        trig("install", "--table", 'public."Order Items"', "--dry-run", *args).stdout)
    assert (tmp_path / "again.sql").read_text() == call(
        pg_dsn, triggers.plan_install, [spec]).script


def test_dry_run_refuses_a_when_the_install_would_refuse(db, pg_dsn):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, status text)")
    for events, when, word in (("insert,update,delete", "NEW.status = 'x'", "DELETE"),
                               ("delete", "NEW.status = 'x'", "DELETE"),
                               ("insert", "OLD.status IS NULL", "INSERT"),
                               ("insert,update", "NEW IS DISTINCT FROM OLD", "INSERT")):
        for extra in (("--dry-run",), ()):
            line = one_line_error(trig("install", "--dsn", pg_dsn, "--table", "t",
                                       "--events", events, "--when", when, *extra))
            assert f"{word} trigger's WHEN condition cannot reference" in line, line
    line = one_line_error(trig("install", "--dsn", pg_dsn, "--table", "t", "--dry-run",
                               "--when", "EXISTS (SELECT 1 FROM t WHERE id = NEW.id)",
                               "--events", "insert"))
    assert "subquery" in line
    for events, when in (("update", "NEW IS DISTINCT FROM OLD"), ("delete", "OLD.id > 0"),
                         ("insert", 'NEW."status" = \'x\'')):
        p = trig("install", "--dsn", pg_dsn, "--table", "t", "--dry-run", "--events", events,
                 "--when", when)
        assert p.returncode == 0, p.stderr
    assert pgwatch_leftovers(db)["triggers"] == 0


def test_listen_reads_the_numbered_payloads_of_one_transaction(db, pg_dsn):
    """Two identical updates of one row in one transaction: both reach `listen`, which
    parses op, table and key and keeps txid and seq in the payload (--where sees them)."""
    from tests.cli.test_listen_notify import start_listen

    db.execute("CREATE TABLE t (id int PRIMARY KEY, qty int)")
    db.execute("INSERT INTO t VALUES (7, 0)")
    assert trig("install", "--dsn", pg_dsn, "--table", "t", "--channel", "t").returncode == 0
    p = start_listen("--dsn", pg_dsn, "-c", "t", "--count", "2", "--timeout", "30",
                     "--where", "seq >= 1 and txid > 0")
    with db.transaction():
        db.execute("UPDATE t SET qty = 1 WHERE id = 7")
        db.execute("UPDATE t SET qty = 1 WHERE id = 7")
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    lines = [json.loads(x) for x in out.splitlines()]
    assert [(x["op"], x["table"], x["key"]) for x in lines] == [("UPDATE", "t", {"id": 7})] * 2
    payloads = [json.loads(x["payload"]) for x in lines]
    assert [x["seq"] for x in payloads] == [1, 2]
    assert payloads[0]["txid"] == payloads[1]["txid"]


def test_list_and_remove_all_see_leftovers_and_partitions(db, pg_dsn):
    db.execute("CREATE TABLE gone (id int PRIMARY KEY)")
    db.execute("CREATE TABLE m (id int, PRIMARY KEY (id)) PARTITION BY RANGE (id)")
    db.execute("CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (10)")
    db.execute("CREATE TABLE m2 PARTITION OF m FOR VALUES FROM (10) TO (20)")
    assert trig("install", "--dsn", pg_dsn, "--table", "gone", "--table", "m").returncode == 0
    db.execute("DROP TABLE gone")
    text = trig("list", "--dsn", pg_dsn).stdout
    assert "  public.m  INSERT,UPDATE,DELETE  channel pgwatch  payload keys  key id  " \
           "and its 2 partitions" in text
    assert "leftover functions of pgwatch-gui (trigger remove --all drops them):" in text
    assert '  pgwatch."public.gone#' in text and "made for public.gone, which no longer " \
           "exists" in text
    data = json.loads(trig("list", "--dsn", pg_dsn, "--format", "json").stdout)
    assert data["installed"][0]["partitions"] == 2
    (left,) = data["leftovers"]
    assert left["schema"] == "pgwatch" and left["function"].startswith("public.gone#")
    line = one_line_error(trig("remove", "--dsn", pg_dsn, "--table", "m1"))
    assert "public.m1 is a partition of public.m, whose pgwatch trigger covers it" in line
    r = trig("remove", "--dsn", pg_dsn, "--all")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "removed from public.m"
    assert r.stdout.splitlines()[1].startswith('removed leftover function pgwatch."public.gone#')
    assert pgwatch_leftovers(db) == NOTHING_LEFT
    r = trig("remove", "--dsn", pg_dsn, "--all")
    assert r.returncode == 0 and "nothing to remove" in r.stderr

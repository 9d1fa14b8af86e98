"""`pgwatch-gui trigger ...` end to end: a subprocess against the real server."""

from __future__ import annotations

import json
import uuid

import psycopg
from psycopg import sql

from tests.conftest import dsn_for, run_cli
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
    assert "CREATE OR REPLACE FUNCTION \"pgwatch\".\"public.t\"()" in p.stdout
    assert "CREATE TRIGGER \"pgwatch_notify\"" in p.stdout
    assert db.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgwatch%'"
                      ).fetchone()[0] == 0
    # the printed script is a working migration
    with db.transaction():
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

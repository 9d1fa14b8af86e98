"""`listen` after its password stopped working: exit status 2 and one line, at once,
instead of a failed login every 2 s forever."""

from __future__ import annotations

import time

import psycopg
from psycopg import sql

from tests.cli.test_listen_notify import start_listen
from tests.conftest import dsn_for
from tests.pgroles import password_role


def test_listen_exits_2_when_its_password_stops_working(pg_server):
    with password_role(pg_server, "right") as role:
        dsn = dsn_for(pg_server, user=role, password="right", dbname="postgres")
        p = start_listen("--dsn", dsn, "-c", "orders")
        try:
            with psycopg.connect(pg_server, autocommit=True) as c:
                c.execute(sql.SQL("ALTER ROLE {} PASSWORD 'changed'").format(
                    sql.Identifier(role)))
                pid = c.execute("SELECT pid FROM pg_stat_activity WHERE usename = %s",
                                (role,)).fetchone()[0]
                t0 = time.monotonic()
                c.execute("SELECT pg_terminate_backend(%s)", (pid,))
            _out, err = p.communicate(timeout=20)
            took = time.monotonic() - t0
        finally:
            p.kill()
    assert p.returncode == 2
    lines = [x for x in err.splitlines() if x.strip()]
    assert lines[-1].startswith("pgwatch-gui: ") and "password authentication failed" in lines[-1]
    # At most the one announced retry before it: no loop of failed logins.
    assert sum("reconnecting" in x for x in lines) <= 1
    assert took < 5

"""The connection test, against the real server (and a pooler-like proxy in front of it)."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid

import psycopg
import pytest
from psycopg import sql

from pgwatch_gui.core.pg.conncheck import ConnectionReport, check_connection
from tests.conftest import dsn_for
from tests.pgproxy import PgProxy
from tests.pgroles import password_role


def run(coro):
    return asyncio.run(coro)


def test_report_from_the_real_server(pg_dsn):
    r = run(check_connection(pg_dsn))
    assert r.ok, r.error
    assert r.server_version_num >= 100000 and r.server_version
    assert r.current_user and r.database == psycopg.conninfo.conninfo_to_dict(pg_dsn)["dbname"]
    assert r.in_recovery is False
    assert r.listen_works is True and r.pooler == ""
    assert r.queue_usage == 0.0
    assert r.can_create_triggers is True and r.can_listen
    text = "\n".join(r.lines())
    assert "Server: PostgreSQL" in text and "self-test: passed" in text
    assert "Hot standby: no" in text and "Notification queue: 0.0% used" in text


def test_failure_reports_the_servers_message(pg_server):
    r = run(check_connection(dsn_for(pg_server, dbname="no_such_db_here")))
    assert not r.ok
    assert 'database "no_such_db_here" does not exist' in r.error
    assert r.lines() == [f"Connection failed: {r.error}"]
    assert not r.error.lower().startswith("connection failed")


def test_malformed_string_is_a_report_not_an_exception():
    r = run(check_connection("host='unterminated"))
    assert not r.ok and "invalid connection string" in r.error


def test_wrong_password_message_has_no_password(pg_server):
    with password_role(pg_server, "right-pw") as role:
        good = run(check_connection(dsn_for(pg_server, user=role, password="right-pw",
                                            dbname="postgres")))
        assert good.ok and good.current_user == role
        bad = run(check_connection(dsn_for(pg_server, user=role, password="Wr0ngPassw0rd",
                                           dbname="postgres")))
        assert not bad.ok and "password authentication failed" in bad.error
        assert "Wr0ngPassw0rd" not in bad.error
        none = run(check_connection(dsn_for(pg_server, user=role, dbname="postgres")))
        assert not none.ok and "no password supplied" in none.error


def test_privileges_of_a_plain_user(pg_dsn, pg_server):
    role = f"pgw_plain_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute('CREATE TABLE public.orders (id int primary key)')
        conn.execute('CREATE TABLE public."Order Items" (id int)')
        try:
            r = run(check_connection(dsn_for(pg_dsn, user=role)))
            assert r.ok and not r.superuser
            assert (r.tables, r.trigger_tables) == (2, 0)
            assert r.can_create_triggers is False
            assert "no TRIGGER privilege on any of 2 tables" in r.trigger_summary()
            conn.execute(sql.SQL("GRANT TRIGGER ON public.orders TO {}").format(
                sql.Identifier(role)))
            conn.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(
                sql.Identifier(role)))
            r = run(check_connection(dsn_for(pg_dsn, user=role)))
            assert r.can_create_triggers is True
            assert r.trigger_summary() == "yes, on 1 of 2 tables"
        finally:
            conn.execute("DROP TABLE public.orders, public.\"Order Items\"")
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_transaction_pooler_where_listen_gets_nothing(pg_dsn):
    with PgProxy(pg_dsn, drop_notifications=True, fake_pid=424242) as proxy:
        r = run(check_connection(proxy.dsn(), selftest_wait=0.5))
    assert r.ok
    assert r.listen_works is False and not r.can_listen
    assert proxy.dropped >= 1
    assert "proxy in between" in r.pooler
    text = "\n".join(r.lines())
    assert "self-test: FAILED" in text and "Pooler:" in text


def test_pooler_host_name_as_on_neon(pg_dsn):
    with PgProxy(pg_dsn) as proxy:
        dsn = proxy.dsn(hostaddr="127.0.0.1",
                        host="ep-cool-name-123-pooler.eu-central-1.aws.neon.tech")
        r = run(check_connection(dsn))
    assert r.ok and "-pooler" in r.pooler
    assert r.listen_works is True  # a transparent proxy passes notifications on


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    yield srv.getsockname()[1]
    srv.close()


def test_timeout(silent_server):
    t0 = time.monotonic()
    r = run(check_connection(f"host=127.0.0.1 port={silent_server} sslmode=disable "
                             "gssencmode=disable connect_timeout=60", timeout=0.5))
    assert not r.ok and "timed out" in r.error
    assert time.monotonic() - t0 < 3


def test_cancel(silent_server):
    async def go():
        task = asyncio.ensure_future(check_connection(
            f"host=127.0.0.1 port={silent_server} sslmode=disable gssencmode=disable",
            timeout=30))
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - t0

    assert run(go()) < 1.0


def test_standby_report_says_listen_is_refused():
    r = ConnectionReport(ok=True, server_version="18.1", current_user="u", database="d",
                         in_recovery=True, can_create_triggers=False)
    assert not r.can_listen
    assert any("LISTEN is refused" in line for line in r.lines())

"""Reconnecting well: a refused login is not retried (a password that stopped working gave
22 failed logins in 35 s), and after a server restart the listener is back as soon as the
port accepts (a backoff grown to 2 s lost the first events after a restart)."""

from __future__ import annotations

import asyncio
import threading
import time

import psycopg
import pytest
from psycopg import sql

from pgwatch_gui.core.stream.listener import Listener
from pgwatch_gui.core.stream.reconnect import PortWatch, Target, auth_failure, probe_targets
from pgwatch_gui.core.stream.status import State
from tests.conftest import dsn_for
from tests.core.test_listener import Collector, started
from tests.core.test_listener_liveness import Timeline, sentinel_arrives
from tests.pgroles import password_role
from tests.restart_server import RestartableServer

# ---- what counts as a refused login ----------------------------------------------------------


@pytest.mark.parametrize("message", [
    'connection failed: connection to server on socket "/tmp/.s.PGSQL.5432" failed: FATAL:  '
    'password authentication failed for user "bob"',
    "connection to server at \"db\" (10.0.0.1), port 5432 failed: fe_sendauth: no password "
    "supplied",
    'FATAL:  no pg_hba.conf entry for host "10.0.0.9", user "bob", database "app", no '
    "encryption",
    'FATAL:  role "bob" is not permitted to log in',
])
def test_refused_logins_are_told_apart(message):
    assert auth_failure(psycopg.OperationalError(message))


@pytest.mark.parametrize("message", [
    "connection failed: connection to server at \"127.0.0.1\", port 5432 failed: Connection "
    "refused",
    "FATAL:  the database system is starting up",
    "FATAL:  terminating connection due to administrator command",
    "FATAL:  sorry, too many clients already",
])
def test_outages_are_not_refused_logins(message):
    assert not auth_failure(psycopg.OperationalError(message))


def test_probe_targets_read_the_connection_string():
    assert probe_targets("host=db.example.com port=6432 dbname=x") == [
        Target("db.example.com", 6432)]
    assert probe_targets("host=h1,h2 hostaddr=10.0.0.1,10.0.0.2 port=5433,5434") == [
        Target("10.0.0.1", 5433), Target("10.0.0.2", 5434)]
    assert probe_targets("host=/run/postgresql port=5432") == [
        Target("/run/postgresql", 5432, unix=True)]
    assert Target("/run/postgresql", 5432, True).path == "/run/postgresql/.s.PGSQL.5432"
    assert probe_targets("postgresql://u@db/app") == [Target("db", 5432)]
    assert probe_targets("not a conninfo ===") == []


# ---- a password that stops working -------------------------------------------------------------


def test_a_password_that_stops_working_fails_once_not_forever(pg_server):
    with password_role(pg_server, "right") as role:
        dsn = dsn_for(pg_server, user=role, password="right", dbname="postgres")

        async def main():
            col = Timeline()
            lst = Listener(dsn, ["ch"], on_batch=col.on_batch, on_status=col.on_status)
            await started(lst)
            with psycopg.connect(pg_server, autocommit=True) as c:
                c.execute(sql.SQL("ALTER ROLE {} PASSWORD 'changed'").format(
                    sql.Identifier(role)))
                c.execute("SELECT pg_terminate_backend(%s)", (lst.backend_pid,))
            t0 = time.monotonic()
            t, st = await col.until(lambda s: s.state is State.FAILED, 10)
            await lst.stop()
            tries = [s for s in col.statuses if s.state is State.RECONNECTING]
            return t - t0, st, tries

        took, st, tries = asyncio.run(main())
    assert st.auth_failed
    assert "password authentication failed" in st.reason
    assert len({s.attempt for s in tries}) == 1  # one try after the loss, then it stops
    assert took < 2.0


def test_a_missing_password_is_a_refused_login(pg_server):
    with password_role(pg_server, "right") as role:
        dsn = dsn_for(pg_server, user=role, dbname="postgres")

        async def main():
            col = Collector()
            lst = Listener(dsn, ["ch"], on_batch=col.on_batch, on_status=col.on_status)
            return await lst.run()

        st = asyncio.run(main())
    assert st.state is State.FAILED and st.auth_failed
    assert "no password supplied" in st.reason


# ---- the port watch -----------------------------------------------------------------------------


def test_an_open_port_that_refuses_is_not_hammered():
    """The server is there (the port accepts) but says no: the wait is the backoff's."""

    async def main():
        server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        watch = PortWatch(f"host=127.0.0.1 port={port}")
        t0 = time.monotonic()
        await watch.wait(0.6, asyncio.Event())
        took = time.monotonic() - t0
        server.close()
        return took, watch.early

    took, early = asyncio.run(main())
    assert took >= 0.55 and early == 0


def test_a_port_that_opens_ends_the_wait():
    async def main():
        probe = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        port = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()
        watch = PortWatch(f"host=127.0.0.1 port={port}")

        async def reopen():
            await asyncio.sleep(0.4)
            return await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", port)

        opener = asyncio.ensure_future(reopen())
        t0 = time.monotonic()
        await watch.wait(5.0, asyncio.Event())
        took = time.monotonic() - t0
        (await opener).close()
        return took, watch.early

    took, early = asyncio.run(main())
    assert 0.35 < took < 0.8 and early == 1


# ---- a real server restart ----------------------------------------------------------------------


@pytest.fixture
def restartable():
    try:
        server = RestartableServer()
        server.start()
    except Exception as exc:  # no binaries, no system user to run them as
        pytest.skip(f"no server to restart here: {exc}")
    yield server
    server.close()


def test_back_within_half_a_second_of_the_server_accepting(restartable):
    """Stopped for 3 s (the backoff has grown to its 2 s cap), then started again: the
    listener must be listening again within ~0.5 s of the port accepting."""
    dsn = restartable.dsn

    async def main():
        col = Timeline()
        lst = Listener(dsn, ["ch"], on_batch=col.on_batch, on_status=col.on_status)
        await started(lst)
        await asyncio.to_thread(restartable.stop)
        await col.until(lambda s: s.state is State.RECONNECTING, 10)
        await asyncio.sleep(3.0)
        accepted: list[float] = []
        starter = threading.Thread(target=lambda: (restartable.start(wait=False),
                                                   accepted.append(
                                                       restartable.wait_accepting())))
        t_restart = time.monotonic()
        starter.start()

        async def back() -> float:
            while True:
                for t, st in col.after(t_restart):
                    if st.state is State.LISTENING:
                        return t
                col.changed.clear()
                await col.changed.wait()

        t_back = await asyncio.wait_for(back(), 30)
        await asyncio.to_thread(starter.join, 30)
        await sentinel_arrives(col, dsn, "ch", 1)
        await lst.stop()
        return t_back - accepted[0], lst.ports.early

    lag, early = asyncio.run(main())
    print(f"listening again {lag * 1000:.0f} ms after the server accepted")
    assert early >= 1
    assert lag < 0.5

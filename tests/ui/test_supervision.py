"""Long-lived tasks are supervised: a failure is logged, shown and retried, never silent;
the queue monitor leaves alone connections whose listener failed."""

from __future__ import annotations

import asyncio
import logging

from pgwatch_gui.core.pg.connection import make_conninfo
from pgwatch_gui.core.stream.status import State
from pgwatch_gui.ui.common import hub as hub_mod
from pgwatch_gui.ui.common.hub import ConnectionHub
from pgwatch_gui.ui.common.tasks import task_failures
from pgwatch_gui.ui.events.status import QueueMonitor
from tests.conftest import dsn_for
from tests.ui.waiting import run_until


def test_queue_monitor_skips_a_failed_listener(qloop, pg_dsn):
    hub = ConnectionHub()
    bad = dsn_for(pg_dsn, dbname="no_such_database_here")
    monitor = QueueMonitor(hub, interval=0.05)
    polled: list[str] = []
    monitor.usage_changed.connect(lambda name, *_: polled.append(name))
    hub.open("good", make_conninfo(pg_dsn), ["x"])
    hub.open("bad", make_conninfo(bad), ["x"])
    try:
        run_until(qloop, lambda: hub.status("bad").state is State.FAILED)
        polled.clear()

        async def a_while():
            await asyncio.sleep(0.6)

        qloop.run_until_complete(a_while())
        assert polled.count("good") >= 3
        assert "bad" not in polled  # no login attempt every tick with a bad password
    finally:
        qloop.run_until_complete(monitor.stop())
        qloop.run_until_complete(hub.close_all())


def test_a_listener_dying_of_an_unexpected_error_is_shown_and_restarted(
        qloop, pg_dsn, monkeypatch, caplog):
    hub = ConnectionHub()
    shown: list[str] = []
    task_failures().failed.connect(lambda _n, text: shown.append(text))
    monkeypatch.setattr(hub_mod, "LISTENER_RESTARTS", 1)
    listener = hub.open("shop", make_conninfo(pg_dsn), ["x"])
    run_until(qloop, lambda: hub.is_listening("shop"))
    original = listener._session
    calls = {"n": 0}

    async def broken(conn):
        calls["n"] += 1
        raise KeyError("internal")

    try:
        with caplog.at_level(logging.ERROR):
            listener._session = broken
            listener._wake.set()
            # force a new session: drop the connection from the server side
            import psycopg

            with psycopg.connect(pg_dsn, autocommit=True) as c:
                c.execute("SELECT pg_terminate_backend(%s)", (listener.status.pid,))
            run_until(qloop, lambda: any("restarting" in t for t in shown), timeout=10)
            # restarted once, fails again: marked failed for good
            run_until(qloop, lambda: hub.status("shop").state is State.FAILED, timeout=10)
        assert "internal error" in hub.status("shop").reason
        assert any("listener shop failed" in r.message for r in caplog.records)
        assert calls["n"] == 2
    finally:
        listener._session = original
        qloop.run_until_complete(hub.close_all())

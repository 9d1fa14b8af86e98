"""A real notification through the qasync loop, the hub and into the Qt model."""

from __future__ import annotations

import asyncio

import psycopg

from pgwatch_gui.core.pg.connection import make_conninfo
from pgwatch_gui.ui.common.hub import ConnectionHub
from pgwatch_gui.ui.events.columns import COL_CHANNEL, COL_KEY, COL_OP, COL_TABLE
from pgwatch_gui.ui.events.model import EventTableModel
from tests.ui.waiting import until


def _notify(dsn, channel, payload, n=1):
    with psycopg.connect(dsn, autocommit=True) as c:
        # Distinct payloads: PostgreSQL folds identical notifications of one transaction.
        c.execute("SELECT pg_notify(%s, CASE WHEN %s = 1 THEN %s ELSE %s || g END) "
                  "FROM generate_series(1, %s) g", (channel, n, payload, payload, n))


def test_notification_reaches_model(qloop, pg_dsn):
    hub = ConnectionHub()
    model = EventTableModel(capacity=1000)
    hub.events_arrived.connect(model.append_events)
    inserts = []
    model.rowsInserted.connect(lambda *a: inserts.append(a))
    payload = ('{"v": 1, "op": "UPDATE", "schema": "public", "table": "Order Items", '
               '"key": {"id": 7}}')

    async def main():
        lst = hub.open("local", make_conninfo(pg_dsn), ["Live Feed"])
        await lst.wait_listening(10)
        await asyncio.to_thread(_notify, pg_dsn, "Live Feed", payload)
        await until(lambda: model.rowCount() == 1)
        await asyncio.to_thread(_notify, pg_dsn, "Live Feed", "n", 500)
        await until(lambda: model.rowCount() == 501)
        await hub.close_all()

    qloop.run_until_complete(main())
    row = [model.index(0, c).data() for c in (COL_CHANNEL, COL_OP, COL_TABLE, COL_KEY)]
    assert row == ["Live Feed", "UPDATE", "public.Order Items", "id=7"]
    assert model.event(0).profile == "local"
    assert len(inserts) < 100  # batched: far fewer inserts than events


def test_ring_evicts_oldest_in_one_remove_per_batch(qapp):
    from pgwatch_gui.core.stream.events import Event

    model = EventTableModel(capacity=100)
    removes = []
    model.rowsRemoved.connect(lambda _p, a, b: removes.append((a, b)))
    for start in range(0, 250, 50):
        model.append_events([Event(i, 0.0, "p", "c", 1, str(i)) for i in range(start, start + 50)])
    assert model.rowCount() == 100
    assert [model.event(i).seq for i in (0, 99)] == [150, 249]
    assert removes == [(0, 49), (0, 49), (0, 49)]
    assert model.evicted == 150

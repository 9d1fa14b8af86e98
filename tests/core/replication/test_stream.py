"""Row changes from a temporary slot, against a wal_level=logical server."""

from __future__ import annotations

import asyncio
import json

import psycopg
import pytest

from pgwatch_gui.core.replication.publication import WatchPlan
from pgwatch_gui.core.replication.source import ChangeSource
from pgwatch_gui.core.stream.events import KIND_CHANGE, KIND_GAP
from pgwatch_gui.core.stream.jsonl import event_to_json
from pgwatch_gui.core.stream.status import Backoff, State
from tests.core.replication.streams import Stream, execute, run_sql, slots_and_publications

ITEMS = WatchPlan(tables=(("Sales Dept", "Order Items"),))

AWKWARD = [
    'CREATE SCHEMA "Sales Dept"',
    'CREATE TABLE "Sales Dept"."Order Items" (order_id int, line int, "select" text, '
    "amount numeric(12, 4), at timestamptz, doc jsonb, tags text[], note text, "
    "PRIMARY KEY (order_id, line))",
]


def test_insert_update_delete_truncate_on_awkward_names(logical_dsn):
    execute(logical_dsn, AWKWARD)

    async def main():
        async with Stream(logical_dsn, ITEMS) as s:
            await run_sql(logical_dsn, [
                """INSERT INTO "Sales Dept"."Order Items" VALUES (7, 1, 'from', 12345678.1234,
                   '2026-11-30 10:00:00.5+00', '{"a": [1, null, "x"]}', '{a,"b c",NULL}', NULL)""",
                """UPDATE "Sales Dept"."Order Items" SET "select" = 'where' WHERE order_id = 7""",
                """DELETE FROM "Sales Dept"."Order Items" WHERE order_id = 7""",
                """TRUNCATE "Sales Dept"."Order Items" """,
            ])
            return await s.wait_for(4)

    ins, upd, dele, trunc = asyncio.run(main())
    assert [e.op for e in (ins, upd, dele, trunc)] == ["INSERT", "UPDATE", "DELETE", "TRUNCATE"]
    assert all(e.kind == KIND_CHANGE and e.schema == "Sales Dept" and e.table == "Order Items"
               for e in (ins, upd, dele, trunc))
    env = json.loads(ins.payload)
    assert env["v"] == 1 and env["key"] == {"order_id": 7, "line": 1}
    assert env["row"] == {
        "order_id": 7, "line": 1, "select": "from", "amount": "12345678.1234",
        "at": "2026-11-30 10:00:00.5+00", "doc": {"a": [1, None, "x"]},
        "tags": '{a,"b c",NULL}', "note": None}
    assert int(env["txid"]) > 0 and env["ts"].endswith("+00:00")
    assert "old" not in env
    assert json.loads(upd.payload)["row"]["select"] == "where"
    assert "old" not in json.loads(upd.payload)  # default identity, key unchanged
    assert json.loads(dele.payload)["old"] == {"order_id": 7, "line": 1}
    assert dele.key == {"order_id": 7, "line": 1} and trunc.key is None
    # the export and the inspector read it as any envelope
    rec = json.loads(event_to_json(ins))
    assert (rec["kind"], rec["op"], rec["table"], rec["key"]) == (
        "change", "INSERT", "Order Items", {"order_id": 7, "line": 1})
    assert ins.decoded.shape == "pgwatch"


def test_replica_identity_full_gives_old_row_and_changed(logical_dsn):
    execute(logical_dsn, [
        "CREATE TABLE t (id int PRIMARY KEY, a text, b int)",
        "ALTER TABLE t REPLICA IDENTITY FULL",
        "INSERT INTO t VALUES (1, 'x', 1)",
    ])

    async def main():
        async with Stream(logical_dsn, WatchPlan(tables=(("public", "t"),))) as s:
            await run_sql(logical_dsn, ["UPDATE t SET b = 2", "DELETE FROM t"])
            return await s.wait_for(2)

    upd, dele = asyncio.run(main())
    u = json.loads(upd.payload)
    assert u["old"] == {"id": 1, "a": "x", "b": 1} and u["row"]["b"] == 2
    assert u["changed"] == ["b"]
    assert u["key"] == {"id": 1}  # the primary key, not every column of FULL's identity
    assert json.loads(dele.payload)["old"] == {"id": 1, "a": "x", "b": 2}


def test_key_change_under_default_identity_gives_old_key(logical_dsn):
    execute(logical_dsn, ["CREATE TABLE t (id int PRIMARY KEY, a text)",
                          "INSERT INTO t VALUES (1, 'x')"])

    async def main():
        async with Stream(logical_dsn, WatchPlan(tables=(("public", "t"),))) as s:
            await run_sql(logical_dsn, "UPDATE t SET id = 2")
            return await s.wait_for(1)

    (upd,) = asyncio.run(main())
    env = json.loads(upd.payload)
    assert env["old"] == {"id": 1} and env["key"] == {"id": 2} and "changed" not in env


def test_megabyte_value_arrives_whole_and_unchanged_toast_is_marked(logical_dsn):
    execute(logical_dsn, "CREATE TABLE big (id int PRIMARY KEY, body text, n int)")
    body = "".join(chr(0x41 + (i * 7919) % 26) for i in range(1_000_000))  # not compressible

    async def main():
        async with Stream(logical_dsn, WatchPlan(tables=(("public", "big"),))) as s:
            await asyncio.to_thread(_insert_big, logical_dsn, body)
            await run_sql(logical_dsn, "UPDATE big SET n = 2")
            return await s.wait_for(2)

    ins, upd = asyncio.run(main())
    assert json.loads(ins.payload)["row"]["body"] == body
    u = json.loads(upd.payload)
    assert "body" not in u["row"] and u["unchanged_toast"] == ["body"]
    assert u["row"] == {"id": 1, "n": 2}


def _insert_big(dsn: str, body: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("INSERT INTO big VALUES (1, %s, 1)", (body,))


def test_hundred_thousand_row_transaction(logical_dsn):
    execute(logical_dsn, "CREATE TABLE bulk (id int PRIMARY KEY, v text)")

    async def main():
        async with Stream(logical_dsn, WatchPlan(tables=(("public", "bulk"),))) as s:
            await run_sql(logical_dsn, "INSERT INTO bulk SELECT g, 'row ' || g "
                                       "FROM generate_series(1, 100000) g")
            return await s.wait_for(100_000, timeout=90), s.source

    events, source = asyncio.run(main())
    assert len(events) == 100_000 and source.dropped == 0
    assert [e.key["id"] for e in events[:3]] == [1, 2, 3]
    assert events[-1].key == {"id": 100000}
    assert len({e.decoded.value["txid"] for e in events}) == 1


def test_whole_database_skips_tables_without_identity(logical_dsn):
    execute(logical_dsn, ["CREATE TABLE keyed (id int PRIMARY KEY)",
                          "CREATE TABLE loose (v text)"])

    async def main():
        async with Stream(logical_dsn) as s:
            setup = s.source.setup
            await run_sql(logical_dsn, ["INSERT INTO loose VALUES ('a')",
                                        "UPDATE loose SET v = 'b'",  # must not fail
                                        "INSERT INTO keyed VALUES (1)"])
            return setup, await s.wait_for(1)

    setup, events = asyncio.run(main())
    assert [t.name for t in setup.tables] == ["keyed"]
    assert [t.name for t in setup.skipped] == ["loose"]
    assert [e.table for e in events] == ["keyed"]


def test_stop_leaves_no_slot_and_no_publication(logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")

    async def main():
        async with Stream(logical_dsn, WatchPlan(tables=(("public", "t"),))) as s:
            with psycopg.connect(logical_dsn) as c:
                slots = c.execute("SELECT slot_name, temporary FROM pg_replication_slots"
                                  ).fetchall()
                pubs = c.execute("SELECT pubname FROM pg_publication").fetchall()
            return s.source.setup, slots, pubs

    setup, slots, pubs = asyncio.run(main())
    assert slots == [(setup.slot, True)] and pubs == [(setup.name,)]
    assert setup.name.startswith("pgwatch_changes_")
    assert slots_and_publications(logical_dsn) == ([], [])


def test_existing_publication_is_used_and_kept(logical_dsn):
    execute(logical_dsn, ["CREATE TABLE t (id int PRIMARY KEY)",
                          'CREATE PUBLICATION "My Pub" FOR TABLE t'])

    async def main():
        async with Stream(logical_dsn, WatchPlan(publication="My Pub")) as s:
            await run_sql(logical_dsn, "INSERT INTO t VALUES (5)")
            return await s.wait_for(1)

    (ev,) = asyncio.run(main())
    assert ev.key == {"id": 5} and ev.channel == "My Pub"
    assert slots_and_publications(logical_dsn) == ([], ["My Pub"])


def test_lost_connection_reconnects_with_a_gap_saying_it_cannot_resume(logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")

    async def main():
        async with Stream(logical_dsn, WatchPlan(tables=(("public", "t"),)),
                          backoff=Backoff(initial=0.1, cap=0.2)) as s:
            await run_sql(logical_dsn, "SELECT pg_terminate_backend(active_pid) "
                                       "FROM pg_replication_slots WHERE active")
            for _ in range(200):
                if any(e.kind == KIND_GAP for e in s.events) and \
                        s.source.status.state is State.LISTENING:
                    break
                await asyncio.sleep(0.05)
            await run_sql(logical_dsn, "INSERT INTO t VALUES (1)")
            await s.wait_for(1)
            return s.events, s.source.status

    events, status = asyncio.run(main())
    gaps = [e for e in events if e.kind == KIND_GAP]
    assert len(gaps) == 1 and "cannot resume" in gaps[0].payload
    assert events[-1].key == {"id": 1}
    assert "_1" in status.slot
    assert slots_and_publications(logical_dsn) == ([], [])


@pytest.mark.parametrize("interval", [0.2])
def test_keepalives_answered_and_lag_reported(logical_dsn, interval):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")

    async def main():
        async with Stream(logical_dsn, WatchPlan(tables=(("public", "t"),)),
                          status_interval=interval) as s:
            await run_sql(logical_dsn, "INSERT INTO t SELECT generate_series(1, 10)")
            await s.wait_for(10)
            await asyncio.sleep(1.5)
            with psycopg.connect(logical_dsn) as c:
                row = c.execute(
                    "SELECT confirmed_flush_lsn >= (SELECT pg_current_wal_lsn()) - 1000000 "
                    "FROM pg_replication_slots").fetchone()
            return row, s.source.status

    row, status = asyncio.run(main())
    assert row == (True,)
    assert status.state is State.LISTENING and "streaming changes" in status.describe()
    assert status.lag_bytes < 1_000_000


def test_prepared_setup_with_identity_full_streams_old_rows_of_a_keyless_table(logical_dsn):
    from pgwatch_gui.core.replication.preview import preview

    execute(logical_dsn, ['CREATE TABLE "No Key" (v text, n int)',
                          "INSERT INTO \"No Key\" VALUES ('a', 1)"])

    async def main():
        async with await psycopg.AsyncConnection.connect(logical_dsn, autocommit=True) as c:
            setup = (await preview(c, WatchPlan(tables=(("public", "No Key"),)))).with_full
        async with Stream(logical_dsn, setup=setup) as s:
            await run_sql(logical_dsn, "UPDATE \"No Key\" SET n = 2")
            return await s.wait_for(1)

    (upd,) = asyncio.run(main())
    env = json.loads(upd.payload)
    assert env["old"] == {"v": "a", "n": 1} and env["changed"] == ["n"]
    assert env["key"] == {"v": "a", "n": 2}  # no primary key: every column identifies the row
    assert slots_and_publications(logical_dsn) == ([], [])


def test_a_link_gone_silent_is_noticed_and_streaming_resumes_with_a_gap(logical_dsn):
    from tests.core.replication.blackhole import Blackhole

    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    with Blackhole(logical_dsn) as hole:

        async def main():
            async with Stream(hole.dsn(), WatchPlan(tables=(("public", "t"),)),
                              status_interval=0.2, silence_limit=1.5,
                              backoff=Backoff(initial=0.1, cap=0.2)) as s:
                hole.freeze()
                for _ in range(200):
                    if s.source.gaps and s.source.status.state is State.LISTENING:
                        break
                    await asyncio.sleep(0.05)
                await run_sql(logical_dsn, "INSERT INTO t VALUES (7)")
                await s.wait_for(1)
                return s.events

        events = asyncio.run(main())
    gap = next(e for e in events if e.kind == KIND_GAP)
    assert "no word from the server" in gap.payload and "cannot resume" in gap.payload
    assert events[-1].key == {"id": 7}
    assert slots_and_publications(logical_dsn) == ([], [])


def test_stop_while_the_slot_waits_for_an_open_transaction(logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    holder = psycopg.connect(logical_dsn)  # a transaction with an xid, left open
    holder.execute("INSERT INTO t VALUES (1)")
    try:
        async def main():
            statuses: list = []
            source = ChangeSource(logical_dsn, WatchPlan(tables=(("public", "t"),)),
                                  on_batch=lambda b: None, on_status=statuses.append)
            task = source.start()
            for _ in range(200):
                if "waits for transactions" in source.status.describe():
                    break
                await asyncio.sleep(0.05)
            described = source.status.describe()
            t0 = asyncio.get_running_loop().time()
            await source.stop()
            await task
            return described, asyncio.get_running_loop().time() - t0, source.status

        described, took, final = asyncio.run(main())
    finally:
        holder.rollback()
        holder.close()
    assert described.startswith("connecting: creating the slot waits for transactions")
    assert took < 3 and final.state is State.STOPPED
    assert slots_and_publications(logical_dsn) == ([], [])


def test_partitioned_table_changes_arrive_under_its_own_name(logical_dsn):
    execute(logical_dsn, [
        "CREATE TABLE m (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)",
        "CREATE TABLE m_2026 PARTITION OF m FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    ])

    async def main():
        async with Stream(logical_dsn) as s:  # every table: the partition comes with m
            setup = s.source.setup
            await run_sql(logical_dsn, "INSERT INTO m VALUES (1, '2026-05-01')")
            return setup, await s.wait_for(1)

    setup, (ev,) = asyncio.run(main())
    assert [t.name for t in setup.tables] == ["m"]
    assert "publish_via_partition_root" in setup.sql_text()
    assert ev.table == "m" and ev.key == {"id": 1, "at": "2026-05-01"}


def test_publication_dropped_under_the_stream(logical_dsn):
    """Before PostgreSQL 18 the walsender fails (one line, no reconnect loop); from 18 on
    it skips a missing publication and nothing more arrives."""
    execute(logical_dsn, ["CREATE TABLE t (id int PRIMARY KEY)",
                          "CREATE PUBLICATION theirs FOR TABLE t"])
    with psycopg.connect(logical_dsn) as c:
        version = c.info.server_version

    async def main():
        async with Stream(logical_dsn, WatchPlan(publication="theirs"),
                          backoff=Backoff(initial=0.1, cap=0.2)) as s:
            await run_sql(logical_dsn, ["DROP PUBLICATION theirs", "INSERT INTO t VALUES (1)"])
            for _ in range(60):
                if s.source.status.state is not State.LISTENING:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            return s.source.status, s.changes(), s.source.gaps

    status, changes, gaps = asyncio.run(main())
    assert changes == [] and gaps == 0
    if version < 180000:
        assert status.state is State.FAILED and "theirs" in status.reason, status
        assert "\n" not in status.reason
    else:
        assert status.state is State.LISTENING
    assert slots_and_publications(logical_dsn) == ([], [])


def test_stop_right_after_start_leaves_nothing(logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")

    async def main():
        source = ChangeSource(logical_dsn, WatchPlan(tables=(("public", "t"),)),
                              on_batch=lambda b: None)
        task = source.start()
        await source.stop()
        return await asyncio.wait_for(task, 5)

    assert asyncio.run(main()).state is State.STOPPED
    assert slots_and_publications(logical_dsn) == ([], [])


class _Route:
    """A route as core.ssh's TunnelRoute looks to a stream: a string before each connect."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.asked = 0
        self.closed = False

    async def conninfo(self) -> str:
        self.asked += 1
        return self.dsn

    async def close(self) -> None:
        self.closed = True


def test_a_route_is_asked_before_each_connect_and_left_open(logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    route = _Route(logical_dsn)

    async def main():
        async with Stream("host=/nonexistent", WatchPlan(tables=(("public", "t"),)),
                          route=route) as s:
            await run_sql(logical_dsn, "INSERT INTO t VALUES (3)")
            return await s.wait_for(1)

    (ev,) = asyncio.run(main())
    assert ev.key == {"id": 3}
    assert route.asked == 3 and not route.closed  # checks, the stream, the drop at the end
    assert slots_and_publications(logical_dsn) == ([], [])

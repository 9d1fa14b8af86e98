"""The audit end to end on a wal_level=logical server: real triggers, real causes."""

from __future__ import annotations

import psycopg

from pgwatch_gui.core.audit.results import MISMATCHED, MISSING, UNEXPECTED
from pgwatch_gui.core.triggers.spec import TriggerSpec
from tests.core.audit.runs import audit, plan_for
from tests.core.replication.streams import execute, slots_and_publications
from tests.core.trigger_helpers import install
from tests.replication_server import drop_database, fresh_database

T = ("public", "t")


def hand_written(table: str, body: str, *, events: str = "INSERT OR UPDATE OR DELETE",
                 when: str = "", level: str = "ROW") -> list[str]:
    """A plpgsql notify trigger function and its trigger on `table`."""
    return [
        f"CREATE FUNCTION {table}_notify() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\nRETURN NULL;\nEND $$",
        f"CREATE TRIGGER {table}_notify AFTER {events} ON {table} FOR EACH {level} {when} "
        f"EXECUTE FUNCTION {table}_notify()",
    ]


def test_this_tools_trigger_every_change_matches_and_nothing_is_left(logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY, status text, amount numeric, "
                         "at timestamptz, tags text[], doc jsonb, big text)")
    install(logical_dsn, TriggerSpec("public", "t", events=("INSERT", "UPDATE", "DELETE",
                                                             "TRUNCATE"),
                                     channel="t_changes", payload="row"))
    plan = _plan(logical_dsn, [("public", "t")])
    assert plan.channels == ("t_changes",) and plan.setup().sql_text().startswith(
        'CREATE PUBLICATION "pgwatch_changes_')
    run = audit(logical_dsn, [(None, "t")], [
        "SET TIME ZONE 'Asia/Kolkata'",  # to_json's zone is the writer's, not the stream's
        "INSERT INTO t VALUES (1, 'new', 12.50, '2026-11-30 10:00:00.5+00', '{a,\"b c\"}', "
        "'{\"k\": [1, null]}', NULL)",
        "UPDATE t SET status = 'paid', amount = 99.999 WHERE id = 1",
        "INSERT INTO t VALUES (2, 'new', 1, now(), NULL, NULL, repeat('x', 9000))",  # > 8000
        "DELETE FROM t WHERE id = 1",
        "TRUNCATE t",
    ], changes=5)
    assert run.found == []
    assert run.counts() == {"changes": 5, "matched": 5, "missing": 0, "mismatched": 0,
                            "unexpected": 0}
    assert run.outcome.clean
    assert slots_and_publications(logical_dsn) == ([], [])


def test_insert_only_trigger_and_a_when_that_skips_rows(logical_dsn):
    execute(logical_dsn, [
        "CREATE TABLE t (id int PRIMARY KEY, status text)",
        *hand_written("t", "PERFORM pg_notify('t_events', row_to_json(NEW)::text);",
                      events="INSERT"),
        "CREATE TABLE u (id int PRIMARY KEY, status text)",
        *hand_written("u", "PERFORM pg_notify('u_events', json_build_object('table', "
                           "TG_TABLE_NAME, 'action', TG_OP, 'data', NEW)::text);",
                      events="INSERT OR UPDATE", when="WHEN (NEW.status <> 'draft')"),
    ])
    run = audit(logical_dsn, [("public", "t"), ("public", "u")], [
        "INSERT INTO t VALUES (1, 'new')",
        "UPDATE t SET status = 'paid' WHERE id = 1",
        "DELETE FROM t WHERE id = 1",
        "INSERT INTO u VALUES (1, 'new'), (2, 'draft')",
    ], changes=5)
    assert run.plan.channels == ("t_events", "u_events")
    assert run.kinds("public.t") == [(MISSING, "DELETE", "{'id': 1}"),
                                     (MISSING, "UPDATE", "{'id': 1}")]
    assert all("fires on INSERT only" in d.reason for d in run.found
               if d.table_text == "public.t")
    (skipped,) = [d for d in run.found if d.table_text == "public.u"]
    assert skipped.kind == MISSING and skipped.key == {"id": 2}
    assert "WHEN (new.status <> 'draft'::text) of u_notify skipped it" in skipped.reason
    assert run.counts(T)["matched"] == 1 and run.counts(("public", "u"))["matched"] == 1
    assert not run.outcome.clean
    assert slots_and_publications(logical_dsn) == ([], [])


def test_writes_under_session_replication_role_replica_and_truncate(logical_dsn):
    execute(logical_dsn, [
        "CREATE TABLE t (id int PRIMARY KEY, status text)",
        *hand_written("t", "PERFORM pg_notify('t_events', json_build_object('operation', "
                           "TG_OP, 'id', COALESCE(NEW.id, OLD.id))::text);"),
    ])
    run = audit(logical_dsn, [("public", "t")], [
        "INSERT INTO t VALUES (1, 'new')",
        "SET session_replication_role = replica",
        "INSERT INTO t VALUES (2, 'restored')",  # pg_restore-style: no trigger fires
        "SET session_replication_role = origin",
        "TRUNCATE t",  # no trigger for it
    ], changes=3)
    assert run.kinds() == [(MISSING, "INSERT", "{'id': 2}"), (MISSING, "TRUNCATE", "None")]
    replica = next(d for d in run.found if d.op == "INSERT")
    assert "session_replication_role = replica" in replica.reason
    trunc = next(d for d in run.found if d.op == "TRUNCATE")
    assert "fires on TRUNCATE" in trunc.reason or "on TRUNCATE" in trunc.reason
    assert run.counts()["matched"] == 1


def test_payload_over_8000_bytes_dropped_by_a_guarded_trigger(logical_dsn):
    execute(logical_dsn, [
        "CREATE TABLE t (id int PRIMARY KEY, body text)",
        *hand_written("t", "BEGIN\n PERFORM pg_notify('t_events', row_to_json(NEW)::text);\n"
                           "EXCEPTION WHEN OTHERS THEN NULL; -- never fail the write\nEND;",
                      events="INSERT"),
    ])
    run = audit(logical_dsn, [("public", "t")], [
        "INSERT INTO t VALUES (1, 'short')",
        "INSERT INTO t VALUES (2, repeat('x', 8100))",
    ], changes=2)
    d = run.one(MISSING)
    assert d.key == {"id": 2} and "8,000 bytes or more" in d.reason
    assert run.counts()["matched"] == 1


def test_old_row_sent_for_an_update_is_mismatched(logical_dsn):
    # A classic: OLD for everything but INSERT, so an UPDATE announces the old values.
    execute(logical_dsn, [
        "CREATE TABLE t (id int PRIMARY KEY, status text)",
        *hand_written("t", "PERFORM pg_notify('t_events', json_build_object('table', "
                           "TG_TABLE_NAME, 'action', TG_OP, 'data', CASE WHEN TG_OP = 'INSERT' "
                           "THEN row_to_json(NEW) ELSE row_to_json(OLD) END)::text);"),
    ])
    run = audit(logical_dsn, [("public", "t")], [
        "INSERT INTO t VALUES (1, 'new')",
        "UPDATE t SET status = 'paid' WHERE id = 1",
        "DELETE FROM t WHERE id = 1",
    ], changes=3)
    d = run.one(MISMATCHED)
    assert d.op == "UPDATE" and d.key == {"id": 1}
    assert [(x.column, x.payload, x.committed) for x in d.differences] == [
        ("status", "new", "paid")]
    assert d.to_dict()["committed"] == {"id": 1, "status": "paid"}
    assert run.counts() == {"changes": 3, "matched": 2, "missing": 0, "mismatched": 1,
                            "unexpected": 0}


def test_merged_payloads_other_databases_and_notifications_by_hand(logical_server,
                                                                   logical_dsn):
    schema = [
        "CREATE TABLE t (id int PRIMARY KEY, n int)",
        *hand_written("t", "PERFORM pg_notify('t_events', json_build_object('operation', "
                           "TG_OP, 'id', NEW.id)::text);", events="INSERT OR UPDATE"),
    ]
    execute(logical_dsn, schema)
    other = fresh_database(logical_server)
    try:
        execute(other, schema)

        def elsewhere() -> None:  # same table, trigger and channel in another database
            execute(other, ["INSERT INTO t VALUES (50, 0)", "INSERT INTO t VALUES (51, 0)"])
            execute(logical_dsn, "NOTIFY t_events, '{\"operation\": \"INSERT\", \"id\": 99}'")

        run = audit(logical_dsn, [("public", "t")], [
            "INSERT INTO t VALUES (1, 0)",
            # two UPDATEs of one row in one transaction send the same payload twice:
            # PostgreSQL delivers it once
            "BEGIN; UPDATE t SET n = 1 WHERE id = 1; UPDATE t SET n = 2 WHERE id = 1; COMMIT",
        ], changes=3, during=elsewhere)
    finally:
        drop_database(logical_server, other)
    assert run.kinds() == [(MISSING, "UPDATE", "{'id': 1}"), (UNEXPECTED, "INSERT", "{'id': 99}")]
    assert "identical payloads" in run.one(MISSING).reason
    assert run.counts() == {"changes": 3, "matched": 2, "missing": 1, "mismatched": 0,
                            "unexpected": 1}


def test_rows_without_a_key_match_on_the_whole_row(logical_dsn):
    execute(logical_dsn, [
        "CREATE TABLE t (note text, at timestamp)",
        "ALTER TABLE t REPLICA IDENTITY FULL",
        *hand_written("t", "PERFORM pg_notify('t_events', row_to_json(COALESCE(NEW, OLD))::text);"
                           "\nIF NEW.note = 'y' THEN PERFORM pg_notify('t_events', "
                           "json_build_object('note', 'z', 'at', NEW.at)::text); END IF;",
                      events="INSERT OR DELETE"),
    ])
    plan = _plan(logical_dsn, [("public", "t")])
    assert any("no key" in w for w in plan.warnings)
    run = audit(logical_dsn, [("public", "t")], [
        "INSERT INTO t VALUES ('x', '2026-01-01 10:00'), ('y', '2026-01-01 11:00')",
        "DELETE FROM t WHERE note = 'x'",
    ], changes=3)
    assert run.kinds() == [(UNEXPECTED, None, "None")]  # the made-up row matches nothing
    assert run.counts()["matched"] == 3


def test_a_table_that_does_not_exist_is_one_line(logical_dsn):
    import asyncio

    import pytest

    from pgwatch_gui.core.audit.plan import AuditRefused

    with pytest.raises(AuditRefused, match="does not exist"):
        asyncio.run(plan_for(logical_dsn, [("public", "nope")]))
    with psycopg.connect(logical_dsn, autocommit=True) as c:
        c.execute("CREATE TABLE quiet (id int PRIMARY KEY)")
    plan = _plan(logical_dsn, [("public", "quiet")])
    assert "no notify trigger" in (plan.refused or "") and "-c CHANNEL" in plan.refused
    assert any("quiet has no notify trigger" in w for w in plan.warnings)


def _plan(dsn, tables, channels=()):
    import asyncio

    return asyncio.run(plan_for(dsn, tables, channels))


def test_a_large_transaction_streaming_in_after_its_notifications_is_not_unexpected(
        logical_dsn):
    # 20,000 notifications arrive at COMMIT; the stream delivers the rows for a while
    # after. With a short grace the notifications must wait for the stream, not expire.
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY, body text)")
    install(logical_dsn, TriggerSpec("public", "t", channel="t_changes"))
    run = audit(logical_dsn, [("public", "t")],
                "INSERT INTO t SELECT i, repeat('x', 200) FROM generate_series(1, 20000) i",
                changes=20000, grace=0.2)
    assert run.found == []
    assert run.counts()["matched"] == 20000


def test_a_lost_change_stream_is_a_gap_and_the_audit_says_so(logical_dsn):
    import asyncio

    from pgwatch_gui.core.audit.session import AUDITING, AuditSession
    from tests.core.replication.streams import run_sql

    execute(logical_dsn, [
        "CREATE TABLE t (id int PRIMARY KEY)",
        *hand_written("t", "PERFORM pg_notify('t_events', row_to_json(NEW)::text);",
                      events="INSERT"),
    ])

    async def main():
        plan = await plan_for(logical_dsn, [("public", "t")])
        found = []
        session = AuditSession(logical_dsn, plan, plan.setup(), grace=0.5,
                               on_found=found.extend)
        task = asyncio.ensure_future(session.run())
        while session.state != AUDITING:
            await asyncio.sleep(0.02)
        await run_sql(logical_dsn, "INSERT INTO t VALUES (1)")
        while session.changes_read < 1:
            await asyncio.sleep(0.02)
        await run_sql(logical_dsn, "SELECT pg_terminate_backend(active_pid) FROM "
                                   "pg_replication_slots WHERE active")
        while session.source.gaps < 1:  # a new slot: the gap is emitted as it streams
            await asyncio.sleep(0.02)
        await session.source.wait_streaming(30)
        await run_sql(logical_dsn, "INSERT INTO t VALUES (2)")
        while session.changes_read < 2:
            await asyncio.sleep(0.02)
        session.stop()
        return await task, found

    outcome, found = asyncio.run(asyncio.wait_for(main(), 60))
    assert len(outcome.gaps) == 1 and "cannot resume" in outcome.gaps[0]
    assert [d.kind for d in found] == ["gap"] and "not audited" in found[0].reason
    assert outcome.counts[T].matched == 2
    assert slots_and_publications(logical_dsn) == ([], [])

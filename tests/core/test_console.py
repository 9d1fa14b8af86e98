"""The SQL console session: a transaction the user ends, savepoints around each run."""

from __future__ import annotations

import asyncio

from pgwatch_gui.core.triggers.console import MAX_ROWS, ConsoleSession
from pgwatch_gui.core.triggers.spec import TriggerSpec
from tests.core.trigger_helpers import install, listen, received


def test_statements_wait_for_commit_and_notify_at_commit(db, pg_dsn):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    install(pg_dsn, TriggerSpec("public", "t", channel="t"))
    listen(db, "t")

    async def go():
        s = ConsoleSession(pg_dsn)
        r1 = await s.run("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        r2 = await s.run("UPDATE t SET v = 'c' WHERE id = 1; SELECT * FROM t ORDER BY id")
        seen_before = db.execute("SELECT count(*) FROM t").fetchone()[0]
        early = list(db.notifies(timeout=0.3, stop_after=1))
        err = await s.commit()
        await s.close()
        return r1, r2, seen_before, early, err, s.in_transaction

    r1, r2, seen_before, early, err, open_after = asyncio.run(go())
    assert r1.error is None and r1.rows_affected == 2 and r1.in_transaction
    assert [x.status for x in r2.results] == ["UPDATE 1", "SELECT 2"]
    assert r2.rows_affected == 1
    assert r2.results[1].columns == ["id", "v"] and r2.results[1].rows == [(1, "c"), (2, "b")]
    assert seen_before == 0 and early == [] and err is None and not open_after
    assert [p["op"] for _, p in received(db, 3)] == ["INSERT", "INSERT", "UPDATE"]


def test_an_error_undoes_only_its_own_run_and_rollback_ends_it(db, pg_dsn):
    db.execute("CREATE TABLE t (id int PRIMARY KEY)")

    async def go():
        s = ConsoleSession(pg_dsn)
        ok = await s.run("INSERT INTO t VALUES (1)")
        bad = await s.run("INSERT INTO t VALUES (2); INSERT INTO t VALUES (1)")
        check = await s.run("SELECT count(*) FROM t")
        notice = await s.run("DO $$BEGIN RAISE NOTICE 'hello %', 1; END$$")
        await s.rollback()
        after = await s.run("SELECT count(*) FROM t")
        await s.rollback()
        await s.close()
        return ok, bad, check, notice, after

    ok, bad, check, notice, after = asyncio.run(go())
    assert ok.error is None
    assert "duplicate key" in bad.error and "\n" not in bad.error and bad.in_transaction
    assert check.results[0].rows == [(1,)]
    assert notice.notices == ["NOTICE: hello 1"]
    assert after.results[0].rows == [(0,)]


def test_big_results_are_capped(pg_dsn):
    async def go():
        s = ConsoleSession(pg_dsn)
        r = await s.run(f"SELECT g FROM generate_series(1, {MAX_ROWS + 10}) g")
        await s.close()
        return r

    r = asyncio.run(go())
    assert len(r.results[0].rows) == MAX_ROWS and r.results[0].more_rows

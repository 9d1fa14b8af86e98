"""Each reason a server or role cannot stream is one line naming the fix, and leaves nothing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import psycopg
import pytest
from psycopg import sql

from pgwatch_gui.core.replication.checks import ReplicationFacts, explain, refusal
from pgwatch_gui.core.replication.publication import WatchPlan
from pgwatch_gui.core.replication.slot import create_slot, open_replication
from pgwatch_gui.core.replication.source import ChangeSource
from pgwatch_gui.core.stream.status import State
from tests.conftest import dsn_for
from tests.core.replication.streams import execute, slots_and_publications


def run_to_end(dsn: str, plan: WatchPlan | None = None):
    async def main():
        src = ChangeSource(dsn, plan, on_batch=lambda b: None)
        task = src.start()
        try:
            return await asyncio.wait_for(asyncio.shield(task), 20)
        finally:
            await src.stop()

    return asyncio.run(main())


def assert_refused(status, *needles: str) -> None:
    assert status.state is State.FAILED, status
    assert "\n" not in status.reason
    for needle in needles:
        assert needle in status.reason, status.reason


@contextlib.contextmanager
def role(server_dsn: str, db_dsn: str, *attributes: str):
    name = f"pgw_role_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_dsn, autocommit=True) as c:
        c.execute(sql.SQL("CREATE ROLE {} LOGIN " + " ".join(attributes)).format(
            sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(db_dsn, autocommit=True) as c:
            c.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
        with psycopg.connect(server_dsn, autocommit=True) as c:
            c.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def test_wal_level_not_logical(replica_dsn):
    execute(replica_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    assert_refused(run_to_end(replica_dsn), "wal_level is 'replica'",
                   "ALTER SYSTEM SET wal_level = logical")
    assert slots_and_publications(replica_dsn) == ([], [])


def test_wal_level_error_from_the_walsender_itself(replica_dsn):
    async def main():
        conn = await open_replication(replica_dsn)
        try:
            await create_slot(conn.pgconn, "pgw_never")
        except psycopg.Error as exc:
            return explain(exc)
        finally:
            await conn.close()

    assert "ALTER SYSTEM SET wal_level = logical" in asyncio.run(main())


def test_role_without_replication(logical_server, logical_dsn):
    with role(logical_server, logical_dsn) as name:
        execute(logical_dsn, ["CREATE TABLE t (id int PRIMARY KEY)",
                              f'ALTER TABLE t OWNER TO "{name}"'])
        status = run_to_end(dsn_for(logical_dsn, user=name))
        assert_refused(status, f"ALTER ROLE {name} WITH REPLICATION", "rds_replication")
    assert slots_and_publications(logical_dsn) == ([], [])


def test_replication_role_may_not_publish_a_table_it_does_not_own(logical_server, logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    with role(logical_server, logical_dsn, "REPLICATION") as name:
        status = run_to_end(dsn_for(logical_dsn, user=name), WatchPlan(tables=(("public", "t"),)))
        assert_refused(status, "public.t: only its owner or a superuser", "--publication")


def test_table_without_replica_identity(logical_dsn):
    execute(logical_dsn, 'CREATE TABLE "No Key" (v text)')
    status = run_to_end(logical_dsn, WatchPlan(tables=(("public", "No Key"),)))
    assert_refused(status, 'public."No Key": no replica identity',
                   'ALTER TABLE public."No Key" REPLICA IDENTITY FULL', "primary key")
    execute(logical_dsn, "UPDATE \"No Key\" SET v = 'still works'")
    assert slots_and_publications(logical_dsn) == ([], [])


def test_unknown_table_and_publication(logical_dsn):
    assert_refused(run_to_end(logical_dsn, WatchPlan(tables=(("public", "nope"),))),
                   "no table public.nope")
    assert_refused(run_to_end(logical_dsn, WatchPlan(publication="nope")),
                   "no publication named 'nope'")


def test_replication_slots_exhausted(logical_server, logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    with psycopg.connect(logical_server, autocommit=True) as c:
        limit, free = c.execute(
            "SELECT current_setting('max_replication_slots')::int, "
            "current_setting('max_replication_slots')::int - count(*) "
            "FROM pg_replication_slots").fetchone()
        c.execute("SELECT pg_create_physical_replication_slot('pgw_fill_' || g) "
                  "FROM generate_series(1, %s) g", (free,))
        try:
            assert_refused(run_to_end(logical_dsn), f"all replication slots ({limit}) are in use",
                           "max_replication_slots")

            async def direct():  # the server's own error, when the check was passed
                conn = await open_replication(logical_dsn)
                try:
                    await create_slot(conn.pgconn, "pgw_one_too_many")
                except psycopg.Error as exc:
                    return explain(exc)
                finally:
                    await conn.close()

            assert "all replication slots are in use" in asyncio.run(direct())
        finally:
            c.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                      "WHERE slot_name LIKE 'pgw_fill_%'")
    assert slots_and_publications(logical_dsn)[1] == []


def test_wal_senders_exhausted(logical_server, logical_dsn):
    execute(logical_dsn, "CREATE TABLE t (id int PRIMARY KEY)")
    held = []
    try:
        with psycopg.connect(logical_server, autocommit=True) as c:
            limit = int(c.execute("SHOW max_wal_senders").fetchone()[0])
        for _ in range(limit):
            held.append(psycopg.connect(dsn_for(logical_dsn, replication="database")))
        assert_refused(run_to_end(logical_dsn), f"all WAL senders ({limit}) are busy",
                       "max_wal_senders")
        with pytest.raises(psycopg.OperationalError) as info:
            psycopg.connect(dsn_for(logical_dsn, replication="database"))
        assert "max_wal_senders" in explain(info.value)
    finally:
        for conn in held:
            conn.close()


def _facts(**kw) -> ReplicationFacts:
    base = dict(wal_level="logical", version=180006, in_recovery=False, user="me",
                superuser=False, replication=True, cloud_role=None, max_slots=10, used_slots=0,
                max_senders=10, used_senders=0)
    base.update(kw)
    return ReplicationFacts(**base)


def test_refusal_rules_without_a_server():
    assert refusal(_facts()) is None
    assert "PostgreSQL 16" in refusal(_facts(in_recovery=True, version=150004))
    assert refusal(_facts(in_recovery=True, version=160001)) is None
    assert "--publication" in refusal(_facts(in_recovery=True, version=160001),
                                      creates_publication=True)
    assert refusal(_facts(replication=False, cloud_role="rds_replication")) is None
    assert "max_wal_senders is 0" in refusal(_facts(max_senders=0))
    assert "WITH REPLICATION" in explain("permission denied to start WAL sender")
    assert "connect to the primary" in explain(
        "logical decoding cannot be used while in recovery")


def test_preview_offers_replica_identity_full_for_a_table_without_identity(logical_dsn):
    from pgwatch_gui.core.replication.preview import preview

    execute(logical_dsn, ['CREATE TABLE "No Key" (v text)', "CREATE TABLE k (id int PRIMARY KEY)"])

    async def main():
        async with await psycopg.AsyncConnection.connect(logical_dsn, autocommit=True) as c:
            return (await preview(c, WatchPlan(tables=(("public", "No Key"),))),
                    await preview(c, WatchPlan(tables=(("public", "k"),))))

    no_key, keyed = asyncio.run(main())
    assert no_key.setup is None and "no replica identity" in no_key.refused
    assert no_key.can_start and no_key.with_full is not None
    assert no_key.with_full.sql_text().startswith(
        'ALTER TABLE "public"."No Key" REPLICA IDENTITY FULL;\nCREATE PUBLICATION')
    assert keyed.setup is not None and keyed.setup.sql_text().startswith("CREATE PUBLICATION")
    assert keyed.with_full is not None
    assert slots_and_publications(logical_dsn) == ([], [])  # a preview creates nothing

"""A change stream never carries the columns this tool's notify trigger marks 'never send':
a publication column list (PostgreSQL 15+) keeps them on the server; where that cannot be
done, the table is refused or left out, or (14 and older) the user is told.

Run against the suite's logical server, and against Debian's PostgreSQL 15 with
PGWATCH_TEST_LOGICAL_DSN (tools/second_server.sh starts one with wal_level=logical)."""

from __future__ import annotations

import asyncio
import json

import psycopg
import pytest

from pgwatch_gui.core.replication.checks import ReplicationRefused
from pgwatch_gui.core.replication.preview import preview
from pgwatch_gui.core.replication.publication import WatchPlan, plan_setup
from pgwatch_gui.core.replication.withheld import plan_columns
from pgwatch_gui.core.triggers.spec import TriggerSpec
from tests.core.replication.streams import Stream, execute, run_sql
from tests.core.trigger_helpers import install

USERS = ["CREATE TABLE users (id int PRIMARY KEY, name text, email text, pw_hash text)",
         "CREATE TABLE notes (id int PRIMARY KEY, body text)"]
NEVER = TriggerSpec("public", "users", channel="users", payload="row",
                    exclude=("email", "pw_hash"))


def version(dsn: str) -> int:
    with psycopg.connect(dsn) as c:
        return c.info.server_version


def plan(dsn: str, watch: WatchPlan, identity_full: bool = False):
    async def main():
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            return await plan_setup(conn, watch, superuser=True, identity_full=identity_full)

    return asyncio.run(main())


@pytest.fixture
def users(logical_dsn):
    if version(logical_dsn) < 150000:
        pytest.skip("column lists need PostgreSQL 15")
    execute(logical_dsn, USERS)
    install(logical_dsn, NEVER)
    return logical_dsn


def test_never_sent_columns_never_leave_the_server(users):
    setup = plan(users, WatchPlan(tables=(("public", "users"), ("public", "notes"))))
    assert 'FOR TABLE "public"."notes", "public"."users" ("id", "name");' in setup.sql_text()
    assert setup.notes == ("public.users: email, pw_hash held back (its notify trigger "
                           "never sends them)",)

    async def main():
        async with Stream(users, WatchPlan(tables=(("public", "users"),))) as s:
            await run_sql(users, [
                "INSERT INTO users VALUES (1, 'Ann', 'ann@example.com', 'SECRET-HASH')",
                "UPDATE users SET email = 'ann@new.example', name = 'Anna' WHERE id = 1",
                "DELETE FROM users WHERE id = 1",
            ])
            return await s.wait_for(3)

    ins, upd, dele = asyncio.run(main())
    assert json.loads(ins.payload)["row"] == {"id": 1, "name": "Ann"}
    assert json.loads(upd.payload)["row"] == {"id": 1, "name": "Anna"}
    assert dele.key == {"id": 1}
    for ev in (ins, upd, dele):
        assert "example" not in ev.payload and "SECRET" not in ev.payload


def test_the_whole_database_holds_them_back_too(users):
    setup = plan(users, WatchPlan())
    assert '"public"."users" ("id", "name")' in setup.sql_text()
    assert '"public"."notes"' in setup.sql_text()


def test_replica_identity_full_cannot_hold_them_back(users):
    """FULL needs every column in the list (else the table's UPDATE/DELETE fail)."""
    with pytest.raises(ReplicationRefused, match="never sends email, pw_hash, but with "
                       "REPLICA IDENTITY FULL"):
        plan(users, WatchPlan(tables=(("public", "users"),)), identity_full=True)
    execute(users, "ALTER TABLE users REPLICA IDENTITY FULL")
    with pytest.raises(ReplicationRefused, match="REPLICA IDENTITY FULL"):
        plan(users, WatchPlan(tables=(("public", "users"),)))
    setup = plan(users, WatchPlan(schema="public"))  # left out, and said
    assert [t.name for t in setup.tables] == ["notes"]
    assert any(n.startswith("left out: public.users") for n in setup.notes)
    # The writers of the table still work (nothing was created).
    execute(users, "INSERT INTO users VALUES (2, 'Bo', 'b@x', 'h'); UPDATE users SET "
                   "name = 'B' WHERE id = 2")


def test_a_never_sent_replica_identity_is_refused(users):
    execute(users, ["ALTER TABLE users ADD COLUMN login text NOT NULL DEFAULT 'x'",
                    "CREATE UNIQUE INDEX users_login ON users (login)",
                    "ALTER TABLE users REPLICA IDENTITY USING INDEX users_login"])
    install(users, TriggerSpec("public", "users", channel="users", payload="row",
                               exclude=("login",), key_columns=("id",)))
    with pytest.raises(ReplicationRefused, match="never sends login, which is its replica "
                       "identity"):
        plan(users, WatchPlan(tables=(("public", "users"),)))


def test_an_existing_publication_that_carries_them_is_said(users):
    execute(users, "CREATE PUBLICATION theirs FOR TABLE users")
    setup = plan(users, WatchPlan(publication="theirs"))
    assert setup.notes == ("publication theirs carries public.users's email, pw_hash, which "
                           "its notify trigger never sends; they WILL be streamed (and kept "
                           "in the journal)",)
    execute(users, "CREATE PUBLICATION careful FOR TABLE users (id, name)")
    assert plan(users, WatchPlan(publication="careful")).notes == ()


def test_the_preview_shows_the_column_list_and_says_why(users):
    async def main():
        async with await psycopg.AsyncConnection.connect(users, autocommit=True) as conn:
            return await preview(conn, WatchPlan(tables=(("public", "users"),)))

    pv = asyncio.run(main())
    assert pv.setup is not None and '("id", "name")' in pv.setup.sql_text()
    assert pv.with_full is None and "REPLICA IDENTITY FULL" in pv.refused_with_full


def test_postgresql_14_cannot_and_says_so():
    cp = plan_columns([(("public", "users"), "d")], {("public", "users"): ("email",)},
                      {("public", "users"): (("id", "name", "email"), ("id",))}, 140011)
    assert cp.lists == {} and cp.unprotected == {("public", "users"): ("email",)}
    assert cp.notes() == [
        "PostgreSQL 14 and older cannot leave columns out of a publication: public.users's "
        "email, never sent by its notify trigger, WILL be streamed (and kept in the "
        "journal); upgrade to 15+, or do not watch it"]


def test_a_column_list_keeps_stored_generated_columns_where_the_server_can_send_them(
        logical_dsn):
    """Held-back columns and a STORED generated column on one table: the column list
    names the generated column on 18+ (so it arrives) and before 18 it is named missing."""
    if version(logical_dsn) < 150000:
        pytest.skip("column lists need PostgreSQL 15")
    execute(logical_dsn, "CREATE TABLE priced (id int PRIMARY KEY, net numeric, secret text, "
                         "gross numeric GENERATED ALWAYS AS (net * 2) STORED)")
    install(logical_dsn, TriggerSpec("public", "priced", channel="priced", payload="row",
                                     exclude=("secret",)))

    async def main():
        async with Stream(logical_dsn, WatchPlan(tables=(("public", "priced"),))) as s:
            await run_sql(logical_dsn, "INSERT INTO priced (id, net, secret) VALUES (1, 5, 'x')")
            return await s.wait_for(1)

    (ins,) = asyncio.run(main())
    env = json.loads(ins.payload)
    assert "secret" not in env["row"]
    if version(logical_dsn) >= 180000:
        assert env["row"]["gross"] in ("10", 10) and "generated_missing" not in env
    else:
        assert "gross" not in env["row"] and env["generated_missing"] == ["gross"]

"""Install, change, remove, remove all: one transaction each, nothing left behind."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest
from psycopg import sql

from pgwatch_gui.core.triggers import manage as triggers
from pgwatch_gui.core.triggers.spec import TriggerSpec
from tests.conftest import dsn_for
from tests.core.trigger_helpers import (
    NOTHING_LEFT,
    call,
    install,
    listen,
    nothing_more,
    pgwatch_leftovers,
    received,
    remove,
    remove_all,
)


@pytest.fixture
def two_tables(db):
    db.execute("CREATE TABLE a (id int PRIMARY KEY, v text)")
    db.execute("CREATE TABLE b (id int PRIMARY KEY, v text)")
    return db


@pytest.fixture
def make_role(db, pg_server, pg_dsn):
    made = []

    def make(*grants: str) -> str:
        name = f"r_{uuid.uuid4().hex[:8]}"
        db.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
        for g in grants:
            db.execute(g.format(role=sql.Identifier(name).as_string(db)))
        made.append(name)
        return dsn_for(pg_dsn, user=name)

    yield make
    for name in made:
        db.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
        with psycopg.connect(pg_server, autocommit=True) as su:
            su.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
    db.close()
    with psycopg.connect(pg_server, autocommit=True) as su:
        for name in made:
            su.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def _count_triggers(db, table):
    return db.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass "
                      "AND NOT tgisinternal", (table,)).fetchone()[0]


def test_installing_twice_changes_rather_than_duplicates(two_tables, pg_dsn):
    db = two_tables
    install(pg_dsn, TriggerSpec("public", "a", channel="first", payload="keys",
                                events=("insert", "update", "delete", "truncate")))
    install(pg_dsn, TriggerSpec("public", "a", channel="second", payload="row",
                                events=("insert",)))
    assert _count_triggers(db, "a") == 1
    assert pgwatch_leftovers(db) == {"triggers": 1, "functions": 1, "schema": 1}
    listen(db, "first", "second")
    db.execute("INSERT INTO a VALUES (1, 'x')")
    db.execute("TRUNCATE a")
    (chan, p), = received(db, 1)
    assert chan == "second" and p["row"] == {"id": 1, "v": "x"}
    nothing_more(db)
    (inst,) = call(pg_dsn, triggers.list_installed)
    assert inst.spec.channel == "second" and inst.spec.events == ("INSERT",)


def test_remove_and_remove_all_leave_nothing_behind(two_tables, pg_dsn):
    db = two_tables
    install(pg_dsn, TriggerSpec("public", "a", events=("insert", "truncate")),
            TriggerSpec("public", "b"))
    assert pgwatch_leftovers(db) == {"triggers": 3, "functions": 2, "schema": 1}
    plan = remove(pg_dsn, ("public", "a"))
    assert plan.tables == ("public.a",)
    assert pgwatch_leftovers(db) == {"triggers": 1, "functions": 1, "schema": 1}
    remove(pg_dsn, (None, "b"))  # unqualified: the search_path finds public.b
    assert pgwatch_leftovers(db) == NOTHING_LEFT
    install(pg_dsn, TriggerSpec("public", "a"), TriggerSpec("public", "b", events=("truncate",)))
    remove_all(pg_dsn)
    assert pgwatch_leftovers(db) == NOTHING_LEFT
    assert remove_all(pg_dsn).empty  # nothing to do is not an error
    db.execute("INSERT INTO a VALUES (1, 'writes still work')")


def test_remove_on_a_table_without_our_trigger_is_an_error(two_tables, pg_dsn):
    with pytest.raises(triggers.TriggerError, match="no trigger installed by pgwatch-gui"):
        remove(pg_dsn, ("public", "a"))


def test_schema_pgwatch_is_kept_when_something_else_lives_there(two_tables, pg_dsn):
    db = two_tables
    install(pg_dsn, TriggerSpec("public", "a"))
    db.execute("CREATE TABLE pgwatch.user_stuff (x int)")
    remove_all(pg_dsn)
    assert db.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgwatch'"
                      ).fetchone()[0] == 1
    db.execute("DROP TABLE pgwatch.user_stuff")
    db.execute("DROP SCHEMA pgwatch")
    db.execute("CREATE SCHEMA pgwatch")  # made by someone else: never dropped by us
    install(pg_dsn, TriggerSpec("public", "a"))
    remove_all(pg_dsn)
    assert pgwatch_leftovers(db) == {"triggers": 0, "functions": 0, "schema": 1}


def test_install_is_all_or_nothing(two_tables, pg_dsn):
    db = two_tables
    db.execute("ALTER TABLE a ADD COLUMN only_in_a int")
    specs = [TriggerSpec("public", t, events=("update",), when="NEW.only_in_a > 0")
             for t in ("a", "b")]
    with pytest.raises(triggers.TriggerError, match=r"^public\.b: .*only_in_a"):
        install(pg_dsn, *specs)
    assert pgwatch_leftovers(db) == NOTHING_LEFT


def test_the_preview_is_exactly_what_runs(two_tables, pg_dsn):
    db = two_tables
    plan = install(pg_dsn, TriggerSpec("public", "a", payload="diff", channel="c"))
    body = re.search(r"AS \$pgwatch\$(.*?)\$pgwatch\$;", plan.sql, re.S).group(1)
    src = db.execute("SELECT prosrc FROM pg_proc WHERE proname = %s",
                     (f"public.a#{db.execute('SELECT %s::regclass::oid', ('a',)).fetchone()[0]}",)
                     ).fetchone()[0]
    assert src == body
    assert plan.sql.startswith("SET LOCAL lock_timeout")
    text = triggers.migration_text(plan)
    assert text == plan.script and text.endswith("BEGIN;\n" + plan.sql + "COMMIT;\n")
    assert "psql -v ON_ERROR_STOP=1 -f" in text
    assert plan.channels == ("c",)


def test_a_foreign_trigger_with_our_name_is_not_overwritten(two_tables, pg_dsn):
    db = two_tables
    db.execute("CREATE FUNCTION mine() RETURNS trigger LANGUAGE plpgsql AS "
               "$$BEGIN RETURN NULL; END$$")
    db.execute("CREATE TRIGGER pgwatch_notify AFTER INSERT ON a FOR EACH ROW "
               "EXECUTE FUNCTION mine()")
    with pytest.raises(triggers.TriggerError, match="did not install"):
        install(pg_dsn, TriggerSpec("public", "a"))


def test_a_role_without_privileges_gets_a_clear_message(two_tables, pg_dsn, make_role):
    dsn = make_role()
    with pytest.raises(triggers.TriggerError) as info:
        install(dsn, TriggerSpec("public", "a"))
    msg = str(info.value)
    assert msg.startswith("permission denied") and "does not own table public.a" in msg
    install(pg_dsn, TriggerSpec("public", "a"))
    with pytest.raises(triggers.TriggerError, match="permission denied"):
        remove(dsn, ("public", "a"))
    with pytest.raises(triggers.TriggerError, match=r"^permission denied: .* does not own table"):
        remove_all(dsn)


def test_without_create_on_the_database_functions_go_to_the_table_schema(db, pg_dsn,
                                                                         make_role):
    dsn = make_role("GRANT CREATE ON SCHEMA public TO {role}",
                    "REVOKE CREATE ON DATABASE " + db.info.dbname + " FROM PUBLIC")
    with psycopg.connect(dsn, autocommit=True) as own:
        own.execute('CREATE TABLE "Mine" (id int PRIMARY KEY)')
    plan = install(dsn, TriggerSpec("public", "Mine", channel="mine"))
    assert any("may not create schema pgwatch" in n for n in plan.notes)
    fn = db.execute("SELECT p.pronamespace::regnamespace::text, p.proname FROM pg_trigger t "
                    "JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgname = 'pgwatch_notify'"
                    ).fetchone()
    oid = db.execute("""SELECT '"Mine"'::regclass::oid""").fetchone()[0]
    assert fn == ("public", f"pgwatch_notify_Mine#{oid}")
    listen(db, "mine")
    db.execute('INSERT INTO "Mine" VALUES (5)')
    (_, p), = received(db, 1)
    assert p["key"] == {"id": 5}
    remove(dsn, ("public", "Mine"))
    assert pgwatch_leftovers(db) == NOTHING_LEFT


def test_other_roles_writes_fire_the_trigger(two_tables, pg_dsn, make_role):
    db = two_tables
    install(pg_dsn, TriggerSpec("public", "a", channel="a"))
    dsn = make_role("GRANT INSERT, SELECT ON a TO {role}")
    listen(db, "a")
    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("INSERT INTO a VALUES (3, 'by another role')")
    (_, p), = received(db, 1)
    assert p["key"] == {"id": 3}


def test_list_reports_what_went_stale(two_tables, pg_dsn):
    db = two_tables
    install(pg_dsn, TriggerSpec("public", "a", payload="row"))
    db.execute("ALTER TABLE a RENAME TO a2")
    db.execute("ALTER TABLE a2 RENAME COLUMN v TO w")
    (inst,) = call(pg_dsn, triggers.list_installed)
    assert inst.table == "a2" and inst.spec.table == "a2"
    text = " ".join(inst.problems)
    assert "'v' no longer exists" in text and "renamed from public.a" in text
    assert "'w' was added" in text
    install(pg_dsn, inst.spec)  # installing again fixes it
    (inst,) = call(pg_dsn, triggers.list_installed)
    assert inst.problems == ()

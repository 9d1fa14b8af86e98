"""The trigger lifecycle leaves nothing behind: functions are each table's own (by oid),
leftovers are listed and removed, partitioned tables and pgwatch-gui 0.1 installs too."""

from __future__ import annotations

import pytest
from psycopg import sql

from pgwatch_gui.core.triggers import functions
from pgwatch_gui.core.triggers import manage as triggers
from pgwatch_gui.core.triggers.spec import Stored, TriggerSpec
from pgwatch_gui.core.triggers.sql import SCHEMA_COMMENT
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


def leftovers(dsn):
    return call(dsn, functions.leftovers)


def oid(db, table):
    return db.execute("SELECT %s::regclass::oid", (table,)).fetchone()[0]


def test_a_renamed_table_keeps_its_own_function(db, pg_dsn):
    """The issue's leak: a install on the old name after a rename reused the renamed
    table's function, whose trigger then sent the excluded column on the new channel."""
    db.execute("CREATE TABLE accounts (id int PRIMARY KEY, secret text)")
    install(pg_dsn, TriggerSpec("public", "accounts", channel="old_ch", payload="row",
                                exclude=("secret",)))
    db.execute("ALTER TABLE accounts RENAME TO accounts_2025")
    db.execute("CREATE TABLE accounts (id int PRIMARY KEY, secret text)")
    install(pg_dsn, TriggerSpec("public", "accounts", channel="new_ch", payload="row"))
    listen(db, "old_ch", "new_ch")
    db.execute("INSERT INTO accounts_2025 VALUES (1, 'TOP SECRET')")
    db.execute("INSERT INTO accounts VALUES (2, 'visible by choice')")
    (c1, p1), (c2, p2) = received(db, 2)
    assert c1 == "old_ch" and p1["row"] == {"id": 1}  # still its own spec: no secret
    assert c2 == "new_ch" and p2["row"] == {"id": 2, "secret": "visible by choice"}
    fns = db.execute("SELECT p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                     "ORDER BY t.tgrelid").fetchall()
    assert len({f for (f,) in fns}) == 2
    remove_all(pg_dsn)
    assert pgwatch_leftovers(db) == NOTHING_LEFT


def test_a_dropped_table_leaves_a_function_that_list_shows_and_remove_all_drops(db, pg_dsn):
    db.execute("CREATE TABLE gone (id int PRIMARY KEY)")
    db.execute("CREATE TABLE kept (id int PRIMARY KEY)")
    install(pg_dsn, TriggerSpec("public", "gone"), TriggerSpec("public", "kept"))
    db.execute("DROP TABLE gone")
    (left,) = leftovers(pg_dsn)
    assert left.schema == "pgwatch" and left.name.startswith("public.gone#")
    assert left.reason == "made for public.gone, which no longer exists"
    assert [i.table for i in call(pg_dsn, triggers.list_installed)] == ["kept"]
    remove(pg_dsn, ("public", "kept"))  # the schema stays: the leftover is still in it
    assert pgwatch_leftovers(db) == {"triggers": 0, "functions": 1, "schema": 1}
    plan = remove_all(pg_dsn)
    assert plan.tables == () and plan.leftovers == (f"function {left.describe()}",)
    assert pgwatch_leftovers(db) == NOTHING_LEFT
    assert remove_all(pg_dsn).empty


def test_a_trigger_dropped_by_hand_and_an_empty_schema(db, pg_dsn):
    db.execute("CREATE TABLE t (id int PRIMARY KEY)")
    install(pg_dsn, TriggerSpec("public", "t"))
    db.execute("ALTER TABLE t RENAME TO t2")
    db.execute("DROP TRIGGER pgwatch_notify ON t2")
    (left,) = leftovers(pg_dsn)
    assert left.reason == "made for public.t (now public.t2), whose trigger is gone"
    assert left.table == "public.t2"
    remove_all(pg_dsn)
    assert pgwatch_leftovers(db) == NOTHING_LEFT
    db.execute("CREATE SCHEMA pgwatch")  # left empty, with our mark: remove --all drops it
    db.execute(sql.SQL("COMMENT ON SCHEMA pgwatch IS {}").format(sql.Literal(SCHEMA_COMMENT)))
    assert remove_all(pg_dsn).leftovers == ("schema pgwatch, empty",)
    assert pgwatch_leftovers(db) == NOTHING_LEFT


@pytest.fixture
def measures(db):
    """A partitioned table with a sub-partitioned partition: four tables below the root."""
    db.execute("CREATE TABLE measures (id int, at date, v text, PRIMARY KEY (id, at)) "
               "PARTITION BY RANGE (at)")
    db.execute("CREATE TABLE m2025 PARTITION OF measures FOR VALUES FROM ('2025-01-01') "
               "TO ('2026-01-01')")
    db.execute("CREATE TABLE m2026 PARTITION OF measures FOR VALUES FROM ('2026-01-01') "
               "TO ('2027-01-01') PARTITION BY LIST (id)")
    db.execute("CREATE TABLE m2026_odd PARTITION OF m2026 FOR VALUES IN (1, 3)")
    db.execute("CREATE TABLE m2026_rest PARTITION OF m2026 DEFAULT")
    return db


def test_a_partitioned_table_install_list_and_remove(measures, pg_dsn):
    db = measures
    install(pg_dsn, TriggerSpec("public", "measures", channel="m", payload="row",
                                events=("insert", "update", "delete", "truncate")))
    listen(db, "m")
    db.execute("INSERT INTO measures VALUES (1, '2025-05-01', 'a'), (3, '2026-05-01', 'b'), "
               "(4, '2026-06-01', 'c')")
    got = [p for _, p in received(db, 3)]
    assert {p["table"] for p in got} == {"measures"}  # the parent's name, from any partition
    assert sorted(p["key"]["id"] for p in got) == [1, 3, 4]
    (inst,) = call(pg_dsn, triggers.list_installed)
    assert inst.table == "measures" and inst.partitions == 4 and inst.problems == ()
    install(pg_dsn, TriggerSpec("public", "measures", channel="m", payload="keys"))  # change
    db.execute("UPDATE measures SET v = 'x' WHERE id = 4")
    (_, upd), = received(db, 1)
    assert upd["op"] == "UPDATE" and "row" not in upd
    remove(pg_dsn, ("public", "measures"))
    assert pgwatch_leftovers(db) == NOTHING_LEFT  # the function and the schema went too
    db.execute("INSERT INTO measures VALUES (5, '2025-05-02', 'quiet')")
    nothing_more(db)


def test_partitions_own_triggers_give_way_and_a_covered_partition_is_refused(measures, pg_dsn):
    db = measures
    install(pg_dsn, TriggerSpec("public", "m2026_odd", channel="own"))
    plan = install(pg_dsn, TriggerSpec("public", "measures", channel="all"))
    assert any("public.m2026_odd: its own pgwatch trigger gives way" in n for n in plan.notes)
    assert 'DROP TRIGGER IF EXISTS "pgwatch_notify" ON "public"."m2026_odd"' in plan.sql
    listen(db, "own", "all")
    db.execute("INSERT INTO measures VALUES (1, '2026-02-01', 'x')")
    (chan, _), = received(db, 1)
    assert chan == "all"
    nothing_more(db)
    assert pgwatch_leftovers(db)["functions"] == 1  # the partition's function went
    for attempt in (lambda: install(pg_dsn, TriggerSpec("public", "m2026_odd")),
                    lambda: remove(pg_dsn, ("public", "m2026_odd"))):
        with pytest.raises(triggers.TriggerError,
                           match=r"public\.m2026_odd is a partition of public\.measures, whose "
                                 r"pgwatch trigger covers it"):
            attempt()
    remove_all(pg_dsn)
    assert pgwatch_leftovers(db) == NOTHING_LEFT


def test_a_detached_partition_loses_the_copy_and_can_have_its_own(measures, pg_dsn):
    db = measures
    install(pg_dsn, TriggerSpec("public", "measures", channel="m"))
    db.execute("ALTER TABLE measures DETACH PARTITION m2025")  # drops the copy
    (inst,) = call(pg_dsn, triggers.list_installed)
    assert inst.table == "measures" and inst.partitions == 3
    install(pg_dsn, TriggerSpec("public", "m2025", channel="alone"))
    listen(db, "m", "alone")
    db.execute("INSERT INTO m2025 VALUES (1, '2025-03-01', 'x')")
    db.execute("INSERT INTO measures VALUES (2, '2026-03-01', 'y')")
    assert [c for c, _ in received(db, 2)] == ["alone", "m"]
    remove_all(pg_dsn)
    assert pgwatch_leftovers(db) == NOTHING_LEFT


def test_a_function_another_table_uses_is_never_replaced(db, pg_dsn):
    """A trigger of ours on another table running this table's function (a dump restored
    under other oids, a trigger copied by hand): installing on this table again gives it
    a new function (#oid-2); the other keeps its own until it is installed again."""
    db.execute("CREATE TABLE x (id int PRIMARY KEY, secret text)")
    db.execute("CREATE TABLE y (id int PRIMARY KEY, secret text)")
    install(pg_dsn, TriggerSpec("public", "x", channel="xc", payload="row",
                                exclude=("secret",)))
    (fn,) = db.execute("SELECT tgfoid::regproc::text FROM pg_trigger WHERE tgname = "
                       "'pgwatch_notify'").fetchone()
    db.execute(f"CREATE TRIGGER pgwatch_notify AFTER INSERT ON y FOR EACH ROW "
               f"EXECUTE FUNCTION {fn}()")
    found = {i.table: i for i in call(pg_dsn, triggers.list_installed)}
    assert "made for another table (public.x" in found["y"].problems[0]
    install(pg_dsn, TriggerSpec("public", "x", channel="xc", payload="row"))  # secret now sent
    assert db.execute("SELECT tgfoid::regproc::text FROM pg_trigger WHERE tgrelid = 'x'::regclass"
                      ).fetchone()[0] == fn[:-1] + '-2"'
    listen(db, "xc")
    db.execute("INSERT INTO y VALUES (1, 'Y SECRET')")  # y still runs the old, excluding one
    (_, p), = received(db, 1)
    assert p["row"] == {"id": 1}
    install(pg_dsn, found["y"].spec)
    assert all(i.problems == () for i in call(pg_dsn, triggers.list_installed))
    remove_all(pg_dsn)
    assert pgwatch_leftovers(db) == NOTHING_LEFT


# ---- installs of pgwatch-gui 0.1: functions named after the table, WHEN in the trigger ----

def legacy_install(db, table: str, channel: str, when: str | None = None) -> None:
    """What pgwatch-gui 0.1 left in a database (function, trigger and comments; the body
    is shorter, with the same first line)."""
    db.execute("CREATE SCHEMA IF NOT EXISTS pgwatch")
    db.execute(sql.SQL("COMMENT ON SCHEMA pgwatch IS {}").format(sql.Literal(SCHEMA_COMMENT)))
    fn = sql.Identifier("pgwatch", f"public.{table}")
    body = (f"\n-- pgwatch-gui notify trigger function for public.{table}, payload mode keys.\n"
            "BEGIN\n  PERFORM pg_notify(" + sql.Literal(channel).as_string(db) + ", '{\"v\":1,"
            "\"op\":\"' || TG_OP || '\",\"schema\":\"public\",\"table\":\"" + table + "\","
            "\"key\":null}');\n  RETURN NULL;\nEND\n")
    db.execute(sql.SQL("CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql "
                       "AS {}").format(fn, sql.Literal(body)))
    tbl = sql.Identifier("public", table)
    db.execute(sql.SQL("CREATE TRIGGER pgwatch_notify AFTER INSERT OR UPDATE ON {} FOR EACH ROW "
                       "{} EXECUTE FUNCTION {}()").format(
        tbl, sql.SQL(f"WHEN ({when})" if when else ""), fn))
    spec = TriggerSpec("public", table, channel=channel, events=("insert", "update"),
                       when=when)
    db.execute(sql.SQL("COMMENT ON TRIGGER pgwatch_notify ON {} IS {}").format(
        tbl, sql.Literal(Stored(spec, ("id",), ("id", "status"), "0.1.0").to_json())))


def test_old_installs_are_listed_upgraded_and_removed(db, pg_dsn):
    db.execute("CREATE TABLE orders (id int PRIMARY KEY, status text)")
    db.execute("INSERT INTO orders VALUES (1, 'shipped')")
    legacy_install(db, "orders", "o", when="NEW.status::int > 0")
    with pytest.raises(Exception, match="invalid input syntax"):  # what 0.1 did to writes
        db.execute("UPDATE orders SET status = status")
    (inst,) = call(pg_dsn, triggers.list_installed)
    assert inst.spec.when == "NEW.status::int > 0"
    assert "installed by an older pgwatch-gui" in inst.problems[0]
    assert "WHEN condition is in CREATE TRIGGER" in inst.problems[0]
    plan = install(pg_dsn, inst.spec)  # the upgrade: installing again
    assert 'DROP FUNCTION IF EXISTS "pgwatch"."public.orders"();' in plan.sql
    db.execute("UPDATE orders SET status = status")  # no longer fails
    (inst,) = call(pg_dsn, triggers.list_installed)
    assert inst.problems == () and inst.function.endswith(f'#{oid(db, "orders")}"()')
    assert pgwatch_leftovers(db) == {"triggers": 1, "functions": 1, "schema": 1}
    remove(pg_dsn, ("public", "orders"))
    assert pgwatch_leftovers(db) == NOTHING_LEFT


def test_an_old_function_shared_after_a_rename(db, pg_dsn):
    """0.1 on a renamed table, then on a new table of the old name: one function, two
    tables. Upgrading one keeps the other working; removing everything leaves nothing."""
    db.execute("CREATE TABLE t (id int PRIMARY KEY, status text)")
    legacy_install(db, "t", "c")
    db.execute("ALTER TABLE t RENAME TO t_old")
    db.execute("CREATE TABLE t (id int PRIMARY KEY, status text)")
    legacy_install(db, "t", "c")  # CREATE OR REPLACE: the same function
    assert {i.table for i in call(pg_dsn, triggers.list_installed)} == {"t", "t_old"}
    plan = install(pg_dsn, TriggerSpec("public", "t", channel="new"))
    assert "DROP FUNCTION" not in plan.sql  # t_old still uses it
    listen(db, "c", "new")
    db.execute("INSERT INTO t_old VALUES (1, 'a')")
    db.execute("INSERT INTO t VALUES (2, 'b')")
    assert [c for c, _ in received(db, 2)] == ["c", "new"]
    remove_all(pg_dsn)
    assert pgwatch_leftovers(db) == NOTHING_LEFT


def test_an_old_partitioned_removal_left_its_function(measures, pg_dsn):
    """0.1 removed a partitioned table's trigger but kept its function (the partitions'
    copies counted as users): a leftover of the old naming is recognised too."""
    db = measures
    legacy_install(db, "m2025", "c")
    db.execute("DROP TRIGGER pgwatch_notify ON m2025")
    db.execute('CREATE FUNCTION pgwatch.mine() RETURNS trigger LANGUAGE plpgsql AS '
               '$$BEGIN RETURN NULL; END$$')  # not ours: never a leftover
    (left,) = leftovers(pg_dsn)
    assert left.name == "public.m2025" and "whose trigger is gone" in left.reason
    remove_all(pg_dsn)
    assert db.execute("SELECT count(*) FROM pg_proc WHERE pronamespace = 'pgwatch'::regnamespace"
                      ).fetchone()[0] == 1  # mine stays, and so does the schema


def test_an_old_function_in_the_tables_schema(db, pg_dsn):
    """0.1 put the function into the table's schema as pgwatch_notify_<table> when the
    role could not create schema pgwatch: recognised there too, by name and header."""
    db.execute("CREATE TABLE t (id int PRIMARY KEY)")
    body = ("\n-- pgwatch-gui notify trigger function for public.t, payload mode keys.\n"
            "BEGIN\n  RETURN NULL;\nEND\n")
    db.execute(sql.SQL('CREATE FUNCTION public."pgwatch_notify_t"() RETURNS trigger '
                       "LANGUAGE plpgsql AS {}").format(sql.Literal(body)))
    db.execute(sql.SQL('CREATE FUNCTION public."pgwatchXnotify_t"() RETURNS trigger '
                       "LANGUAGE plpgsql AS {}").format(sql.Literal(body)))  # not our name
    (left,) = leftovers(pg_dsn)
    assert (left.schema, left.name) == ("public", "pgwatch_notify_t")
    assert left.reason == "made for public.t, whose trigger is gone"
    remove_all(pg_dsn)
    assert db.execute("SELECT array_agg(proname::text) FROM pg_proc "
                      "WHERE pronamespace = 'public'::regnamespace").fetchone()[0] == \
        ["pgwatchXnotify_t"]

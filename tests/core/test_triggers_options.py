"""WHEN, UPDATE OF, key columns and awkward table and column names."""

from __future__ import annotations

import pytest
from psycopg import sql

from pgwatch_gui.core.triggers.spec import TriggerSpec
from tests.core.trigger_helpers import call, install, listen, nothing_more, received


@pytest.fixture
def orders(db):
    db.execute("CREATE TABLE orders (id int PRIMARY KEY, status text, total numeric, note text)")
    db.execute("INSERT INTO orders VALUES (1, 'new', 10, '')")
    return db


def test_when_condition_filters_rows(orders, pg_dsn):
    install(pg_dsn, TriggerSpec("public", "orders", channel="o", events=("update",),
                                when="OLD.status IS DISTINCT FROM NEW.status"))
    listen(orders, "o")
    orders.execute("UPDATE orders SET total = 11")
    orders.execute("UPDATE orders SET status = 'paid'")
    (_, p), = received(orders, 1)
    assert p["op"] == "UPDATE" and p["key"] == {"id": 1}
    nothing_more(orders)


def test_update_of_fires_only_for_those_columns(orders, pg_dsn):
    install(pg_dsn, TriggerSpec("public", "orders", channel="o", payload="diff",
                                events=("insert", "update"), update_of=("status", "total")))
    listen(orders, "o")
    orders.execute("UPDATE orders SET note = 'ignored'")
    orders.execute("UPDATE orders SET total = 12")
    orders.execute("INSERT INTO orders VALUES (2, 'new', 1, '')")
    (_, upd), (_, ins) = received(orders, 2)
    assert upd["changed"] == ["total"] and ins["op"] == "INSERT"
    nothing_more(orders)


def test_bad_when_is_refused_by_the_server(orders, pg_dsn):
    from pgwatch_gui.core.triggers import manage as triggers

    spec = TriggerSpec("public", "orders", channel="o", events=("update",),
                       when="NEW.no_such_column > 1")

    async def go(conn):
        # The server parses the condition while planning: dry-run, check and install
        # all stop there.
        with pytest.raises(triggers.TriggerError) as info:
            await triggers.plan_install(conn, [spec])
        return str(info.value)

    message = call(pg_dsn, go)
    assert "no_such_column" in message and "\n" not in message
    assert orders.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgwatch%'"
                          ).fetchone()[0] == 0


def test_explicit_key_columns_and_a_table_without_key(db, pg_dsn):
    db.execute("CREATE TABLE logs (at timestamptz, source text, line text)")
    db.execute("CREATE TABLE ri (a int NOT NULL, b int NOT NULL, c text)")
    db.execute("CREATE UNIQUE INDEX ri_ab ON ri (b, a)")
    db.execute("ALTER TABLE ri REPLICA IDENTITY USING INDEX ri_ab")
    plan = install(pg_dsn, TriggerSpec("public", "logs", channel="k"),
                   TriggerSpec("public", "ri", channel="k"))
    assert any("no primary key" in n for n in plan.notes)
    listen(db, "k")
    db.execute("INSERT INTO logs VALUES (now(), 'app', 'hello')")
    db.execute("INSERT INTO ri VALUES (1, 2, 'x')")
    (_, log), (_, ri) = received(db, 2)
    assert log["key"] is None
    assert ri["key"] == {"b": 2, "a": 1}  # replica identity index, in index order
    install(pg_dsn, TriggerSpec("public", "logs", channel="k", key_columns=("source", "at")))
    db.execute("INSERT INTO logs VALUES ('2026-01-01 00:00+00', 'db', 'x')")
    (_, log2), = received(db, 1)
    assert log2["key"]["source"] == "db" and log2["key"]["at"].startswith("2026-01-01")


AWKWARD_TABLES = ["Order Items", '"quoted"', "ünïcode", "select", "MixedCase", "a.b", "x'y",
                  "new\nline -- DROP TABLE x;", "é" * 31]  # the last: 62 bytes
AWKWARD_COLUMNS = ["Order Id", '"q"', "ünï", "select", "MixedCol", "back\\slash", "$pgwatch$"]


@pytest.mark.parametrize("table", AWKWARD_TABLES)
def test_awkward_table_and_column_names(db, pg_dsn, table):
    db.execute("CREATE SCHEMA IF NOT EXISTS {}".format(sql.Identifier("Sales Dept").as_string(db)))
    cols = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c))
                              for c in AWKWARD_COLUMNS[1:])
    db.execute(sql.SQL("CREATE TABLE {} ({} int PRIMARY KEY, {})").format(
        sql.Identifier("Sales Dept", table), sql.Identifier(AWKWARD_COLUMNS[0]), cols))
    install(pg_dsn, TriggerSpec("Sales Dept", table, channel="Weird Channel ü", payload="diff",
                                events=("insert", "update", "delete"),
                                update_of=tuple(AWKWARD_COLUMNS[1:]),
                                exclude=("back\\slash",)))
    listen(db, "Weird Channel ü")
    target = sql.Identifier("Sales Dept", table)
    db.execute(sql.SQL("INSERT INTO {} VALUES (1, 'a', 'b', 'c', 'd', 'secret', 'f')"
                       ).format(target))
    db.execute(sql.SQL("UPDATE {} SET {} = 'B'").format(target, sql.Identifier("ünï")))
    db.execute(sql.SQL("DELETE FROM {}").format(target))
    (_, ins), (_, upd), (_, dele) = received(db, 3)
    assert ins["schema"] == "Sales Dept" and ins["table"] == table
    assert ins["key"] == {"Order Id": 1}
    assert ins["row"] == {"Order Id": 1, '"q"': "a", "ünï": "b", "select": "c", "MixedCol": "d",
                          "$pgwatch$": "f"}  # the function's own dollar quote, as a column
    assert upd["changed"] == ["ünï"] and upd["row"] == {"ünï": "B"}
    assert dele["old"]["select"] == "c" and "secret" not in str(dele)

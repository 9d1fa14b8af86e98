"""Catalog: schemas, tables, columns, keys, triggers, and notify triggers found in the wild."""

from __future__ import annotations

import pytest

from pgwatch_gui.core.triggers import catalog
from pgwatch_gui.core.triggers.spec import TriggerSpec
from tests.core.trigger_helpers import call, install
from tests.seed_triggers import ALL_SEEDS, EXPECTED


def test_seed_triggers_are_listed_as_other_notify_triggers(db, pg_dsn):
    db.execute(ALL_SEEDS)
    found = call(pg_dsn, catalog.notify_triggers)
    got = {(t.table, t.name): [c.describe() for c in t.channels] for t in found}
    assert got == EXPECTED
    for t in found:
        assert not t.is_pgwatch and t.is_other_notify and t.timing == "AFTER"
    prefix = next(c for t in found for c in t.channels if c.kind == "prefix")
    assert (prefix.name, prefix.column) == ("user_notifications_", "user_id")
    names = [c.name for c in catalog.discovered_channels(found)]
    assert names == ["article_changes", "channel_name", "new_event", "record_changes",
                     "user_notifications_"]


def test_tables_are_marked_ours_or_other_notify(db, pg_dsn):
    db.execute(ALL_SEEDS)
    db.execute("CREATE TABLE plain (id int PRIMARY KEY)")
    db.execute("CREATE TABLE mine (id int PRIMARY KEY)")
    db.execute("ANALYZE plain")
    install(pg_dsn, TriggerSpec("public", "mine"), TriggerSpec("public", "Article"))
    tables = {t.name: t for t in call(pg_dsn, catalog.list_tables)}
    assert tables["mine"].pgwatch and not tables["mine"].other_notify
    assert tables["Article"].pgwatch and tables["Article"].other_notify
    assert tables["my_table"].other_notify and not tables["my_table"].pgwatch
    assert not tables["plain"].pgwatch and not tables["plain"].other_notify
    assert tables["plain"].estimated_rows == 0 and tables["mine"].estimated_rows is None
    assert tables["Article"].qualified == 'public."Article"'
    # our own triggers are never "other notify triggers"
    assert all(not t.is_pgwatch for t in call(pg_dsn, catalog.notify_triggers))


def test_schemas_and_estimated_rows(db, pg_dsn):
    db.execute('CREATE SCHEMA "Sales Dept"; CREATE TABLE "Sales Dept".t (id int)')
    db.execute('INSERT INTO "Sales Dept".t SELECT generate_series(1, 500)')
    db.execute('ANALYZE "Sales Dept".t')
    assert call(pg_dsn, catalog.list_schemas) == ["Sales Dept", "public"]
    (t,) = call(pg_dsn, catalog.list_tables, "Sales Dept")
    assert t.estimated_rows == 500 and t.kind == "table"


def test_table_info_columns_types_and_keys(db, pg_dsn):
    db.execute("""CREATE TABLE "Order Items" ("Order Id" int, line int, note varchar(20),
                  doc json, tags text[], PRIMARY KEY (line, "Order Id"))""")
    info = call(pg_dsn, catalog.table_info, "public", "Order Items")
    assert info.column_names == ("Order Id", "line", "note", "doc", "tags")
    assert [c.type for c in info.columns] == ["integer", "integer", "character varying(20)",
                                              "json", "text[]"]
    assert info.key == ("line", "Order Id") and info.key_source == "primary key"
    assert [c.comparable for c in info.columns] == [True, True, True, False, False]
    assert info.columns[0].not_null and not info.columns[2].not_null
    assert info.owned and info.triggers == ()
    db.execute("CREATE TABLE nokey (a int)")
    assert call(pg_dsn, catalog.table_info, None, "nokey").key == ()


def test_unknown_tables_and_non_tables_are_refused(db, pg_dsn):
    db.execute("CREATE VIEW v AS SELECT 1 AS x")
    with pytest.raises(catalog.CatalogError, match=r'relation "public\.nope" does not exist'):
        call(pg_dsn, catalog.table_info, "public", "nope")
    with pytest.raises(catalog.CatalogError, match="is a view"):
        call(pg_dsn, catalog.table_info, "public", "v")


def test_server_facts(pg_dsn):
    facts = call(pg_dsn, catalog.server_facts)
    assert facts.version_num >= 110000 and facts.superuser and facts.can_create_schema
    assert not facts.pgwatch_schema and 0.0 <= facts.queue_usage < 1.0


def test_partitioned_table_triggers_listed_once(db, pg_dsn):
    db.execute("CREATE TABLE m (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)")
    db.execute("CREATE TABLE m_2026 PARTITION OF m FOR VALUES FROM ('2026-01-01') "
               "TO ('2027-01-01')")
    install(pg_dsn, TriggerSpec("public", "m", channel="m"))
    names = [t.name for t in call(pg_dsn, catalog.list_triggers)]
    assert names == ["pgwatch_notify"]
    assert [t.name for t in call(pg_dsn, catalog.list_tables)] == ["m"]
    db.execute("LISTEN m")
    db.execute("INSERT INTO m VALUES (1, '2026-05-01')")
    (n,) = list(db.notifies(timeout=3, stop_after=1))
    assert '"table":"m"' in n.payload

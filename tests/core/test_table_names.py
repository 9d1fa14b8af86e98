"""One spelling of a table works everywhere: SQL form or as the event table shows it."""

from __future__ import annotations

import json

import pytest

from pgwatch_gui.core.filtering.engine import FilterSpec, compile_filter
from pgwatch_gui.core.filtering.facets import FacetCache
from pgwatch_gui.core.pg.names import (
    IdentifierError,
    TableNames,
    resolve_schema,
    resolve_table,
    table_candidates,
)
from pgwatch_gui.core.stream.events import Event


@pytest.mark.parametrize("text,expected", [
    ('"Sales Dept"."Order Items"', [("Sales Dept", "Order Items")]),
    ("Sales Dept.Order Items", [("Sales Dept", "Order Items")]),
    ("public.orders", [("public", "orders")]),
    ("Public.Orders", [("public", "orders"), ("Public", "Orders")]),
    ("orders", [(None, "orders")]),
    ("Order Items", [(None, "Order Items")]),
    ("a.b.c", [("a", "b.c"), ("a.b", "c")]),
    ('"a.b".c', [("a.b", "c")]),
    ('bad"name', []),
    ("", []),
    (".x", []),
])
def test_candidates_read_both_spellings(text, expected):
    assert table_candidates(text) == expected


SHOWN = ["Sales Dept.Order Items", "public.orders", "public.Orders", "audit.orders",
         "orders", "x.Order Items", "public.order"]


@pytest.mark.parametrize("texts,matching", [
    (['"Sales Dept"."Order Items"'], {"Sales Dept.Order Items"}),
    (["Sales Dept.Order Items"], {"Sales Dept.Order Items"}),
    (["public.orders"], {"public.orders"}),
    (['public."Orders"'], {"public.Orders"}),
    (["Public.Orders"], {"public.orders"}),  # SQL folds; shown as typed would be "Public"
    (["orders"], {"public.orders", "audit.orders", "orders"}),  # any schema
    (["Order Items"], {"Sales Dept.Order Items", "x.Order Items"}),
    (['"Order Items"', "public.orders"], {"Sales Dept.Order Items", "x.Order Items",
                                          "public.orders"}),
])
def test_table_names_match_what_the_table_shows(texts, matching):
    names = TableNames(texts)
    assert {s for s in SHOWN if names.matches(s)} == matching
    assert not names.matches("")


def event(seq: int, schema: str | None, table: str) -> Event:
    payload = {"v": 1, "op": "INSERT", "table": table, "key": {"id": seq}}
    if schema is not None:
        payload["schema"] = schema
    return Event(seq, 1.0, "", "c", 1, json.dumps(payload))


def test_the_filter_engine_takes_either_spelling():
    events = [event(1, "Sales Dept", "Order Items"), event(2, "public", "orders"),
              event(3, None, "orders"), event(4, "public", "Orders")]
    for texts, seqs in ((['"Sales Dept"."Order Items"'], [1]), (["Sales Dept.Order Items"], [1]),
                        (["orders"], [2, 3]), (['public."Orders"'], [4])):
        flt = compile_filter(FilterSpec(table_names=frozenset(texts)))
        assert [events[i].seq for i in flt.select(events, 0, FacetCache())] == seqs, texts
        assert [e.seq for e in events if flt.matches(e)] == seqs
    assert not FilterSpec(table_names=frozenset({"x"})).is_empty


@pytest.fixture
def tables(db):
    db.execute('CREATE SCHEMA "Sales Dept"')
    db.execute('CREATE TABLE "Sales Dept"."Order Items" (id int PRIMARY KEY)')
    db.execute('CREATE TABLE orders (id int)')
    db.execute('CREATE TABLE "Orders" (id int)')
    db.execute('CREATE TABLE "a.b" (id int)')
    db.execute("CREATE VIEW v AS SELECT 1")
    db.execute("CREATE SEQUENCE s")
    return db


@pytest.mark.parametrize("text,expected", [
    ('"Sales Dept"."Order Items"', ("Sales Dept", "Order Items")),
    ("Sales Dept.Order Items", ("Sales Dept", "Order Items")),
    ("  Sales Dept.Order Items ", ("Sales Dept", "Order Items")),
    ("orders", ("public", "orders")),  # the search_path decides, as in SQL
    ('"Orders"', ("public", "Orders")),
    ("public.a.b", ("public", "a.b")),
    ("v", ("public", "v")),  # a view is found; what may go on it is the caller's to say
])
def test_resolve_on_the_server(tables, text, expected):
    assert resolve_table(tables, text) == expected


@pytest.mark.parametrize("text,message", [
    ("public.nope", "no table public.nope in this database"),
    ("Sales Dept.Nope", "no table Sales Dept.Nope in this database"),
    ("s", "no table s in this database"),  # a sequence is no table
    ("Orders", 'Orders could be public.orders and public."Orders"; write it in SQL form'),
])
def test_resolve_says_what_is_not_there(tables, text, message):
    with pytest.raises(IdentifierError) as err:
        resolve_table(tables, text)
    assert str(err.value).startswith(message)


def test_resolve_schema(tables):
    assert resolve_schema(tables, "Sales Dept") == "Sales Dept"
    assert resolve_schema(tables, '"Sales Dept"') == "Sales Dept"
    assert resolve_schema(tables, "PUBLIC") == "public"
    with pytest.raises(IdentifierError, match="no schema Nope in this database"):
        resolve_schema(tables, "Nope")

"""Qualified names as people type them, with PostgreSQL's quoting and folding rules."""

from __future__ import annotations

import pytest

from pgwatch_gui.core.pg.names import (
    IdentifierError,
    parse_identifier,
    parse_identifier_list,
    parse_qualified,
    qualified,
    quote_ident,
)


@pytest.mark.parametrize("text,expected", [
    ("orders", (None, "orders")),
    ("public.orders", ("public", "orders")),
    ('public."Order Items"', ("public", "Order Items")),
    ('"Sales Dept"."Order Items"', ("Sales Dept", "Order Items")),
    ("Public.Orders", ("public", "orders")),  # unquoted: folded, as the server does
    ('"MixedCase"', (None, "MixedCase")),
    ('"a""b"', (None, 'a"b')),
    ('"a.b".c', ("a.b", "c")),
    ("ünïcode", (None, "ünïcode")),
    ("ÜNÏ", (None, "ÜnÏ")),  # only ASCII letters fold, as in a UTF-8 database
    ("public.select", ("public", "select")),
    (' public . "x y" ', ("public", "x y")),
])
def test_parse_qualified(text, expected):
    assert parse_qualified(text) == expected


@pytest.mark.parametrize("text", ["", "a.b.c", "public.Order Items", '"unterminated', '""',
                                  "1abc", "a.", "x" * 64])
def test_parse_qualified_refuses(text):
    with pytest.raises(IdentifierError):
        parse_qualified(text)


def test_identifier_lists_and_single_identifiers():
    assert parse_identifier_list('a, "B,c", D') == ["a", "B,c", "d"]
    assert parse_identifier_list("  ") == []
    assert parse_identifier('"Order Id"') == "Order Id"
    with pytest.raises(IdentifierError):
        parse_identifier_list("a b")
    with pytest.raises(IdentifierError):
        parse_identifier("a.b")


@pytest.mark.parametrize("name", ["orders", "Order Items", 'x"y', "select", "ünï", "a.b", "1x"])
def test_quote_round_trip(name):
    assert parse_qualified(qualified("public", name)) == ("public", name)
    assert parse_identifier(quote_ident(name)) == name


def test_quoting_only_when_needed():
    assert qualified("public", "orders") == "public.orders"
    assert qualified("public", "Orders") == 'public."Orders"'
    assert quote_ident("select") == '"select"'

"""Specs, their checks and stored form, and the rendered SQL (no database needed)."""

from __future__ import annotations

import pytest

from pgwatch_gui.core.triggers.catalog import Column
from pgwatch_gui.core.triggers.spec import SpecError, Stored, TriggerSpec, check_spec
from pgwatch_gui.core.triggers.sql import Placement, function_name, render

COLS = ["id", "owner", "secret", "note"]


def cols():
    return [Column("id", "int", True), Column("owner", "int"), Column("secret", "text"),
            Column("note", "json", comparable=False)]


@pytest.mark.parametrize("kwargs,message", [
    ({"events": ()}, "at least one event"),
    ({"events": ("upsert",)}, "unknown event"),
    ({"payload": "everything"}, "unknown payload mode"),
    ({"channel": ""}, "channel: channel name is empty"),
    ({"channel": "x" * 64}, "at most 63"),
    ({"exclude": ("nope",)}, "no column 'nope'"),
    ({"exclude": ("id",)}, "'id' is a key column"),
    ({"key_columns": ("owner",), "exclude": ("owner",)}, "'owner' is a key column"),
    ({"channel": "u_", "channel_column": "secret", "exclude": ("secret",)},
     "visible in the channel name"),
    ({"channel": "u" * 63, "channel_column": "owner"}, "no room"),
    ({"events": ("insert",), "update_of": ("note",)}, "need the UPDATE event"),
    ({"events": ("truncate",), "when": "true"}, "needs a row event"),
    ({"update_of": ("note", "note")}, "twice"),
])
def test_check_spec_refuses(kwargs, message):
    with pytest.raises(SpecError, match=message):
        check_spec(TriggerSpec("public", "t", **kwargs), COLS, ("id",))


def test_spec_normalises_and_round_trips():
    spec = TriggerSpec("public", "t", events=["truncate", "insert", "Update"], when="  ",
                       exclude=["secret"])
    assert spec.events == ("INSERT", "UPDATE", "TRUNCATE") and spec.when is None
    stored = Stored(spec, ("id",), ("id", "owner"), "1.0")
    back = Stored.from_comment(stored.to_json())
    assert back == stored
    for junk in (None, "", "hand-written", "{not json", '{"pgwatch": 2}', "[1]",
                 '{"pgwatch": 1, "spec": 5}'):
        assert Stored.from_comment(junk) is None


def test_render_quotes_everything_and_has_no_runtime_lookups():
    spec = TriggerSpec("public", "t", payload="row", events=("insert", "update", "delete"),
                       exclude=("secret",))
    text = render(spec, cols(), key=("id",))
    assert 'NEW."owner"' in text and "to_jsonb" not in text and "TG_ARGV" not in text
    assert "secret" not in text.split("COMMENT ON TRIGGER")[0]
    assert 'NEW."note"::text IS DISTINCT FROM OLD."note"::text' in text
    assert "EXCEPTION WHEN OTHERS" in text and "octet_length(payload) >= 8000" in text


def test_function_names_fit_and_never_collide():
    pg = Placement()
    assert function_name("public", "orders", pg) == "public.orders"
    long_a = function_name("s" * 40, "t" * 40, pg)
    long_b = function_name("s" * 40, "t" * 39 + "u", pg)
    assert len(long_a.encode()) <= 63 and long_a != long_b
    assert function_name("a.b", "c", pg) != function_name("a", "b.c", pg)
    assert function_name("public", "é" * 31, Placement("public", False)).encode().__len__() <= 63
    assert function_name("public", "orders", Placement("public", False)) == \
        "pgwatch_notify_orders"


def test_placement_without_schema_creation():
    text = render(TriggerSpec("s", "t"), cols(), key=("id",), placement=Placement("s", False))
    assert "CREATE SCHEMA" not in text and 'FUNCTION "s"."pgwatch_notify_t"()' in text

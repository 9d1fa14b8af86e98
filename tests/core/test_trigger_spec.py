"""Specs, their checks and stored form, and the rendered SQL (no database needed)."""

from __future__ import annotations

import pytest

from pgwatch_gui.core.triggers.catalog import Column
from pgwatch_gui.core.triggers.spec import (
    FunctionMark,
    SpecError,
    Stored,
    TriggerSpec,
    check_spec,
)
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


def test_function_names_carry_the_table_oid_and_fit():
    pg = Placement()
    assert function_name("public", "orders", 16384, pg) == "public.orders#16384"
    assert function_name("public", "orders", 16384, pg, 2) == "public.orders#16384-2"
    long_a = function_name("s" * 40, "t" * 40, 4_000_000_000, pg)
    assert len(long_a.encode()) == 63 and long_a.endswith("#4000000000")
    # the name is the table's own: another table (another oid) never gets it
    assert function_name("public", "a", 1, pg) != function_name("public", "a", 2, pg)
    cut = function_name("public", "é" * 31, 16384, Placement("public", False))
    assert len(cut.encode()) <= 63 and cut.endswith("#16384")
    assert function_name("public", "orders", 7, Placement("public", False)) == \
        "pgwatch_notify_orders#7"


def test_the_function_comment_marks_the_table(monkeypatch):
    text = render(TriggerSpec("public", "t"), cols(), key=("id",), table_oid=16384)
    comment = text.split('COMMENT ON FUNCTION "pgwatch"."public.t#16384"() IS \'')[1]
    mark = FunctionMark.from_comment(comment.split("';\n")[0].replace("''", "'"))
    assert mark is not None and mark.table_oid == 16384
    assert mark.stored.spec.table == "t" and mark.stored.key == ("id",)
    for junk in ('{"pgwatch":1,"spec":{"schema":"s","table":"t"}}', "x", None):
        assert FunctionMark.from_comment(junk) is None


def test_placement_without_schema_creation():
    text = render(TriggerSpec("s", "t"), cols(), key=("id",), placement=Placement("s", False))
    assert "CREATE SCHEMA" not in text and 'FUNCTION "s"."pgwatch_notify_t#1"()' in text

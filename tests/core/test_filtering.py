"""Every kind of filter, on Event fields, without Qt."""

from __future__ import annotations

import json

import pytest

from pgwatch_gui.core.filtering.engine import FilterSpec, compile_filter
from pgwatch_gui.core.filtering.facets import (
    OP_NONE,
    TABLE_NONE,
    FacetCache,
    FacetScan,
    facets_of,
)
from pgwatch_gui.core.filtering.fields import FieldSyntaxError, parse_fields
from pgwatch_gui.core.stream.events import Event, make_gap


def ev(seq, payload, channel="orders", own=False, profile="p"):
    if not isinstance(payload, str):
        payload = json.dumps(payload)
    return Event(seq, 0.0, profile, channel, 100, payload, own=own)


ENV = {"v": 1, "op": "UPDATE", "schema": "public", "table": "orders", "key": {"id": 42},
       "row": {"id": 42, "status": "shipped", "total": 120.5, "note": None, "zip": "01234"},
       "old": {"id": 42, "status": "paid", "total": 99}}
EVENTS = [
    ev(1, ENV),
    ev(2, {**ENV, "op": "INSERT", "key": {"id": 7}, "row": {"id": 7, "status": "new"},
           "old": None}),
    ev(3, {"operation": "DELETE", "record_id": 42}, channel="article_changes"),
    ev(4, {"id": 9, "name": "Widget", "price": 9.99}, channel="record_changes"),
    ev(5, {"table": "notification", "operation": "INSERT", "data": {"id": 5, "type": "info"}},
       channel="user_notifications_42"),
    ev(6, "plain text, not JSON", channel="my_channel"),
    ev(7, "", channel="my_channel", own=True),
    ev(8, {"table": "public.Order Items", "op": "update", "key": {"a": 1, "b": "x"}},
       channel="Order Events"),
]


def seqs(spec: FilterSpec, events=EVENTS) -> list[int]:
    f = compile_filter(spec)
    return [events[i].seq for i in f.select(events, 0, FacetCache())]


def test_empty_filter_passes_everything():
    f = compile_filter(FilterSpec())
    assert not f.active and f.error is None
    assert seqs(FilterSpec()) == [1, 2, 3, 4, 5, 6, 7, 8]


@pytest.mark.parametrize(("text", "expected"), [
    ("shipped", [1]),
    ("SHIPPED", [1]),  # case-insensitive by default
    ("article", [3]),  # the channel
    ("widget", [4]),
    ("not json", [6]),
    ("42", [1, 3, 5]),  # payload text and channel user_notifications_42
    ("public.orders", [1, 2]),  # table as shown: spans schema "." table
    ("id=42", [1, 3]),  # key as shown
    ("a=1, b=x", [8]),  # a composite key as shown
    ("public.Order", [1, 2, 8]),  # any case: public.orders too
    ("nothing-like-this", []),
])
def test_free_text(text, expected):
    assert seqs(FilterSpec(text=text)) == expected


def test_free_text_match_case():
    assert seqs(FilterSpec(text="Widget", case_sensitive=True)) == [4]
    assert seqs(FilterSpec(text="widget", case_sensitive=True)) == []


def test_regex():
    assert seqs(FilterSpec(text=r"shipp?ed|widget", regex=True)) == [1, 4]
    assert seqs(FilterSpec(text=r"^user_", regex=True)) == [5]  # channel
    assert seqs(FilterSpec(text=r"Widget", regex=True, case_sensitive=True)) == [4]


def test_bad_regex_is_an_error_not_an_exception():
    f = compile_filter(FilterSpec(text="(unclosed", regex=True))
    assert "text" in f.errors and "regular expression" in f.errors["text"]
    assert f.error is not None
    # The text part is left out; nothing else is active, so every row passes.
    assert not f.active
    assert seqs(FilterSpec(text="[z-a]", regex=True, channels=frozenset({"orders"}))) == [1, 2]


def test_pickers():
    assert seqs(FilterSpec(channels=frozenset({"my_channel", "orders"}))) == [1, 2, 6, 7]
    assert seqs(FilterSpec(ops=frozenset({"INSERT"}))) == [2, 5]
    assert seqs(FilterSpec(ops=frozenset({"DELETE", "UPDATE"}))) == [1, 3, 8]
    assert seqs(FilterSpec(ops=frozenset({OP_NONE}))) == [4, 6, 7]
    assert seqs(FilterSpec(tables=frozenset({"public.orders"}))) == [1, 2]
    assert seqs(FilterSpec(tables=frozenset({"notification", "public.Order Items"}))) == [5, 8]


def test_table_picker_finds_rows_without_a_table():
    assert seqs(FilterSpec(tables=frozenset({TABLE_NONE}))) == [3, 4, 6, 7]
    assert seqs(FilterSpec(tables=frozenset({TABLE_NONE, "notification"}))) == [3, 4, 5, 6, 7]


def test_pickers_combine_with_text():
    spec = FilterSpec(text="42", ops=frozenset({"INSERT"}))
    assert seqs(spec) == [5]


def test_hide_own():
    assert 7 not in seqs(FilterSpec(hide_own=True))
    assert len(seqs(FilterSpec(hide_own=True))) == 7


@pytest.mark.parametrize(("expr", "expected"), [
    ("key.id = 42", [1, 3]),  # envelope key and record_id alike
    ("key.id == 7", [2]),
    ("key.id != 42", [2, 4, 5, 6, 7, 8]),  # missing counts as not equal
    ("row.status = shipped", [1]),
    ("row.status = 'shipped'", [1]),
    ("row.total > 100", [1]),
    ("row.total >= 120.5", [1]),
    ("row.total < 100", []),
    ("old.total <= 99", [1]),
    ("row.id = 5", [5]),  # row.* of a {"table","operation","data"} payload
    ("row.name = Widget", [4]),  # row.* of a bare row_to_json payload
    ("price = 9.99", [4]),  # a top-level field
    ("row.zip = 01234", [1]),  # text stays text: leading zero kept
    ("row.note", []),  # present but null
    ("row.status", [1, 2]),  # present and not null
    ("row.status ~ ^sh", [1]),
    ("row.status !~ ^sh", [2, 3, 4, 5, 6, 7, 8]),
    ("op = DELETE", [3]),  # decoded operation for {"operation": ...}
    ("op = UPDATE", [1, 8]),  # 'update' normalised
    ("channel = my_channel", [6, 7]),
    ("table = orders and key.id = 7", [2]),
    ("key.id = 42 or row.name = Widget", [1, 3, 4]),
    ("key.id = 42 && op = DELETE || key.b = x", [3, 8]),
    ('data.type = "info"', [5]),
])
def test_field_conditions(expr, expected):
    f = compile_filter(FilterSpec(fields=expr))
    assert f.error is None
    assert seqs(FilterSpec(fields=expr)) == expected


def test_field_number_written_with_exponent():
    events = [ev(1, '{"key": {"id": 4.2e1}}'), ev(2, '{"key": {"id": 42.0}}'),
              ev(3, '{"key": {"id": 420}}')]
    assert seqs(FilterSpec(fields="key.id = 42"), events) == [1, 2]


@pytest.mark.parametrize(("expr", "message"), [
    ("key.id =", "value is missing"),
    ("= 3", "field path"),
    ("key..id = 1", "not a field path"),
    ("a = 1 and", "missing at the end"),
    ("a = 1 b = 2", "expected 'and' or 'or'"),
    ("row.x ~ (", "bad pattern"),
    ("row.x = 'open", "unclosed quote"),
])
def test_field_syntax_errors(expr, message):
    with pytest.raises(FieldSyntaxError, match=message):
        parse_fields(expr)
    f = compile_filter(FilterSpec(fields=expr))
    assert message in f.errors["fields"]


def test_gaps_always_pass():
    gap = make_gap(99, "p", 0.0, 1.0, "server closed the connection")
    events = [*EVENTS, gap]
    assert seqs(FilterSpec(text="shipped"), events) == [1, 99]
    assert seqs(FilterSpec(channels=frozenset({"x"}), fields="key.id = 1"), events) == [99]


def test_filter_never_fills_the_events_decode_cache():
    events = [ev(i, {**ENV, "key": {"id": i}}) for i in range(10)]
    cache = FacetCache()
    compile_filter(FilterSpec(ops=frozenset({"UPDATE"}), fields="row.status = shipped")).select(
        events, 0, cache)
    assert all(e._decoded is None for e in events)
    assert len(cache) == 10
    assert cache.peek(3) == ("UPDATE", "public.orders", "id=3")
    cache.forget_range(0, 5)
    assert len(cache) == 5 and cache.peek(3) is None


def test_facets_and_known_values():
    assert facets_of(EVENTS[0]) == ("UPDATE", "public.orders", "id=42")
    assert facets_of(EVENTS[5]) == ("", "", "")
    cache = FacetCache()  # what the pickers offer: the cache a FacetScan fills
    FacetScan(cache.missing(enumerate(EVENTS)), cache).step(float("inf"))
    ops, tables = cache.known()
    assert ops == {"UPDATE", "INSERT", "DELETE", OP_NONE}
    # rows that name no table get a picker entry of their own (issue 11)
    assert tables == {"public.orders", "notification", "public.Order Items", TABLE_NONE}


def test_non_json_payloads_never_break_filters():
    weird = [ev(1, "{not json"), ev(2, "[1, 2"), ev(3, "x" * 7999), ev(4, "\u00fcnïcode ✓"),
             ev(5, "null"), ev(6, "[1, 2, 3]"), ev(7, '{"key": "scalar"}')]
    for spec in (FilterSpec(text="ü"), FilterSpec(ops=frozenset({"UPDATE"})),
                 FilterSpec(fields="key.id = 1"), FilterSpec(fields="$.0 = 1"),
                 FilterSpec(text="x=1")):
        compile_filter(spec).select(weird, 0, FacetCache())
    assert seqs(FilterSpec(fields="$.0 = 1"), weird) == [6]
    assert seqs(FilterSpec(text="ÜN"), weird) == [4]


def test_facet_scan_fills_the_cache_a_slice_at_a_time():
    keyed = [(k, Event(k, 0.0, "p", "c", 1, json.dumps(
        {"v": 1, "op": "INSERT", "table": f"t{k % 3}", "key": {"id": k}}))) for k in range(1000)]
    cache = FacetCache()
    scan = FacetScan(cache.missing(keyed), cache)
    assert len(scan) == 1000 and not scan.done
    assert scan.step(0.0) is False  # no time at all: one slice, then the clock says stop
    assert len(cache) == FacetScan.SLICE
    while not scan.step(0.0):
        pass
    assert len(cache) == 1000 and cache.missing(keyed) == []
    assert cache.known() == ({"INSERT"}, {"t0", "t1", "t2"})


def test_facets_of_rows_gone_are_not_kept():
    """A scan that started before the oldest rows left must not put them back."""
    keyed = list(enumerate(EVENTS))
    cache = FacetCache()
    scan = FacetScan(keyed, cache)
    cache.forget_range(0, 3)  # rows 0..2 evicted meanwhile
    scan.step(float("inf"))
    assert cache.peek(2) is None and cache.peek(3) is not None
    cache.clear(floor=len(EVENTS))  # the model was cleared
    FacetScan(keyed, cache).step(float("inf"))
    assert len(cache) == 0
    assert cache.get(1, EVENTS[1]) == facets_of(EVENTS[1])  # still answered, not kept
    assert len(cache) == 0


def test_known_values_leave_gap_rows_out():
    gap = make_gap(9, "p", 0.0, 1.0, "lost")
    cache = FacetCache()
    cache.get(0, gap)
    cache.get(1, EVENTS[0])
    assert cache.known() == ({"UPDATE"}, {"public.orders"})
    assert cache.missing([(0, gap), (2, EVENTS[1])]) == [(2, EVENTS[1])]

"""Every pair of filter kinds against a reference evaluation (issue 10, defect 1).

The reference says, for one event, what each kind of filter means, written plainly
(no fast paths, no caches); a combination means all of its parts. `select` over a
batch and `matches` per event must both agree with it.
"""

from __future__ import annotations

import itertools
import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pgwatch_gui.core.filtering.engine import FilterSpec, compile_filter
from pgwatch_gui.core.filtering.facets import OP_NONE, FacetCache
from pgwatch_gui.core.stream.events import Event, make_gap

CHANNELS = ["shop", "orders", "audit"]
OPS = ["INSERT", "UPDATE", "DELETE", None]
TABLES = [("public", "orders"), ("shop", "items"), (None, None)]
WORDS = ["shop", "widget", "red", "x"]


@st.composite
def events(draw):
    out = []
    for seq in range(1, draw(st.integers(1, 12)) + 1):
        if draw(st.integers(0, 9)) == 0:
            out.append(make_gap(seq, "p", 0.0, 1.0, "test"))
            continue
        op = draw(st.sampled_from(OPS))
        schema, table = draw(st.sampled_from(TABLES))
        body = {"v": 1, "op": op, "schema": schema, "table": table,
                "key": {"id": draw(st.integers(1, 3))},
                "row": {"status": draw(st.sampled_from(["new", "shipped"])),
                        "note": draw(st.sampled_from(WORDS))}}
        if table is None:
            body = {"note": draw(st.sampled_from(WORDS)), "op": op}
        out.append(Event(seq, 0.0, "p", draw(st.sampled_from(CHANNELS)), 1,
                         json.dumps(body), own=draw(st.booleans())))
    return out


KINDS = {
    "text": dict(text="shop"),
    "regex": dict(text="sh[io]p|widget", regex=True),
    "case": dict(text="Shop", case_sensitive=True),
    "channels": dict(channels=frozenset({"shop", "audit"})),
    "ops": dict(ops=frozenset({"DELETE", OP_NONE})),
    "tables": dict(tables=frozenset({"public.orders"})),
    "fields": dict(fields="op = DELETE"),
    "fields2": dict(fields="row.status = shipped or key.id > 2"),
    "hide_own": dict(hide_own=True),
}


def ref(kind: str, ev: Event) -> bool:
    """What one kind of filter means for one event, written out plainly."""
    d = json.loads(ev.payload)
    op = d.get("op")
    table = f"{d['schema']}.{d['table']}" if d.get("table") else ""
    if kind == "text":
        return "shop" in ev.payload.lower() or "shop" in ev.channel.lower()
    if kind == "regex":
        rx = re.compile("sh[io]p|widget", re.IGNORECASE)
        return bool(rx.search(ev.payload) or rx.search(ev.channel))
    if kind == "case":
        return "Shop" in ev.payload or "Shop" in ev.channel
    if kind == "channels":
        return ev.channel in {"shop", "audit"}
    if kind == "ops":
        return op in ("DELETE", None)
    if kind == "tables":
        return table == "public.orders"
    if kind == "fields":
        return op == "DELETE"
    if kind == "fields2":
        return d.get("row", {}).get("status") == "shipped" or d.get("key", {}).get("id", 0) > 2
    if kind == "hide_own":
        return not ev.own
    raise AssertionError(kind)


PAIRS = list(itertools.combinations(KINDS, 2)) + [(k,) for k in KINDS]


@settings(max_examples=60, deadline=None)
@given(events())
def test_every_pair_of_filter_kinds_matches_the_reference(evs):
    for pair in PAIRS:
        if len(pair) == 2 and (set(KINDS[pair[0]]) & set(KINDS[pair[1]])):
            continue  # one text box, one field box: these replace each other
        spec = FilterSpec(**{k: v for kind in pair for k, v in KINDS[kind].items()})
        f = compile_filter(spec)
        assert not f.errors
        expected = [i for i, ev in enumerate(evs)
                    if ev.is_gap or all(ref(kind, ev) for kind in pair)]
        assert f.select(evs, 0, FacetCache()) == expected, pair
        assert [i for i, ev in enumerate(evs) if f.matches(ev, i, FacetCache())] \
            == expected, pair


def test_text_plus_field_condition_keeps_only_the_field_matches():
    """The reported case: text `shop`, field `op = DELETE` showed INSERT/UPDATE rows."""
    evs = [Event(i, 0.0, "p", "shop", 1, json.dumps({"op": op, "table": "t"}))
           for i, op in enumerate(["INSERT", "UPDATE", "DELETE"])]
    f = compile_filter(FilterSpec(text="shop", fields="op = DELETE"))
    assert f.select(evs, 0, FacetCache()) == [2]

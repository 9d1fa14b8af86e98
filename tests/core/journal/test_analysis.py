"""Statistics, rates and key timelines over events (no database, no display)."""

from __future__ import annotations

import json

from pgwatch_gui.core.journal.rates import RateCounter
from pgwatch_gui.core.journal.stats import compute_stats, percentile
from pgwatch_gui.core.journal.timeline import build_timeline
from pgwatch_gui.core.stream.events import KIND_GAP, Event, new_event


def ev(i, payload, ts=1000.0, channel="orders", pid=1):
    if not isinstance(payload, str):
        payload = json.dumps(payload)
    return new_event(i, ts, "shop", channel, pid, payload)


def envelope(op, key, row=None, old=None, changed=None):
    d = {"v": 1, "op": op, "schema": "public", "table": "orders", "key": key}
    if row is not None:
        d["row"] = row
    if old is not None:
        d["old"] = old
    if changed is not None:
        d["changed"] = changed
    return d


def test_stats_counts_sizes_keys_and_gaps():
    evs = [ev(i, envelope(("INSERT", "UPDATE")[i % 2], {"id": i % 3}), channel=f"c{i % 2}")
           for i in range(10)]
    evs += [ev(10, "plain"), Event(11, 1005.0, "shop", "", 0, "lost", kind=KIND_GAP)]
    st = compute_stats(evs)
    assert (st.events, st.notifications, st.gaps) == (12, 11, 1)
    assert st.by_channel == {"c0": 5, "c1": 5, "orders": 1}
    assert st.by_op == {"INSERT": 5, "UPDATE": 5, "(none)": 1}
    assert st.by_table["public.orders"] == 10 and st.by_table["(no table)"] == 1
    assert st.top_keys(1) == [("public.orders id=0", 4)]
    assert st.sizes["max"] == max(e.size for e in evs[:11])
    assert st.span == 5.0


def test_percentile_nearest_rank():
    vals = list(range(1, 101))
    assert (percentile(vals, 50), percentile(vals, 99), percentile(vals, 100)) == (50, 99, 100)
    assert percentile([], 50) == 0


def test_rates_per_channel_and_per_table_op():
    rc = RateCounter(window=10)
    rc.add([ev(i, "x", ts=1000.2, channel="a") for i in range(5)])
    rc.add([ev(i, "x", ts=1001.5, channel="b") for i in range(3)])
    rc.add([Event(9, 1001.6, "shop", "", 0, "lost", kind=KIND_GAP)])
    start, series = rc.series(now=1001.9)
    assert start == 992
    assert series["a"][-2:] == [5, 0] and series["b"][-2:] == [0, 3]
    rc.add([ev(1, "x", ts=1020.0, channel="a")])  # the old buckets leave the window
    _, series = rc.series(now=1020.0)
    assert sum(series["a"]) == 1 and "b" not in series

    by_table = RateCounter(window=5, mode="table/op")
    by_table.add([ev(i, envelope("UPDATE", {"id": i}), ts=50.0) for i in range(4)])
    _, s = by_table.series(now=50.0)
    assert s == {"public.orders UPDATE": [0, 0, 0, 0, 4]}


def test_timeline_diffs_each_version_against_the_previous():
    key = {"id": 7}
    events = [
        ev(1, envelope("INSERT", key, row={"id": 7, "status": "new", "total": 1.50}), pid=11),
        ev(2, envelope("UPDATE", key, row={"id": 7, "status": "paid", "total": 1.50}), pid=12),
        # diff mode: only the changed column
        ev(3, envelope("UPDATE", key, row={"status": "shipped"}, old={"status": "paid"},
                       changed=["status"]), pid=13),
        ev(4, envelope("UPDATE", key), pid=14),  # keys only
        ev(5, envelope("DELETE", key, old={"id": 7, "status": "shipped"}), pid=15),
    ]
    entries = build_timeline(events)
    assert entries[0].note == "inserted" and entries[0].row["status"] == "new"
    assert entries[1].summary() == "status: new → paid"
    assert entries[2].summary() == "status: paid → shipped"
    assert entries[2].row == {"id": 7, "status": "shipped", "total": entries[0].row["total"]}
    assert "keys only" in entries[3].summary()
    assert entries[4].summary() == "deleted"
    assert [e.event.pid for e in entries] == [11, 12, 13, 14, 15]


def test_timeline_first_update_uses_its_own_old_and_new():
    e = build_timeline([ev(1, {"operation": "UPDATE", "table": "orders", "record_id": 7,
                                "data": {"old": {"s": 1}, "new": {"s": 2}}})])
    assert e[0].summary() == "s: 1 → 2"


def test_timeline_of_text_payloads_never_raises():
    entries = build_timeline([ev(1, "not json"), ev(2, ""), ev(3, "[1, 2]")])
    assert len(entries) == 3

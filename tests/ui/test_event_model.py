"""EventTableModel: batched appends, eviction, the filter's visible rows, pause, colours."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from pgwatch_gui.core.filtering.engine import FilterSpec
from pgwatch_gui.core.stream.events import Event, make_gap
from pgwatch_gui.core.stream.ring import EventRing
from pgwatch_gui.ui.events.columns import (
    COL_CONNECTION,
    COL_KEY,
    COL_OP,
    COL_PAYLOAD,
    COL_SIZE,
    COL_TABLE,
    COL_TIME,
)
from pgwatch_gui.ui.events.model import EVENT_ROLE, EventTableModel


def mk(i: int, status: str = "new", channel: str = "orders", own: bool = False) -> Event:
    payload = json.dumps({"v": 1, "op": "UPDATE", "schema": "public", "table": "orders",
                          "key": {"id": i}, "row": {"id": i, "status": status}})
    return Event(i, 1_700_000_000.0 + i / 1000, "Demo", channel, 4242, payload, own=own)


def batch(start: int, n: int, **kw) -> list[Event]:
    statuses = ("new", "paid", "shipped")
    return [mk(i, statuses[i % 3], **kw) for i in range(start, start + n)]


class Signals:
    def __init__(self, model: EventTableModel) -> None:
        self.inserts: list[tuple[int, int]] = []
        self.removes: list[tuple[int, int]] = []
        self.resets = 0
        model.rowsInserted.connect(lambda _p, a, b: self.inserts.append((a, b)))
        model.rowsRemoved.connect(lambda _p, a, b: self.removes.append((a, b)))
        model.modelReset.connect(self._reset)

    def _reset(self) -> None:
        self.resets += 1


def test_ring_wraps_and_slices():
    ring = EventRing(5)
    ring.extend(batch(0, 4))
    ring.drop_oldest(ring.overflow(3))
    ring.extend(batch(4, 3))
    assert [e.seq for e in ring] == [2, 3, 4, 5, 6]
    assert [e.seq for e in ring.slice(1, 4)] == [3, 4, 5]
    assert ring[-1].seq == 6
    with pytest.raises(IndexError):
        ring[5]
    with pytest.raises(OverflowError):
        ring.extend(batch(10, 1))


def test_one_insert_per_batch_and_one_remove_per_batch(qapp):
    model = EventTableModel(capacity=1000)
    sig = Signals(model)
    for start in range(0, 2500, 500):
        model.append_events(batch(start, 500))
    assert model.rowCount() == 1000
    assert sig.inserts == [(0, 499), (500, 999)] + [(500, 999)] * 3
    assert sig.removes == [(0, 499)] * 3
    assert model.event(0).seq == 1500 and model.event(999).seq == 2499
    assert model.evicted == 1500 and model.appended == 2500


def test_a_batch_larger_than_the_ring(qapp):
    model = EventTableModel(capacity=100)
    model.append_events(batch(0, 30))
    model.append_events(batch(30, 250))
    assert model.rowCount() == 100
    assert model.event(0).seq == 180 and model.event(99).seq == 279
    assert model.evicted == 180


def test_display_columns(qapp):
    model = EventTableModel()
    model.append_events([mk(42), make_gap(43, "Demo", 0.0, 5.0, "server closed")])
    cell = lambda r, c: model.index(r, c).data()  # noqa: E731
    assert cell(0, COL_OP) == "UPDATE"
    assert cell(0, COL_TABLE) == "public.orders"
    assert cell(0, COL_KEY) == "id=42"
    assert cell(0, COL_SIZE) == f"{mk(42).size:,}"
    assert len(cell(0, COL_TIME)) == len("00:00:00.000")
    assert cell(1, COL_OP) == "GAP"
    assert "Notifications sent meanwhile are lost" in cell(1, COL_PAYLOAD)
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert model.index(0, 0).data(EVENT_ROLE).seq == 42
    assert model.index(0, COL_SIZE).data(Qt.ItemDataRole.TextAlignmentRole) is not None


def test_own_rows_are_dimmed_and_ops_coloured(qapp):
    model = EventTableModel()
    model.append_events([mk(1), mk(2, own=True)])
    fg = lambda r, c: model.index(r, c).data(Qt.ItemDataRole.ForegroundRole)  # noqa: E731
    assert fg(0, COL_OP) == model._pal.ops["UPDATE"]
    assert fg(1, COL_OP) == model._pal.own_fg and fg(1, COL_KEY) == model._pal.own_fg
    assert model.index(1, COL_KEY).data(Qt.ItemDataRole.FontRole).italic()


def test_payload_preview_is_one_line(qapp):
    model = EventTableModel()
    model.append_events([Event(1, 0.0, "p", "c", 1, "line one\nline\ttwo " + "x" * 500)])
    text = model.index(0, COL_PAYLOAD).data()
    assert "\n" not in text and "\t" not in text and text.endswith("…")


def test_filter_keeps_visible_rows_as_rows_arrive(qapp):
    model = EventTableModel(capacity=300)
    model.append_events(batch(0, 90))
    sig = Signals(model)
    flt = model.set_filter(FilterSpec(text="shipped"))
    assert flt is not None and flt.active
    assert sig.resets == 1
    assert model.rowCount() == 30 and model.buffered == 90
    assert all("shipped" in model.event(r).payload for r in range(30))
    model.append_events(batch(90, 30))  # 10 more shipped
    assert model.rowCount() == 40
    assert sig.inserts == [(30, 39)]
    model.append_events([mk(500, "new")])  # nothing passes: no insert signal
    assert sig.inserts == [(30, 39)]
    # Eviction: 300 cap; 121 buffered + 240 -> 61 leave (seq 0..60), 20 of them shipped.
    model.append_events(batch(121, 240))
    shipped_left = sum(1 for e in model.all_events() if "shipped" in e.payload)
    assert model.rowCount() == shipped_left
    assert sig.removes == [(0, 19)]
    assert model.event(0).seq == 62  # 61 is gone with the oldest, 62 is the next shipped


def test_filter_change_and_clearing_the_filter(qapp):
    model = EventTableModel()
    model.append_events(batch(0, 30))
    model.set_filter(FilterSpec(ops=frozenset({"DELETE"})))
    assert model.rowCount() == 0
    assert model.set_filter(FilterSpec()) is None
    assert model.rowCount() == 30
    bad = model.set_filter(FilterSpec(text="(", regex=True))
    assert bad is not None and "text" in bad.errors
    assert model.rowCount() == 30  # the bad part is left out


def test_position_lookups_survive_eviction(qapp):
    model = EventTableModel(capacity=10)
    model.append_events(batch(0, 10))
    model.set_filter(FilterSpec(text="paid"))  # seq 1, 4, 7
    pos = model.position(2)
    assert model.event(2).seq == 7 and model.row_of_position(pos) == 2
    model.append_events(batch(10, 6))  # seq 0..5 leave: 1 and 4 with them
    assert model.row_of_position(model.position(0) - 3) is None
    assert model.row_of_position(pos) == 0 and model.event(0).seq == 7


def test_pause_keeps_reading_and_resume_appends_in_one_batch(qapp):
    model = EventTableModel(capacity=100)
    model.append_events(batch(0, 10))
    sig = Signals(model)
    states = []
    model.paused_changed.connect(states.append)
    model.set_paused(True)
    model.append_events(batch(10, 20))
    model.append_events(batch(30, 20))
    assert model.rowCount() == 10 and model.waiting == 40 and sig.inserts == []
    model.set_paused(False)
    assert model.rowCount() == 50 and model.waiting == 0
    assert sig.inserts == [(10, 49)]
    assert states == [True, False]


def test_pause_is_bounded_by_the_ring(qapp):
    model = EventTableModel(capacity=50)
    model.set_paused(True)
    model.append_events(batch(0, 80))
    assert model.waiting == 50 and model.dropped_while_paused == 30
    model.set_paused(False)
    assert model.rowCount() == 50 and model.event(0).seq == 30


def test_clear_and_load_events(qapp):
    model = EventTableModel(capacity=20)
    model.append_events(batch(0, 15))
    model.set_paused(True)
    model.append_events(batch(15, 5))
    over = model.load_events(batch(100, 25))
    assert over == 5 and model.rowCount() == 20 and model.event(0).seq == 105
    assert model.waiting == 5 and model.paused  # live rows still wait
    model.clear()
    assert model.rowCount() == 0 and model.waiting == 0 and model.evicted == 0


def test_set_capacity_keeps_the_newest(qapp):
    model = EventTableModel(capacity=100)
    model.append_events(batch(0, 60))
    model.set_filter(FilterSpec(text="new"))
    model.set_capacity(30)
    assert model.capacity == 30 and model.buffered == 30
    assert model.rowCount() == 10
    assert model.all_events()[0].seq == 30


def test_profile_color_hook(qapp):
    model = EventTableModel()
    model.append_events(batch(0, 3))
    changed = []
    model.dataChanged.connect(lambda a, b, *_: changed.append((a.column(), b.row())))
    model.set_profile_color("Demo", QColor("#2f81f7"))
    assert changed == [(COL_CONNECTION, 2)]
    assert model.profile_color("Demo") == QColor("#2f81f7")
    assert model.index(0, COL_CONNECTION).data(Qt.ItemDataRole.DecorationRole) is not None
    model.set_profile_color("Demo", None)
    assert model.index(0, COL_CONNECTION).data(Qt.ItemDataRole.DecorationRole) is None

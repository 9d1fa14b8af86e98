"""EventTableModel against a plain-list reference, driven by Hypothesis (issue 10).

Any sequence of appends (ring eviction included), pause/resume, clear, capacity and
filter changes must leave the model showing exactly what the reference says, and Qt's
QAbstractItemModelTester must find nothing wrong with the signals it emitted. The
reference filters event by event with `EventFilter.matches`; the model uses `select`
over batches, so the two halves of the filter engine are checked against each other
too (defect 1 was exactly such a disagreement).
"""

from __future__ import annotations

import json

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from PySide6.QtCore import QtMsgType, qInstallMessageHandler
from PySide6.QtTest import QAbstractItemModelTester

from pgwatch_gui.core.filtering.engine import FilterSpec, compile_filter
from pgwatch_gui.core.stream.events import Event, make_gap
from pgwatch_gui.ui.events.model import EventTableModel

SPECS = [
    FilterSpec(),
    FilterSpec(text="shop"),
    FilterSpec(text="shop", fields="op = DELETE"),
    FilterSpec(fields="row.status = shipped"),
    FilterSpec(ops=frozenset({"DELETE"}), hide_own=True),
    FilterSpec(channels=frozenset({"audit"}), text="x"),
    FilterSpec(tables=frozenset({"public.orders"})),
    FilterSpec(text="sh.p", regex=True),
    FilterSpec(fields="row.status = = broken"),  # an error: left out, rows still shown
]


class ModelVsReference(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.model = EventTableModel(capacity=8)
        self.problems: list[str] = []
        self.tester = QAbstractItemModelTester(
            self.model, QAbstractItemModelTester.FailureReportingMode.Warning)
        self.seq = 0
        self.cap = 8
        self.ring: list[Event] = []
        self.pending: list[Event] = []
        self.paused = False
        self.spec = FilterSpec()

    def _event(self, op: str, channel: str, status: str, own: bool, gap: bool) -> Event:
        self.seq += 1
        if gap:
            return make_gap(self.seq, "p", 0.0, 1.0, "test")
        payload = json.dumps({"v": 1, "op": op, "schema": "public", "table": "orders",
                              "key": {"id": self.seq}, "row": {"status": status}})
        return Event(self.seq, float(self.seq), "p", channel, 1, payload, own=own)

    @rule(batch=st.lists(st.tuples(st.sampled_from(["INSERT", "UPDATE", "DELETE"]),
                                   st.sampled_from(["shop", "audit", "x"]),
                                   st.sampled_from(["new", "shipped"]), st.booleans(),
                                   st.integers(0, 12).map(lambda n: n == 0)),
                         min_size=1, max_size=20))
    def append(self, batch):
        events = [self._event(*b) for b in batch]
        self.model.append_events(events)
        if self.paused:
            self.pending = (self.pending + events)[-self.cap:]
        else:
            self.ring = (self.ring + events)[-self.cap:]

    @rule()
    def pause(self):
        self.model.set_paused(True)
        self.paused = True

    @rule()
    def resume(self):
        self.model.set_paused(False)
        if self.paused:
            self.ring = (self.ring + self.pending)[-self.cap:]
            self.pending = []
        self.paused = False

    @rule()
    def clear(self):
        self.model.clear()
        self.ring, self.pending = [], []

    @rule(spec=st.sampled_from(SPECS))
    def set_filter(self, spec):
        self.model.set_filter(spec)
        self.spec = spec

    @rule(cap=st.integers(1, 12))
    def set_capacity(self, cap):
        self.model.set_capacity(cap)
        self.cap = cap
        self.ring = self.ring[-cap:]

    @invariant()
    def shows_what_the_reference_shows(self):
        flt = compile_filter(self.spec)
        visible = [e.seq for e in self.ring if flt.matches(e)]
        rows = [self.model.event(r).seq for r in range(self.model.rowCount())]
        assert rows == visible
        assert self.model.buffered == len(self.ring)
        assert self.model.waiting == len(self.pending)
        assert self.model.paused is self.paused


def test_event_model_against_a_plain_list_reference(qapp):
    problems: list[str] = []

    def handler(kind, context, message):
        if kind in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            problems.append(message)

    previous = qInstallMessageHandler(handler)
    try:
        run_state_machine_as_test(
            ModelVsReference,
            settings=settings(max_examples=200, stateful_step_count=30, deadline=None))
    finally:
        qInstallMessageHandler(previous)
    assert not [p for p in problems if "FAIL" in p or "Tester" in p], problems[:5]

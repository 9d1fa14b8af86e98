"""Issue 12 (performance round 2), the window's side: batches cross the hub without a
copy, a painted row reuses the facets instead of decoding its payload again, and the
visible-row array stays right while the full ring evicts a batch at a time."""

from __future__ import annotations

import json

from pgwatch_gui.core.filtering import facets as facets_mod
from pgwatch_gui.core.filtering.engine import FilterSpec
from pgwatch_gui.core.stream import events as events_mod
from pgwatch_gui.core.stream.events import Event
from pgwatch_gui.ui.common.hub import ConnectionHub
from pgwatch_gui.ui.events.columns import COL_KEY, COL_OP, COL_TABLE, row_values
from pgwatch_gui.ui.events.model import EventTableModel


def mk(i: int, status: str = "new") -> Event:
    payload = json.dumps({"v": 1, "op": "UPDATE", "schema": "public", "table": "orders",
                          "key": {"id": i}, "row": {"id": i, "status": status}})
    return Event(i, 1_700_000_000.0 + i / 1000, "Demo", "orders", 4242, payload)


def test_a_batch_reaches_the_slot_as_the_same_list(qapp):
    hub = ConnectionHub()
    got = []
    hub.events_arrived.connect(got.append)
    batch = [mk(1), mk(2)]
    hub.events_arrived.emit(batch)
    assert got and got[0] is batch  # Signal(list) converted it element by element


def test_a_painted_row_does_not_decode_again(qapp, monkeypatch):
    calls = []
    real = events_mod.decode_payload

    def counting(payload):
        calls.append(payload)
        return real(payload)

    real_peek = facets_mod.peek_payload

    def counting_peek(payload):
        calls.append(payload)
        return real_peek(payload)

    monkeypatch.setattr(events_mod, "decode_payload", counting)
    monkeypatch.setattr(facets_mod, "decode_payload", counting)
    monkeypatch.setattr(facets_mod, "peek_payload", counting_peek)
    model = EventTableModel(capacity=100)
    model.append_events([mk(i) for i in range(10)])
    model.set_filter(FilterSpec(ops=frozenset({"UPDATE"})))  # decodes each row once
    assert len(calls) == 10
    vals = model.row_values(3)
    assert len(calls) == 10  # the facets served the row
    assert vals[:9] == row_values(mk(3))[:9]
    assert (vals[COL_OP], vals[COL_TABLE], vals[COL_KEY]) == ("UPDATE", "public.orders", "id=3")
    assert model.event(3)._decoded is None  # the parsed JSON is not kept per painted row


def test_visible_rows_stay_right_while_the_full_ring_evicts(qapp):
    model = EventTableModel(capacity=1000)
    model.set_filter(FilterSpec(text="shipped"))
    statuses = ("new", "paid", "shipped")
    seq = 0
    for size in (700, 300, 1, 250, 999, 1000, 1500, 3, 77):
        model.append_events([mk(seq + k, statuses[(seq + k) % 3]) for k in range(size)])
        seq += size
        held = model.all_events()
        expected = [ev.seq for ev in held if "shipped" in ev.payload]
        assert [model.event(r).seq for r in range(model.rowCount())] == expected
        assert [ev.seq for ev in model.events()] == expected
        for r in (0, model.rowCount() - 1):
            assert model.row_of_position(model.position(r)) == r


def test_opening_a_picker_decodes_few_rows_at_once(qtbot, tmp_path, qloop, monkeypatch):
    """Opening a picker over 20,000 undecoded rows decoded them all before the menu
    showed (155-226 ms on the loop with 100,000 rows held); now at most
    PICKER_INLINE_ROWS are decoded at once and the rest a slice per loop turn, the
    picker saying so meanwhile and filling in when they are done."""
    import asyncio

    from pgwatch_gui.ui.shell import event_screen as screen_mod
    from tests.ui.windows import shown_window

    w = shown_window(qtbot, tmp_path)
    scr, model = w.event_screen, w.event_model
    n = screen_mod.PICKER_SCAN_ROWS + 5_000
    evs = [Event(i, 1_700_000_000.0, "Demo", "orders", 1, json.dumps(
        {"v": 1, "op": "INSERT", "schema": "public", "table": f"t{i % 5}", "key": {"id": i}}))
        for i in range(n)]
    evs[-1] = Event(n - 1, 1_700_000_000.0, "Demo", "orders", 1, json.dumps(
        {"v": 1, "op": "DELETE", "schema": "s", "table": "rare", "key": {"id": 1}}))
    model.append_events(evs)
    decoded = []
    real = facets_mod.facets_of
    monkeypatch.setattr(facets_mod, "facets_of", lambda ev: decoded.append(1) or real(ev))

    channels, ops, tables = scr.seen_values()
    assert len(decoded) <= screen_mod.PICKER_INLINE_ROWS
    picker = scr.filter_bar.table_picker
    assert picker.busy_note is not None and picker.busy_note.startswith("Reading the newest")
    picker._fill()
    texts = [a.text() for a in picker.menu().actions()]
    assert texts[-1] == picker.busy_note  # the open menu says it is still reading

    async def until_done():
        while scr._facet_scan is not None:
            await asyncio.sleep(0.005)

    qloop.run_until_complete(asyncio.wait_for(until_done(), 30))
    assert len(decoded) == screen_mod.PICKER_SCAN_ROWS  # each of the newest rows once
    assert picker.busy_note is None
    channels, ops, tables = scr.seen_values()
    assert len(decoded) == screen_mod.PICKER_SCAN_ROWS  # nothing decoded again
    assert ops == {"INSERT", "DELETE"} and "s.rare" in tables and "public.t3" in tables
    assert channels == {"orders"}
    qloop.run_until_complete(w.shutdown())

"""The payload inspector on each payload shape: plain text always, never rich text."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from pgwatch_gui.core.stream.events import Event, make_gap
from pgwatch_gui.ui.inspector.dock import TAB_DIFF, TAB_JSON, TAB_RAW, TAB_TREE, Inspector


def ev(payload, channel="orders", own=False) -> Event:
    if not isinstance(payload, str):
        payload = json.dumps(payload)
    return Event(7, 1_700_000_000.25, "Demo", channel, 4242, payload, own=own)


@pytest.fixture
def insp(qtbot):
    w = Inspector()
    qtbot.addWidget(w)
    w.resize(460, 640)
    w.show()
    return w


def tabs(w: Inspector) -> dict[int, bool]:
    return {i: w.tabs.isTabEnabled(i) for i in (TAB_JSON, TAB_TREE, TAB_DIFF, TAB_RAW)}


def test_all_labels_are_plain_text(insp):
    insp.show_event(ev("<b>bold</b> <img src=x>"))
    for lab in insp.findChildren(QLabel):
        assert lab.textFormat() == Qt.TextFormat.PlainText, lab.text()
    assert insp.raw.toPlainText() == "<b>bold</b> <img src=x>"


def test_envelope_update_with_diff(insp):
    payload = {"v": 1, "op": "UPDATE", "schema": "public", "table": "orders",
               "key": {"id": 42}, "row": {"id": 42, "status": "shipped", "total": 1.50},
               "old": {"id": 42, "status": "paid", "total": 1.50}, "txid": 9}
    insp.show_event(ev(json.dumps(payload).replace("1.5", "1.50")))
    assert insp.title.text() == "UPDATE public.orders"
    assert insp.meta["shape"].text() == "pgwatch envelope v1"
    assert insp.meta["key"].text() == "id=42"
    assert "left under the 8,000-byte limit" in insp.meta["size"].text()
    assert all(tabs(insp).values())
    assert '"total": 1.50' in insp.json_view.toPlainText()  # the number as sent
    insp.show_diff_tab()
    tree = insp.diff.tree
    rows = {tree.topLevelItem(i).text(1): (tree.topLevelItem(i).text(0),
                                           tree.topLevelItem(i).text(2),
                                           tree.topLevelItem(i).text(3))
            for i in range(tree.topLevelItemCount())}
    assert rows["status"] == ("●", "paid", "shipped")
    assert rows["id"][0] == "" and rows["total"] == ("", "1.50", "1.50")
    assert "1 of 3 columns changed" in insp.diff.summary.text()


def test_seed_shape_operation_record_id(insp):
    insp.show_event(ev({"operation": "DELETE", "record_id": 123}, channel="article_changes"))
    assert insp.title.text() == "DELETE"
    assert insp.meta["shape"].text() == "change message"
    assert insp.meta["key"].text() == "id=123"
    assert tabs(insp) == {TAB_JSON: True, TAB_TREE: True, TAB_DIFF: False, TAB_RAW: True}


def test_seed_shape_bare_row(insp):
    insp.show_event(ev({"id": 5, "name": "widget", "tags": ["a", "b"]}))
    assert insp.meta["shape"].text() == "row (row_to_json)"
    insp.tabs.setCurrentIndex(TAB_TREE)
    tree = insp.tree
    keys = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    assert keys == ["id", "name", "tags"]
    tags = tree.topLevelItem(2)
    assert tags.childCount() == 2 and tags.text(2) == "array (2)"
    assert insp.tree.path_of(tags.child(1)) == ("tags", 1)


def test_seed_shape_table_operation_data(insp):
    insp.show_event(ev({"table": "notification", "operation": "INSERT",
                        "data": {"id": 1, "message": "hi"}}))
    assert insp.title.text() == "INSERT notification"
    assert not tabs(insp)[TAB_DIFF]


def test_data_old_new_shape_has_a_diff(insp):
    insp.show_event(ev({"table": "users", "operation": "UPDATE",
                        "data": {"old": {"id": 1, "email": "a@x"},
                                 "new": {"id": 1, "email": "b@x"}}}))
    assert tabs(insp)[TAB_DIFF]
    insp.show_diff_tab()
    assert "from data.old/new" in insp.diff.summary.text()


def test_non_json_shows_raw_with_a_note(insp):
    insp.tabs.setCurrentIndex(TAB_JSON)
    insp.show_event(ev("hello {not json"))
    assert insp.note.isVisible() and "Not JSON" in insp.note.text()
    assert tabs(insp) == {TAB_JSON: False, TAB_TREE: False, TAB_DIFF: False, TAB_RAW: True}
    assert insp.tabs.currentIndex() == TAB_RAW
    assert insp.raw.toPlainText() == "hello {not json"


def test_empty_payload(insp):
    insp.show_event(ev(""))
    assert "Empty payload" in insp.note.text()
    assert insp.meta["size"].text().startswith("0 bytes · 7,999 left")
    assert insp.tabs.currentIndex() == TAB_RAW


def test_payload_of_7999_bytes(insp):
    body = json.dumps({"v": 1, "op": "INSERT", "table": "t", "key": {"id": 1},
                       "row": {"blob": ""}})
    pad = 7999 - len(body.encode())
    payload = body.replace('"blob": ""', '"blob": "' + "é" * (pad // 2) + "x" * (pad % 2) + '"')
    assert len(payload.encode()) == 7999
    insp.show_event(ev(payload))
    assert insp.meta["size"].text() == "7,999 bytes · 0 left under the 8,000-byte limit"
    assert insp.limit_bar.value() == 7999
    insp.tabs.setCurrentIndex(TAB_TREE)
    assert insp.tree.topLevelItemCount() > 0


def test_truncated_envelope_note(insp):
    insp.show_event(ev({"v": 1, "op": "UPDATE", "table": "t", "key": {"id": 1},
                        "truncated": True}))
    assert "keys only" in insp.note.text()


def test_json_scalars_and_gap(insp):
    insp.show_event(ev("[1, 2, 3]"))
    assert insp.meta["shape"].text() == "JSON value"
    assert insp.json_view.toPlainText() == "[1, 2, 3]"
    insp.show_event(ev("null"))
    assert insp.json_view.toPlainText() == "null"
    insp.show_event(make_gap(9, "Demo", 1.0, 4.0, "server closed the connection"))
    assert insp.title.text().startswith("Gap")
    assert "lost" in insp.note.text()
    insp.show_event(None)
    assert insp.empty.isVisible() and not insp.body.isVisible()


def test_own_notification_says_so(insp):
    insp.show_event(ev("{}", own=True))
    assert "sent from this window" in insp.meta["pid"].text()


def test_tree_filter_request_uses_filter_syntax(insp, qtbot):
    insp.show_event(ev({"v": 1, "op": "UPDATE", "table": "t", "key": {"id": 1},
                        "row": {"status": "shipped", "city": "New York"}}))
    insp.tabs.setCurrentIndex(TAB_TREE)
    got = []
    insp.filter_requested.connect(lambda kind, value: got.append((kind, value)))
    insp.tree.filter_requested.emit("row.status = shipped")
    assert got == [("field", "row.status = shipped")]
    from pgwatch_gui.ui.inspector.tree import _filter_literal

    assert _filter_literal("New York") == '"New York"'
    assert _filter_literal(42) == "42"

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


# ---- issue 11: what a new user hit -------------------------------------------------------

LONG_ROW = {"id": 42, "status": "shipped",
            "created_at": "2026-11-30T21:26:18.602339+00:00",
            "updated_at": "2026-11-30T21:27:01.100001+00:00",
            "billing": {"shipping_address_line_two_for_the_courier": {"building_name": "A"}}}


def test_tree_value_column_is_never_a_sliver(insp, qtbot):
    """A long key name in a nested object made Key ~260 px and left Value ~25 px."""
    insp.resize(380, 600)
    insp.show_event(ev({"v": 1, "op": "UPDATE", "table": "t", "key": {"id": 42},
                        "row": LONG_ROW}))
    insp.tabs.setCurrentIndex(TAB_TREE)
    insp.tree.expandAll()
    qtbot.wait(10)
    tree = insp.tree
    width = tree.viewport().width()
    assert tree.columnWidth(1) >= 0.4 * width, [tree.columnWidth(i) for i in range(3)]
    insp.resize(900, 600)  # wider: the value column grows with it
    qtbot.wait(10)
    assert tree.columnWidth(1) >= 0.5 * tree.viewport().width()


def test_diff_shows_whole_timestamps(insp, qtbot):
    old = dict(LONG_ROW, status="paid", updated_at="2026-11-30T21:26:18.602339+00:00")
    insp.show_event(ev({"v": 1, "op": "UPDATE", "schema": "shop", "table": "orders",
                        "key": {"id": 42}, "row": LONG_ROW, "old": old}))
    insp.show_diff_tab()
    qtbot.wait(20)
    tree = insp.diff.tree
    item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).text(1) == "updated_at")
    fm = tree.fontMetrics()
    for col in (2, 3):  # wide enough for the whole value, or rows tall enough to wrap it
        need = fm.horizontalAdvance(item.text(col)) + 8
        lines = -(-need // tree.columnWidth(col))
        assert tree.visualItemRect(item).height() >= lines * fm.height(), \
            (col, tree.columnWidth(col), need, tree.visualItemRect(item).height())


@pytest.mark.parametrize(("changed", "text"), [(["status"], "1 changed column "),
                                                (["status", "total"], "2 changed columns ")])
def test_diff_summary_counts_in_good_english(insp, changed, text):
    row = {"id": 1, "status": "shipped", "total": 2}
    old = {k: (f"old {v}" if k in changed else v) for k, v in row.items()}
    insp.show_event(ev({"v": 1, "op": "UPDATE", "table": "t", "key": {"id": 1},
                        "row": {k: row[k] for k in changed},
                        "old": {k: old[k] for k in changed}, "mode": "diff",
                        "changed": changed}))
    insp.show_diff_tab()
    summary = insp.diff.summary.text()
    assert text in summary + " ", summary
    one = {"id": 1}
    insp.show_event(ev({"v": 1, "op": "UPDATE", "table": "t", "key": one,
                        "row": {"a": 2}, "old": {"a": 1}}))
    insp.show_diff_tab()
    assert "1 of 1 column changed" in insp.diff.summary.text()


def test_counts_say_one_byte_not_one_bytes(insp):
    """Siblings of '1 changed columns': the size line, the table's tooltip, the rows."""
    from pgwatch_gui.ui.common.wording import counted

    insp.show_event(ev("1"))
    assert insp.meta["size"].text().startswith("1 byte ·")
    assert counted(1, "row") == "1 row" and counted(2_000, "row") == "2,000 rows"

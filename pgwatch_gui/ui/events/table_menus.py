"""The event table's two menus: the header's (show/hide columns) and a row's
(copy, filter to its channel, table, operation or key).

`view` is an EventTableView (not imported here: the table imports this module)."""

from __future__ import annotations

import json

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu, QTableView

from pgwatch_gui.core.filtering.fields import field_path
from pgwatch_gui.core.stream.jsonl import event_to_json
from pgwatch_gui.ui.events.columns import COL_PAYLOAD


def show_header_menu(view: QTableView, pos) -> None:
    """Show or hide columns (kept with the column widths); the payload stays."""
    hh = view.horizontalHeader()
    model = view.model()
    menu = QMenu(view)
    for visual in range(hh.count()):
        col = hh.logicalIndex(visual)
        if col == COL_PAYLOAD:
            continue
        act = menu.addAction(str(model.headerData(col, Qt.Orientation.Horizontal)))
        act.setCheckable(True)
        act.setChecked(not hh.isSectionHidden(col))
        act.toggled.connect(lambda on, c=col: view.set_column_visible(c, on))
    menu.addSeparator()
    menu.addAction("Reset column widths", view.reset_column_widths)
    menu.exec(hh.mapToGlobal(pos))


def show_row_menu(view: QTableView, pos) -> None:
    idx = view.indexAt(pos)
    if not idx.isValid():
        return
    if not view.selectionModel().isRowSelected(idx.row(), QModelIndex()):
        view.selectRow(idx.row())
    ev = view.model().event(idx.row())
    menu = QMenu(view)
    n = len(view.selected_rows())
    menu.addAction("Copy payload" if n == 1 else f"Copy {n} payloads", view.copy_payloads)
    menu.addAction("Copy as JSON Lines", lambda: copy_records(view))
    if not ev.is_gap:
        cell = view.model().data(idx)
        if cell not in (None, ""):
            menu.addAction("Copy cell", lambda: QGuiApplication.clipboard().setText(
                str(cell)))
        menu.addSeparator()
        menu.addAction(f"Filter to channel “{_short(ev.channel)}”",
                       lambda: view.filter_requested.emit("channel", ev.channel))
        if ev.qualified_table:
            table = ev.qualified_table
            menu.addAction(f"Filter to table “{_short(table)}”",
                           lambda: view.filter_requested.emit("table", table))
        if ev.op:
            op = ev.op
            menu.addAction(f"Filter to {op}",
                           lambda: view.filter_requested.emit("op", op))
        cond = key_condition(ev.key) if ev.key else None
        if cond:
            menu.addAction(f"Filter to this key ({_short(cond, 40)})",
                           lambda: view.filter_requested.emit("field", cond))
    for hook in view.row_menu_hooks:  # other features' entries: hook(menu, event)
        hook(menu, ev)
    menu.addSeparator()
    menu.addAction("Export selection…", view.export_selection_requested.emit)
    menu.exec(view.viewport().mapToGlobal(pos))


def copy_records(view: QTableView) -> None:
    events = view.selected_events()
    if events:
        QGuiApplication.clipboard().setText("\n".join(event_to_json(e) for e in events))


def _short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def key_condition(key: dict) -> str | None:
    """{"Item ID": 7} -> 'key."Item ID" = 7': a field condition for a row's key (None
    for a key the field language cannot name: an empty column name)."""
    if any(str(k) == "" for k in key):
        return None
    return " and ".join(f"{field_path(('key', k))} = {_quote(v)}" for k, v in key.items())


def _quote(v) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    s = str(v)
    if s and all(c.isalnum() or c in "_-.:@" for c in s):
        return s
    return json.dumps(s, ensure_ascii=False)

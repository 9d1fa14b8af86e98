"""The payload as an expandable tree, with copy of a value or its path."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTreeWidget, QTreeWidgetItem

from pgwatch_gui.core.filtering.fields import field_path
from pgwatch_gui.core.stream.payload_view import compact, path_text, scalar_text
from pgwatch_gui.ui.common.json_view import monospace_font

_PATH = int(Qt.ItemDataRole.UserRole) + 1
_VALUE = int(Qt.ItemDataRole.UserRole) + 2
MAX_NODES = 5000
KEY_MAX = 260  # px: the Key column never takes more than this...
KEY_SHARE = 0.35  # ...nor more than this share of the width: the value is what one reads
TYPE_MAX = 110


def type_name(v: Any) -> str:
    if isinstance(v, dict):
        return f"object ({len(v)})"
    if isinstance(v, list):
        return f"array ({len(v)})"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "boolean"
    if v is None:
        return "null"
    if isinstance(v, (int, float, Decimal)):
        return "number"
    return type(v).__name__


def _filter_literal(v: Any) -> str:
    text = scalar_text(v)
    if isinstance(v, str) and not (text and all(c.isalnum() or c in "_-.:@" for c in text)):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def filter_condition(path: tuple, v: Any) -> str | None:
    """`row."Item ID" = 7` for a value at `path`, in the field language; None where no
    condition can say it (an object or array, the payload itself, an empty key)."""
    if not path or isinstance(v, (dict, list)) or any(p == "" for p in path):
        return None
    return f"{field_path(path)} = {_filter_literal(v)}"


class JsonTree(QTreeWidget):
    """filter_requested(condition) asks the filter bar for e.g. `row.status = shipped`."""

    filter_requested = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._vals: list[Any] = []
        self.setColumnCount(3)
        self.setHeaderLabels(["Key", "Value", "Type"])
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.setFont(monospace_font())
        h = self.header()
        h.setStretchLastSection(False)
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        self.setColumnWidth(0, 180)
        self._count = 0
        self._key_want = 180

    def fit_columns(self) -> None:
        """Key and Type as wide as their contents, within limits; Value takes the rest
        (a long key name or a deep path must not squeeze the values to a sliver)."""
        width = self.viewport().width()
        self.setColumnWidth(2, min(TYPE_MAX, max(60, self.sizeHintForColumn(2))))
        self.setColumnWidth(0, max(80, min(self._key_want, KEY_MAX, int(width * KEY_SHARE))))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def set_value(self, value: Any) -> None:
        self.setUpdatesEnabled(False)
        try:
            self.clear()
            self._count = 0
            root = self.invisibleRootItem()
            if isinstance(value, (dict, list)):
                self._add_children(root, value, ())
            else:
                self._add(root, "(value)", value, ())
            self.expandToDepth(1)
            self._key_want = self.sizeHintForColumn(0)
            self.fit_columns()
        finally:
            self.setUpdatesEnabled(True)

    def _add_children(self, parent: QTreeWidgetItem, value: Any, path: tuple) -> None:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            if self._count >= MAX_NODES:
                more = QTreeWidgetItem(parent, ["…", "(more not shown)", ""])
                more.setDisabled(True)
                return
            self._add(parent, str(k) if isinstance(value, dict) else f"[{k}]", v, (*path, k))

    def _add(self, parent: QTreeWidgetItem, label: str, v: Any, path: tuple) -> None:
        self._count += 1
        shown = compact(v) if isinstance(v, (dict, list)) else scalar_text(v)
        if len(shown) > 300:
            shown = shown[:299] + "…"
        item = QTreeWidgetItem(parent, [label, shown, type_name(v)])
        item.setData(0, _PATH, path)
        item.setData(0, _VALUE, len(self._vals))
        self._vals.append(v)
        item.setToolTip(0, path_text(path))
        if v is None:
            f = item.font(1)
            f.setItalic(True)
            item.setFont(1, f)
        if isinstance(v, (dict, list)) and v:
            self._add_children(item, v, path)

    def clear(self) -> None:
        super().clear()
        self._vals = []

    def value_of(self, item: QTreeWidgetItem) -> Any:
        i = item.data(0, _VALUE)
        return self._vals[i] if isinstance(i, int) and 0 <= i < len(self._vals) else None

    def path_of(self, item: QTreeWidgetItem) -> tuple:
        return tuple(item.data(0, _PATH) or ())

    def _menu(self, pos) -> None:
        item = self.itemAt(pos)
        if item is None or item.isDisabled():
            return
        v = self.value_of(item)
        path = self.path_of(item)
        clip = QGuiApplication.clipboard()
        m = QMenu(self)
        m.addAction("Copy value", lambda: clip.setText(
            compact(v) if isinstance(v, (dict, list)) else scalar_text(v)))
        m.addAction("Copy path", lambda: clip.setText(path_text(path)))
        if path:
            m.addAction("Copy key", lambda: clip.setText(str(path[-1])))
        cond = filter_condition(path, v)
        if cond is not None:
            short = cond if len(cond) <= 48 else cond[:47] + "…"
            m.addSeparator()
            m.addAction(f"Filter rows where {short}", lambda: self.filter_requested.emit(cond))
        m.exec(self.viewport().mapToGlobal(pos))

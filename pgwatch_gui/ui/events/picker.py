"""A filter picker: a drop-down of checkable values (channels, operations, tables).

Part of the filter bar (filter_bar.py), in a module of its own.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QMenu, QSizePolicy, QToolButton

# Room for a picked value (as wide as this sample): the button keeps one width whatever
# it says (it moved the controls after it under the mouse); a longer value is cut, whole
# in its tip.
PICKED_ROOM = {"Channel": "n" * 9, "Op": "TRUNCATE", "Table": "n" * 11}


class Picker(QToolButton):
    """A drop-down of checkable values; none checked means 'any'. One width, whatever
    it says (the bold of a picked value included): the controls after it never move."""

    changed = Signal()

    def __init__(self, label: str, plural: str, parent=None) -> None:
        super().__init__(parent)
        self._label = label
        self._plural = plural
        self._selected: set[str] = set()
        self._values: Callable[[], set[str]] = set
        self.busy_note: str | None = None  # shown last while values are still being read
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self._menu = QMenu(self)
        self._menu.aboutToShow.connect(self._fill)
        self.setMenu(self._menu)
        self._sample = PICKED_ROOM.get(label, "n" * 12)
        self._room = 0
        self.refit()

    def _bold_metrics(self) -> QFontMetrics:
        bold = QFont(self.font())
        bold.setBold(True)
        return QFontMetrics(bold)

    def refit(self) -> None:
        """Fix the width to what the widest text needs, measured as a picked value is
        drawn (bold, with the style sheet in force: call again once it is set)."""
        fm = self._bold_metrics()
        widest = max(f"{self._label}: {self._sample}", f"{self._plural}: 99",
                     key=fm.horizontalAdvance)
        self._room = fm.horizontalAdvance(widest)
        self.setMinimumWidth(0)
        self.setMaximumWidth(16777215)
        self.setProperty("active", True)
        self.style().unpolish(self)
        self.style().polish(self)
        self.setText(widest + " ")
        extra = max(0, self._room - self.fontMetrics().horizontalAdvance(widest))
        self.setFixedWidth(self.sizeHint().width() + extra)
        self._update_text()

    def set_values_source(self, source: Callable[[], set[str]]) -> None:
        self._values = source

    @property
    def selected(self) -> frozenset[str]:
        return frozenset(self._selected)

    def set_selected(self, values) -> None:
        self._selected = set(values)
        self._update_text()
        self.changed.emit()

    def _fill(self) -> None:
        m = self._menu
        m.clear()
        values = sorted(set(self._values()) | self._selected, key=str.lower)
        any_act = m.addAction(f"Any {self._label.lower()}")
        any_act.setCheckable(True)
        any_act.setChecked(not self._selected)
        any_act.triggered.connect(lambda: self.set_selected(()))
        m.addSeparator()
        if not values and self.busy_note is None:
            none = m.addAction("(none seen yet)")
            none.setEnabled(False)
        for v in values:
            act = m.addAction(v)
            act.setCheckable(True)
            act.setChecked(v in self._selected)
            act.toggled.connect(lambda on, v=v: self._toggle(v, on))
        if self.busy_note is not None:
            m.addSeparator()
            m.addAction(self.busy_note).setEnabled(False)

    def set_busy_note(self, note: str | None) -> None:
        self.busy_note = note
        if self._menu.isVisible():
            self._fill()

    def _toggle(self, value: str, on: bool) -> None:
        if on:
            self._selected.add(value)
        else:
            self._selected.discard(value)
        self._update_text()
        self.changed.emit()

    def _update_text(self) -> None:
        sel = self._selected
        if not sel:
            text = f"{self._label}: any"  # says what it does, and fills its fixed width
        elif len(sel) == 1:
            fm = self._bold_metrics()
            head, value = f"{self._label}: ", next(iter(sel))
            if fm.horizontalAdvance(head + value) > self._room:
                value = fm.elidedText(value, Qt.TextElideMode.ElideRight,
                                      self._room - fm.horizontalAdvance(head))
            text = head + value
        else:
            text = f"{self._plural}: {len(sel)}"
        self.setText(text + " ")
        self.setProperty("active", bool(sel))
        self.setToolTip(", ".join(sorted(sel)) if sel else f"Show every {self._label.lower()}")
        self.style().unpolish(self)
        self.style().polish(self)

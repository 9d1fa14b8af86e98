"""FilterBar: the row above the event table that says which rows show.

Free text (with regex and match-case toggles), channel / operation / table pickers,
a field condition on the decoded JSON (`key.id = 42`, `row.status = shipped`), and
"hide own". It only builds a FilterSpec (emitted as `spec_changed`, debounced while
typing); the model applies it. Errors come back through `show_errors` and show inline.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QKeyCombination, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.filtering.engine import FilterSpec
from pgwatch_gui.ui.events.picker import Picker

DEBOUNCE_MS = 150
PASS_TO_WINDOW = frozenset({QKeyCombination(Qt.KeyboardModifier.ControlModifier,
                                             Qt.Key.Key_End)})  # follow newest
FIELD_HELP = (
    "Conditions on the decoded JSON payload, for example:\n"
    "  key.id = 42\n"
    "  row.status = shipped and row.total > 100\n"
    "  op = DELETE or old.status != new\n"
    "  row.email ~ @example\\.com$      (regular expression, any case)\n"
    "  row.note                         (present and not null)\n"
    "  key.\"Item ID\" = 7                (a name with spaces or dots: double quotes)\n"
    "Operators: = != > >= < <= ~ !~ ; join with 'and' / 'or' (and binds first).\n"
    "Paths: key.* works for every payload shape; row.* is the new row (the bare row for\n"
    "row_to_json payloads, data/record/new for hand-written ones); op, table, schema,\n"
    "channel, pid, size; quote values with spaces: row.city = \"New York\"."
)

ValuesProvider = Callable[[], tuple[set[str], set[str], set[str]]]


class FilterBar(QWidget):
    spec_changed = Signal(object)  # FilterSpec

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("filter-bar")
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS,
                             timeout=self.apply_now)
        self._last: FilterSpec | None = None

        self.text = QLineEdit(self)
        self.text.setObjectName("filter-text")
        self.text.setPlaceholderText("Filter text in channel, table, key, payload  (Ctrl+F)")
        self.text.setClearButtonEnabled(True)
        self.text.textChanged.connect(self._schedule)
        self.text.returnPressed.connect(self.apply_now)

        self.regex = self._toggle(".*", "Regular expression")
        self.case = self._toggle("Aa", "Match case")

        self.channel_picker = Picker("Channel", "Channels", self)
        self.op_picker = Picker("Op", "Ops", self)
        self.table_picker = Picker("Table", "Tables", self)
        for p in (self.channel_picker, self.op_picker, self.table_picker):
            p.changed.connect(self.apply_now)
            p.changed.connect(self._fit_rows)

        self.fields = QLineEdit(self)
        self.fields.setObjectName("filter-fields")
        self.fields.setPlaceholderText("Field: row.status = shipped")
        self.fields.setClearButtonEnabled(True)
        self.fields.setToolTip(FIELD_HELP)
        self.fields.textChanged.connect(self._schedule)
        self.fields.returnPressed.connect(self.apply_now)
        for edit in (self.text, self.fields):  # a picked value never squeezes the hint
            edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance(edit.placeholderText())
                                 + 40)
            edit.installEventFilter(self)

        self.hide_own = self._toggle("Hide own", "Hide notifications sent from this window")
        self.hide_own.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.reset_button = QToolButton(self)
        self.reset_button.setText("Reset")
        self.reset_button.setToolTip("Clear every filter")
        self.reset_button.setAutoRaise(True)
        self.reset_button.clicked.connect(self.reset)
        for b in (self.hide_own, self.reset_button, self.regex, self.case):
            b.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

        self.error = QLabel(self)
        self.error.setObjectName("filter-error")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #cf222e;")
        self.error.hide()

        # One row when there is room, two when the window is narrow, three (the pickers on
        # a row of their own: they keep one width each) when it is narrower still.
        self._rows = [QHBoxLayout() for _ in range(3)]
        for r in self._rows:
            r.setContentsMargins(0, 0, 0, 0)
            r.setSpacing(4)
        self._first = [(self.text, 3), (self.regex, 0), (self.case, 0)]
        self._pickers = [(self.channel_picker, 0), (self.op_picker, 0), (self.table_picker, 0)]
        self._rest = [(self.fields, 2), (self.hide_own, 0), (self.reset_button, 0)]
        self._second = self._pickers + self._rest
        self.rows_used = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 2)
        lay.setSpacing(3)
        for r in self._rows:
            lay.addLayout(r)
        self._arrange(1)
        lay.addWidget(self.error)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setStyleSheet(
            "QToolButton[active=\"true\"] { font-weight: bold; }"
            "QLineEdit[invalid=\"true\"] { border: 1px solid #cf222e; border-radius: 3px; }"
        )
        for p in (self.channel_picker, self.op_picker, self.table_picker):
            p.refit()  # measured with the style sheet (bold, its padding) in force
        # As narrow as three rows allow, whatever the rows are now: the window may shrink,
        # and the bar then re-arranges (resizeEvent).
        self.setMinimumWidth(max(self._need(g) for g in (self._first, self._pickers,
                                                         self._rest)))

        self.focus_action = QAction("Find / filter", self, shortcut=QKeySequence.StandardKey.Find,
                                    triggered=self.focus_text)
        self.focus_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

    def _toggle(self, text: str, tip: str) -> QToolButton:
        b = QToolButton(self)
        b.setText(text)
        b.setToolTip(tip)
        b.setCheckable(True)
        b.setAutoRaise(True)
        b.setMinimumSize(QSize(26, 0))
        b.toggled.connect(self.apply_now)
        return b

    # ---- values for the pickers ----------------------------------------------------------

    def set_values_provider(self, provider: ValuesProvider) -> None:
        """provider() -> (channels, ops, tables) seen; asked when a picker opens."""
        self.channel_picker.set_values_source(lambda: provider()[0])
        self.op_picker.set_values_source(lambda: provider()[1])  # only what was seen
        self.table_picker.set_values_source(lambda: provider()[2])

    def set_pickers_busy(self, note: str | None) -> None:
        """While values are being read, an open picker says `note`; None refills it."""
        for p in (self.channel_picker, self.op_picker, self.table_picker):
            p.set_busy_note(note)

    # ---- the spec ---------------------------------------------------------------------

    def spec(self) -> FilterSpec:
        return FilterSpec(
            text=self.text.text(),
            regex=self.regex.isChecked(),
            case_sensitive=self.case.isChecked(),
            channels=self.channel_picker.selected,
            ops=self.op_picker.selected,
            tables=self.table_picker.selected,
            fields=self.fields.text(),
            hide_own=self.hide_own.isChecked(),
        )

    def _schedule(self) -> None:
        self._timer.start()

    def apply_now(self) -> None:
        self._timer.stop()
        spec = self.spec()
        if spec != self._last:
            self._last = spec
            self.spec_changed.emit(spec)

    def show_errors(self, errors: dict[str, str]) -> None:
        for key, edit in (("text", self.text), ("fields", self.fields)):
            bad = key in errors
            if bool(edit.property("invalid")) != bad:
                edit.setProperty("invalid", bad)
                edit.style().unpolish(edit)
                edit.style().polish(edit)
            edit.setToolTip(errors[key] if bad else (FIELD_HELP if edit is self.fields else ""))
        if errors:
            parts = []
            if "text" in errors:
                parts.append(f"Text: {errors['text']} (the text filter is off until fixed)")
            if "fields" in errors:
                parts.append(f"Field: {errors['fields']} (the field filter is off until fixed)")
            self.error.setText("  ·  ".join(parts))
            self.error.show()
        else:
            self.error.hide()

    # ---- gestures ---------------------------------------------------------------------

    def set_text(self, text: str, regex: bool | None = None) -> None:
        if regex is not None:
            self.regex.blockSignals(True)
            self.regex.setChecked(regex)
            self.regex.blockSignals(False)
        self.text.setText(text)

    def set_fields(self, text: str) -> None:
        self.fields.setText(text)
        self.apply_now()

    def restrict(self, kind: str, value: str) -> None:
        """'Filter to this channel/table/op' from a row; 'field' sets the field filter."""
        self.show()
        if kind == "channel":
            self.channel_picker.set_selected({value})
        elif kind == "table":
            self.table_picker.set_selected({value})
        elif kind == "op":
            self.op_picker.set_selected({value})
        elif kind == "field":
            self.set_fields(value)

    def focus_text(self) -> None:
        self.show()
        self.text.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.text.selectAll()

    def reset(self) -> None:
        for w in (self.regex, self.case, self.hide_own):
            w.blockSignals(True)
            w.setChecked(False)
            w.blockSignals(False)
        for p in (self.channel_picker, self.op_picker, self.table_picker):
            p.blockSignals(True)
            p.set_selected(())
            p.blockSignals(False)
        self.text.blockSignals(True)
        self.text.clear()
        self.text.blockSignals(False)
        self.fields.blockSignals(True)
        self.fields.clear()
        self.fields.blockSignals(False)
        self.apply_now()

    @property
    def _two_rows(self) -> bool:
        return self.rows_used >= 2

    def _need(self, items) -> int:
        """The width `items` need on one row, the text fields at their minimum."""
        need = sum(w.minimumWidth() if isinstance(w, (QLineEdit, Picker))
                   else w.sizeHint().width() for w, _ in items)
        margins = self.layout().contentsMargins()
        return need + self._rows[0].spacing() * (len(items) - 1) + margins.left() \
            + margins.right()

    def one_row_width(self) -> int:
        return self._need(self._first + self._second)

    def _arrange(self, rows: int) -> None:
        if rows == self.rows_used:
            return
        self.rows_used = rows
        groups = {1: [self._first + self._second], 2: [self._first, self._second],
                  3: [self._first, self._pickers, self._rest]}[rows]
        for r in self._rows:
            while r.count():
                r.takeAt(0)
        for r, items in zip(self._rows, groups, strict=False):
            for w, stretch in items:
                r.addWidget(w, stretch)
            if items is self._pickers:
                r.addStretch(1)

    def _fit_rows(self) -> None:
        width = self.width()
        self._arrange(1 if width >= self.one_row_width()
                      else 2 if width >= self._need(self._second) else 3)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_rows()

    def eventFilter(self, obj, event) -> bool:
        # A line edit takes Ctrl+End for itself (cursor to the end), so the window's
        # "Follow newest" (Ctrl+End) did nothing while typing a filter: let it through.
        if event.type() == QEvent.Type.ShortcutOverride and \
                event.keyCombination() in PASS_TO_WINDOW:
            return True  # not accepted: the window's shortcut runs
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text.hasFocus() and self.text.text():
            self.text.clear()
            self.apply_now()
            return
        super().keyPressEvent(event)

"""The options of a notify trigger as a form: events, channel, payload, columns, WHEN.

Pure widgets over core.trigger_spec: `spec_for(table)` turns the form into a
TriggerSpec for one of the tables it was opened for, and the example payload is
built from the first table's real columns.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.triggers.catalog import TableInfo
from pgwatch_gui.core.triggers.example import example_text
from pgwatch_gui.core.triggers.spec import (
    DEFAULT_CHANNEL,
    EVENTS,
    PAYLOAD_MODES,
    SpecError,
    TriggerSpec,
    check_spec,
    suggest_channel,
)
from pgwatch_gui.core.triggers.when import when_problem

VISIBILITY_WARNING = (
    "Notification payloads are visible to every role that can connect and LISTEN on the "
    "channel. Exclude secrets (password hashes, tokens) and large blobs.")
MODE_HELP = {
    "keys": "operation and key only (smallest, cheapest)",
    "row": "the new row, and the old one for UPDATE and DELETE",
    "diff": "UPDATE sends only the changed columns, old and new",
}


def _checklist(names: Sequence[str], checked: Sequence[str] = ()) -> QListWidget:
    lw = QListWidget()
    for n in names:
        it = QListWidgetItem(n)
        it.setFlags(it.flags() | Qt.ItemIsUserCheckable)
        it.setCheckState(Qt.Checked if n in checked else Qt.Unchecked)
        lw.addItem(it)
    lw.setMaximumHeight(110)
    return lw


def _checked(lw: QListWidget) -> tuple[str, ...]:
    return tuple(lw.item(i).text() for i in range(lw.count())
                 if lw.item(i).checkState() == Qt.Checked)


class TriggerForm(QWidget):
    changed = Signal()
    check_when_requested = Signal()

    def __init__(self, tables: Sequence[TableInfo], spec: TriggerSpec | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if not tables:
            raise ValueError("a trigger form needs at least one table")
        self.tables = list(tables)
        if spec is None:  # a new trigger: a channel named after its table
            channel = suggest_channel(tables[0].name) if len(tables) == 1 else DEFAULT_CHANNEL
            spec = TriggerSpec(tables[0].schema, tables[0].name, channel=channel)
        seen: dict[str, None] = {}
        for t in self.tables:
            for c in t.column_names:
                seen.setdefault(c, None)
        self.columns = list(seen)
        mono = QFontDatabase.systemFont(QFontDatabase.FixedFont)

        # events
        ev_box = QGroupBox("Events")
        ev_lay = QHBoxLayout(ev_box)
        self.event_boxes: dict[str, QCheckBox] = {}
        for e in EVENTS:
            cb = QCheckBox(e)
            cb.setChecked(e in spec.events)
            cb.toggled.connect(self._sync)
            self.event_boxes[e] = cb
            ev_lay.addWidget(cb)
        ev_lay.addStretch(1)

        # channel
        ch_box = QGroupBox("Channel")
        ch_lay = QGridLayout(ch_box)
        self.channel_fixed = QRadioButton("Fixed channel")
        self.channel_per_row = QRadioButton("Per row: prefix + value of")
        self.channel_edit = QLineEdit(spec.channel if not spec.per_row_channel
                                      else DEFAULT_CHANNEL)
        self.prefix_edit = QLineEdit(spec.channel if spec.per_row_channel else "")
        self.prefix_edit.setPlaceholderText("prefix, e.g. user_notifications_")
        self.channel_column = QComboBox()
        self.channel_column.addItems(self.columns)
        if spec.channel_column in self.columns:
            self.channel_column.setCurrentText(spec.channel_column)
        (self.channel_per_row if spec.per_row_channel else self.channel_fixed).setChecked(True)
        ch_lay.addWidget(self.channel_fixed, 0, 0)
        ch_lay.addWidget(self.channel_edit, 0, 1, 1, 2)
        ch_lay.addWidget(self.channel_per_row, 1, 0)
        ch_lay.addWidget(self.prefix_edit, 1, 1)
        ch_lay.addWidget(self.channel_column, 1, 2)
        for w in (self.channel_fixed, self.channel_per_row):
            w.toggled.connect(self._sync)
        for w in (self.channel_edit, self.prefix_edit):
            w.textChanged.connect(self._sync)
        self.channel_column.currentTextChanged.connect(self._sync)

        # payload + example
        pl_box = QGroupBox("Payload")
        pl_lay = QVBoxLayout(pl_box)
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[str, QRadioButton] = {}
        for m in PAYLOAD_MODES:
            rb = QRadioButton(f"{m}: {MODE_HELP[m]}")
            rb.setChecked(m == spec.payload)
            self.mode_group.addButton(rb)
            self.mode_buttons[m] = rb
            rb.toggled.connect(self._sync)
            pl_lay.addWidget(rb)
        ex_row = QHBoxLayout()
        ex_row.addWidget(QLabel(f"Example payload from {self.tables[0].qualified} for"))
        self.example_op = QComboBox()
        self.example_op.addItems(EVENTS)
        self.example_op.setCurrentText("UPDATE")
        self.example_op.currentTextChanged.connect(self._sync)
        ex_row.addWidget(self.example_op)
        ex_row.addStretch(1)
        pl_lay.addLayout(ex_row)
        self.example = QPlainTextEdit(readOnly=True)
        self.example.setFont(mono)
        self.example.setMinimumHeight(150)
        pl_lay.addWidget(self.example)

        # columns
        col_box = QGroupBox("Columns")
        col_lay = QFormLayout(col_box)
        self.exclude_list = _checklist(self.columns, spec.exclude)
        self.exclude_list.itemChanged.connect(self._sync)
        warn = QLabel(VISIBILITY_WARNING)
        warn.setWordWrap(True)
        warn.setStyleSheet("color: #9a6700;")
        self.update_of_list = _checklist(self.columns, spec.update_of)
        self.update_of_list.itemChanged.connect(self._sync)
        col_lay.addRow("Never send", self.exclude_list)
        col_lay.addRow("", warn)
        col_lay.addRow("UPDATE only when\nthese are set", self.update_of_list)
        t0 = self.tables[0]
        key_text = (f"{', '.join(t0.key)} ({t0.key_source})" if t0.key
                    else "none: no primary key or replica identity index")
        self.key_label = QLabel(key_text if len(self.tables) == 1
                                else f"{key_text} on {t0.qualified}; each table its own")
        self.key_label.setWordWrap(True)
        col_lay.addRow("Key", self.key_label)

        # WHEN
        when_box = QGroupBox("Only when (WHEN condition, checked by the server)")
        when_box.setToolTip("One SQL expression over NEW and OLD (an INSERT has no OLD, a "
                            "DELETE no NEW). It is evaluated inside the trigger function: if "
                            "it fails on a row, that row's notification carries the error "
                            "and the write goes on.")
        when_lay = QGridLayout(when_box)
        self.when_edit = QLineEdit(spec.when or "")
        self.when_edit.setFont(mono)
        self.when_edit.setPlaceholderText("e.g. OLD.status IS DISTINCT FROM NEW.status")
        self.when_edit.textChanged.connect(self._when_edited)
        self.when_check = QPushButton("Check")
        self.when_check.clicked.connect(self.check_when_requested)
        self.when_check.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.when_status = QLabel("")
        self.when_status.setWordWrap(True)
        # Its room is set aside (three lines, the width it is given): an answer arriving,
        # however long, never moves the Check button or the form (the whole in its tip).
        self.when_status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.when_status.setFixedHeight(self.when_status.fontMetrics().lineSpacing() * 3 + 4)
        self.when_status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        when_lay.addWidget(self.when_edit, 0, 0)
        when_lay.addWidget(self.when_check, 0, 1)
        when_lay.addWidget(self.when_status, 1, 0, 1, 2)
        when_lay.setColumnStretch(0, 1)

        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #cf222e;")

        left = QVBoxLayout()
        for w in (ev_box, ch_box, col_box, when_box):
            left.addWidget(w)
        left.addStretch(1)
        top = QHBoxLayout()
        top.addLayout(left, 1)
        top.addWidget(pl_box, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.problem)
        self._sync()

    # ---- reading the form ----
    def events(self) -> tuple[str, ...]:
        return tuple(e for e, cb in self.event_boxes.items() if cb.isChecked())

    def mode(self) -> str:
        return next(m for m, rb in self.mode_buttons.items() if rb.isChecked())

    def spec_for(self, table: TableInfo) -> TriggerSpec:
        per_row = self.channel_per_row.isChecked()
        exclude = tuple(c for c in _checked(self.exclude_list) if c in table.column_names)
        return TriggerSpec(
            table.schema, table.name, events=self.events(),
            channel=self.prefix_edit.text() if per_row else self.channel_edit.text(),
            channel_column=self.channel_column.currentText() if per_row else None,
            payload=self.mode(), exclude=exclude, when=self.when_edit.text(),
            update_of=_checked(self.update_of_list) if "UPDATE" in self.events() else ())

    def specs(self) -> list[TriggerSpec]:
        return [self.spec_for(t) for t in self.tables]

    def problem_text(self) -> str | None:
        """Why the form cannot be installed as it stands (checked without the server)."""
        for t in self.tables:
            try:
                check_spec(self.spec_for(t), t.column_names, t.key)
            except SpecError as exc:
                return f"{t.qualified}: {exc}" if len(self.tables) > 1 else str(exc)
        return None

    # ---- keeping it consistent ----
    def _when_edited(self) -> None:
        # Red under the field at once when it is not one expression (no server needed).
        problem = when_problem(self.when_edit.text().strip())
        if problem:
            self.set_when_status(False, f"Not one SQL expression: {problem}")
        else:
            self.when_status.setText("")
        self._sync()

    def set_when_status(self, ok: bool, text: str) -> None:
        self.when_status.setText(text)
        self.when_status.setStyleSheet(f"color: {'#1a7f37' if ok else '#cf222e'};")
        self.when_status.setToolTip(text)

    def _sync(self) -> None:
        per_row = self.channel_per_row.isChecked()
        self.channel_edit.setEnabled(not per_row)
        self.prefix_edit.setEnabled(per_row)
        self.channel_column.setEnabled(per_row)
        self.update_of_list.setEnabled(self.event_boxes["UPDATE"].isChecked())
        problem = self.problem_text()
        self.problem.setText(problem or "")
        t0 = self.tables[0]
        # The example shows only operations the trigger will send.
        checked = [e for e in EVENTS if self.event_boxes[e].isChecked()] or ["UPDATE"]
        if [self.example_op.itemText(i) for i in range(self.example_op.count())] != checked:
            keep = self.example_op.currentText()
            self.example_op.blockSignals(True)
            self.example_op.clear()
            self.example_op.addItems(checked)
            self.example_op.setCurrentText(keep if keep in checked else
                                           ("UPDATE" if "UPDATE" in checked else checked[0]))
            self.example_op.blockSignals(False)
        op = self.example_op.currentText()
        try:
            self.example.setPlainText(example_text(self.spec_for(t0), t0.columns, t0.key, op))
        except (SpecError, KeyError, ValueError) as exc:
            self.example.setPlainText(f"({exc})")
        self.changed.emit()

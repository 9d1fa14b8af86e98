"""*Watch changes…*: the SQL first, REPLICA IDENTITY FULL offered with its cost, then Start.

The dialog asks core for a preview (nothing is created): the publication's SQL as
the tables are, and with REPLICA IDENTITY FULL set first. A refusal is one line in
red; a table without replica identity can still be watched by ticking FULL.
Publications left behind by streams that ended uncleanly are listed with a button
that removes them. Start emits `start_requested` with the prepared Setup: the
caller opens the stream (the hub), which runs that exact SQL. Columns a table's notify
trigger never sends are held back by the publication's column list, and the dialog says
so (or, before PostgreSQL 15 or with an existing publication, that they will be sent).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.replication.preview import IDENTITY_FULL_COST, Preview, preview
from pgwatch_gui.core.replication.publication import Setup, WatchPlan
from pgwatch_gui.ui.common.leftovers import LeftoverPublications
from pgwatch_gui.ui.common.tasks import AsyncWork

INTRO = ("Row changes arrive through logical replication: no trigger on the tables, no "
         "8,000-byte limit. A publication is created now and dropped when you stop watching; "
         "a temporary replication slot streams the changes and disappears with its "
         "connection. Changes committed while the stream is down are not delivered.")
RED = "color: #cf222e;"


def _label(text: str = "", style: str = "") -> QLabel:
    lab = QLabel(text)
    lab.setWordWrap(True)
    lab.setTextFormat(Qt.TextFormat.PlainText)
    lab.setStyleSheet(style)
    return lab


class WatchChangesDialog(QDialog):
    start_requested = Signal(object)  # Setup

    def __init__(self, conninfo: str, plan: WatchPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.conninfo = conninfo
        self.chosen_plan = plan  # what the dock asked for
        self.plan = plan  # that, or an existing publication picked below
        self.preview: Preview | None = None
        self.work = AsyncWork(self)
        self.setWindowTitle(f"Watch changes of {plan.describe()}")
        self.resize(760, 520)

        self.intro = _label(INTRO)
        self.message = _label("Asking the server...")
        self.source = QComboBox()
        self.source.addItem(f"A new publication for {plan.describe()}")
        self.source.setToolTip("Or stream an existing publication as it is: nothing is "
                               "created, nothing is dropped")
        self.source.activated.connect(self._source_changed)
        source_row = QHBoxLayout()
        source_row.addWidget(QLabel("Publication:"))
        source_row.addWidget(self.source, 1)
        self.full = QCheckBox("Send old rows too: set REPLICA IDENTITY FULL on the table(s)")
        self.full.setEnabled(False)
        self.full.toggled.connect(lambda _on: self._sync())
        self.cost = _label(IDENTITY_FULL_COST, "color: #57606a;")
        self.notes = _label()  # never-sent columns: held back, or sent anyway
        self.notes.hide()
        self.sql = QPlainTextEdit(readOnly=True)
        self.sql.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.sql.setPlaceholderText("The SQL to run appears here.")
        self.leftovers = LeftoverPublications(self.work, conninfo, self._fail)
        self.copy = QPushButton("Copy SQL", clicked=self._copy)
        self.start = QPushButton("Start watching", clicked=self._start)
        self.start.setDefault(True)
        self.start.setEnabled(False)
        cancel = QPushButton("Cancel", clicked=self.reject)

        left = QHBoxLayout()
        left.addWidget(self.leftovers.label, 1)
        left.addWidget(self.leftovers.button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy)
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.start)
        lay = QVBoxLayout(self)
        lay.addWidget(self.intro)
        lay.addLayout(source_row)
        lay.addWidget(self.message)
        lay.addWidget(self.notes)
        lay.addWidget(self.full)
        lay.addWidget(self.cost)
        lay.addWidget(QLabel("SQL that runs when you start:"))
        lay.addWidget(self.sql, 1)
        lay.addLayout(left)
        lay.addLayout(buttons)
        self.load()

    def _source_changed(self, index: int) -> None:
        name = self.source.itemText(index)
        self.plan = self.chosen_plan if index == 0 else WatchPlan(publication=name)
        self.preview = None
        self.start.setEnabled(False)
        self.message.setText("Asking the server...")
        self.load()

    def load(self) -> None:
        self.work.run(preview, self.conninfo, self.plan, on_done=self._show,
                      on_error=lambda e: self._fail(e))

    def _fail(self, text: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(RED)

    def _show(self, pv: Preview) -> None:
        if pv.plan != self.plan:
            return  # an answer for an earlier choice
        self.preview = pv
        if self.source.count() == 1:
            self.source.addItems(list(pv.publications))
        self.full.setEnabled(pv.with_full is not None)
        self.full.setToolTip(pv.refused_with_full or "" if pv.with_full is None else "")
        if pv.with_full is None:
            self.full.setChecked(False)
        if pv.setup is None and pv.with_full is not None:
            self.full.setChecked(True)  # the only way to watch these tables
        self.leftovers.show(pv.leftovers)
        self._sync()

    @property
    def chosen(self) -> Setup | None:
        pv = self.preview
        if pv is None:
            return None
        return pv.with_full if self.full.isChecked() else pv.setup

    def _sync(self) -> None:
        pv = self.preview
        if pv is None:
            return
        setup = self.chosen
        refused = pv.refused_with_full if self.full.isChecked() else pv.refused
        if setup is None:
            self._fail(refused or "cannot watch these tables")
            self.sql.setPlainText("")
        else:
            self.message.setStyleSheet("")
            note = ""
            if pv.setup is None and self.full.isChecked():
                note = f"Without REPLICA IDENTITY FULL: {pv.refused}"
            self.message.setText(note or f"Publication {setup.name}, temporary slot "
                                 f"{setup.slot}.")
            self.sql.setPlainText(setup.sql_text() or
                                  f"-- publication {setup.name} exists: nothing is created\n")
        self._show_notes(setup.notes if setup is not None else ())
        self.start.setEnabled(setup is not None)

    def _show_notes(self, notes) -> None:
        self.notes.setText("\n".join(notes))
        self.notes.setVisible(bool(notes))
        # Said in red when they will be sent after all; grey when they are held back.
        sent = any("WILL" in n or n.startswith("left out") for n in notes)
        self.notes.setStyleSheet(RED if sent else "color: #57606a;")

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.sql.toPlainText())

    def _start(self) -> None:
        setup = self.chosen
        if setup is not None:
            self.start_requested.emit(setup)
            self.accept()

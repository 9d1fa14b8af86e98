"""View > Clear history…: asks first (a dialog opened with open()), then removes events
from the journal on disk for good: the rows, then their bytes (the file is compacted and
its -wal emptied: core/journal/forget.py). Which connection, and how old.

The journal writer does it on its own thread after writing what it has queued, so an
event received before *Clear* was pressed does not come back. The table's rows in memory
are not touched (View > Clear table is for them); the dialog says so.
"""

from __future__ import annotations

import asyncio
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from pgwatch_gui.core.journal.reader import read_profiles

AGES = ((None, "Everything"), (3600, "Older than 1 hour"), (86400, "Older than 24 hours"),
        (7 * 86400, "Older than 7 days"))
ALL = "\0all"


class ClearHistoryDialog(QDialog):
    cleared = Signal(object)  # the Forgotten, once done
    failed = Signal(str)

    def __init__(self, link, names: list[str], parent=None) -> None:
        super().__init__(parent)
        self.link = link
        self.setWindowTitle("Clear history")
        self.task: asyncio.Task | None = None
        self.result_line = ""
        intro = QLabel("Remove events from the journal on disk, for good: they are deleted "
                       "and the file is compacted, so their payloads are gone from the disk. "
                       "The rows shown in the table stay until you clear it.", self)
        intro.setWordWrap(True)
        self.who = QComboBox(self)
        self.who.addItem("All connections", ALL)
        self._names: set[str] = set()
        self.add_names(names)
        self.age = QComboBox(self)
        for secs, label in AGES:
            self.age.addItem(label, secs)
        self.note = QLabel("", self)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Connections:", self.who)
        form.addRow("Events:", self.age)
        self.buttons = QDialogButtonBox(self)
        self.clear_button = QPushButton("Clear history", self)
        self.buttons.addButton(self.clear_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.clear_button.clicked.connect(self.clear)
        self.buttons.rejected.connect(self.reject)
        self.clear_button.setAutoDefault(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setDefault(True)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.note)
        lay.addWidget(self.buttons)
        self.setMinimumWidth(460)
        self._names_task = asyncio.ensure_future(self._journal_names())

    def add_names(self, names) -> None:
        for n in sorted(set(names) - self._names):
            self._names.add(n)
            self.who.addItem(n, n)

    async def _journal_names(self) -> None:
        try:
            names = await asyncio.to_thread(read_profiles, self.link.journal_path())
        except Exception:  # the list is a convenience: the window's names are there
            return
        self.add_names(names)

    def choice(self) -> tuple[str | None, float | None]:
        who = self.who.currentData()
        age = self.age.currentData()
        return (None if who == ALL else who), (None if age is None else time.time() - age)

    def clear(self) -> asyncio.Task | None:
        if self.task is not None and not self.task.done():
            return self.task
        profile, before = self.choice()
        self.clear_button.setEnabled(False)
        self.who.setEnabled(False)
        self.age.setEnabled(False)
        self.note.setText("Clearing… (the journal is compacted: this can take a while "
                          "for a large one)")

        async def run() -> None:
            try:
                done = await self.link.forget(profile=profile, before=before,
                                              everything=profile is None and before is None)
            except Exception as exc:
                text = f"The history could not be cleared: {exc}"
                self.note.setText(text)
                self.clear_button.setEnabled(True)
                self.who.setEnabled(True)
                self.age.setEnabled(True)
                self.failed.emit(text)
                return
            self.result_line = done.line()
            self.cleared.emit(done)
            self.accept()

        self.task = asyncio.ensure_future(run())
        return self.task

    def reject(self) -> None:
        if self.task is not None and not self.task.done():
            return  # it is running on the writer's thread: it finishes, then says so
        super().reject()

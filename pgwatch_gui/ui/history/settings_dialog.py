"""View > History settings: the journal on or off, how big and how old it may grow."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
)

from pgwatch_gui.core.journal.store import journal_files_size


class HistorySettingsDialog(QDialog):
    def __init__(self, link, parent=None) -> None:
        super().__init__(parent)
        self.link = link
        self.setWindowTitle("History settings")
        self.enabled = QCheckBox("Keep a journal of every event on disk", self)
        self.enabled.setChecked(link.enabled)
        self.max_mb = QSpinBox(self, minimum=1, maximum=1_000_000, suffix=" MB")
        self.max_mb.setValue(int(link.max_mb))
        self.max_days = QDoubleSpinBox(self, minimum=0.01, maximum=3650, decimals=2,
                                       suffix=" days")
        self.max_days.setValue(link.max_days)
        path = link.journal_path()
        size = journal_files_size(path)
        where = QLabel(f"{path}\n{size / 1024**2:,.1f} MB on disk now", self)
        where.setTextFormat(Qt.TextFormat.PlainText)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        warn = QLabel("Payloads are kept on disk as received. They may hold personal data; "
                      "the oldest are deleted past the limits below.", self)
        warn.setWordWrap(True)
        forced = QLabel("Off for this run (--no-journal).", self)
        forced.setVisible(link.forced_off)
        form = QFormLayout()
        form.addRow(self.enabled)
        form.addRow(forced)
        form.addRow("Largest size:", self.max_mb)
        form.addRow("Keep events for:", self.max_days)
        form.addRow("Location:", where)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(warn)
        lay.addWidget(buttons)

    def accept(self) -> None:
        self.link.apply_settings(self.enabled.isChecked(), float(self.max_mb.value()),
                                 float(self.max_days.value()))
        super().accept()

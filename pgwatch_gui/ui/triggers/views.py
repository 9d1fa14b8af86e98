"""Show what is installed on a table: the stored spec, the triggers and the function."""

from __future__ import annotations

import json

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.triggers import manage as triggers
from pgwatch_gui.ui.common.tasks import AsyncWork


class ShowTriggerDialog(QDialog):
    def __init__(self, conninfo: str, installed: triggers.Installed,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.installed = installed
        self.setWindowTitle(f"pgwatch trigger on {installed.qualified_table}")
        self.resize(860, 620)
        self.work = AsyncWork(self)
        problems = "\n".join(f"⚠ {p}" for p in installed.problems)
        self.summary = QLabel(problems or "Up to date with the table's columns.")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #9a6700;" if problems else "color: #1a7f37;")
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.NoWrap)
        spec = json.dumps(installed.spec.to_dict(), ensure_ascii=False, indent=2)
        defs = "\n".join(t.definition + ";" for t in installed.triggers)
        self._head = f"-- spec (stored in COMMENT ON TRIGGER)\n/*\n{spec}\n*/\n\n{defs}\n\n"
        self.text.setPlainText(self._head + "-- reading the function...")
        copy = QPushButton("Copy", clicked=lambda: QGuiApplication.clipboard().setText(
            self.text.toPlainText()))
        close = QPushButton("Close", clicked=self.accept)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(copy)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.text, 1)
        lay.addLayout(buttons)
        self.work.run(triggers.function_definition, conninfo, installed,
                      on_done=lambda d: self.text.setPlainText(self._head + d),
                      on_error=lambda e: self.text.setPlainText(self._head + f"-- {e}"))

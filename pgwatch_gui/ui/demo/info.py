"""Help > Demo database: where the demo's PostgreSQL is, so a user can point psql at it."""

from __future__ import annotations

import shlex

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)


def psql_command(dsn: str) -> str:
    return f"psql {shlex.quote(dsn)}"


class DemoInfoDialog(QDialog):
    """The demo's connection string and a psql command line, each with Copy."""

    def __init__(self, dsn: str, channels, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Demo database")
        self.setObjectName("demo-info")
        lay = QVBoxLayout(self)
        intro = QLabel("The demo runs on an embedded PostgreSQL. Connect to it with any "
                       "client while the window is open; it stops when the window closes.",
                       self)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.fields: dict[str, QLineEdit] = {}
        for key, label, text in (("dsn", "Connection string", dsn),
                                 ("psql", "psql", psql_command(dsn))):
            cap = QLabel(label, self)
            cap.setTextFormat(Qt.TextFormat.PlainText)
            lay.addWidget(cap)
            edit = QLineEdit(text, self)
            edit.setReadOnly(True)
            edit.setObjectName(f"demo-{key}")
            edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance(text) + 24)
            copy = QPushButton("Copy", self)
            copy.setObjectName(f"copy-{key}")
            copy.clicked.connect(lambda _=False, e=edit: self.copy(e.text()))
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(copy)
            lay.addLayout(row)
            self.fields[key] = edit
        chans = QLabel("Channels it notifies on: " + ", ".join(channels), self)
        chans.setTextFormat(Qt.TextFormat.PlainText)
        chans.setWordWrap(True)
        lay.addWidget(chans)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)


def install_help(window, demo) -> QAction:
    """Help > Demo database…, opening DemoInfoDialog (non-modal: no nested event loop)."""

    def show() -> None:
        dlg = DemoInfoDialog(demo.public_dsn, demo.channels, window)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()
        window.demo_info_dialog = dlg

    action = QAction("&Demo database…", window, triggered=show)
    action.setObjectName("action-demo-database")
    menu = window.menu_help
    first = menu.actions()[0] if menu.actions() else None
    menu.insertAction(first, action)
    return action

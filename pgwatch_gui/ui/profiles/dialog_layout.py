"""The profile dialog's tabs: Connection, SSL and Listening, laid out as forms.

A mixin of ProfileDialog (dialog.py), which makes the fields; this only places them.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QPushButton, QWidget


class ProfileFormLayout:
    """_connection_tab(), _ssl_tab(), _listen_tab(): the forms ProfileDialog shows."""

    def _connection_tab(self) -> QWidget:
        w = QWidget(self)
        form = self._connection_form = QFormLayout(w)
        e = self.edits
        form.addRow("Host:", e["host"])
        form.addRow("Port:", self.port)
        form.addRow("Database:", e["dbname"])
        form.addRow("User:", e["user"])
        form.addRow("Password:", self.password)
        form.addRow("", self.forget_password)
        self.password_note = QLabel(self)
        self.password_note.setWordWrap(True)
        self.password_note.setStyleSheet("color: #57606a")
        form.addRow("", self.password_note)
        form.addRow("Service:", e["service"])
        form.addRow("Other parameters:", e["uri"])
        return w

    def _file_row(self, field: str, caption: str) -> QWidget:
        row = QWidget(self)
        h = QHBoxLayout(row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(self.edits[field], 1)
        browse = QPushButton("…", row)
        self._browse_buttons[field] = browse
        browse.setFixedWidth(32)
        browse.setProperty("field", field)
        browse.setProperty("caption", caption)
        browse.clicked.connect(self._browse_clicked)
        h.addWidget(browse)
        return row

    def _ssl_tab(self) -> QWidget:
        w = QWidget(self)
        form = QFormLayout(w)
        form.addRow("SSL mode:", self.sslmode)
        form.addRow("Root certificate:", self._file_row("sslrootcert", "Root certificate"))
        form.addRow("Client certificate:", self._file_row("sslcert", "Client certificate"))
        form.addRow("Client key:", self._file_row("sslkey", "Client key"))
        form.addRow("Channel binding:", self.channel_binding)
        return w

    def _listen_tab(self) -> QWidget:
        w = QWidget(self)
        form = QFormLayout(w)
        form.addRow("Channels:", self.channels)
        form.addRow("", self.auto_connect)
        form.addRow("Application name:", self.edits["application_name"])
        form.addRow("Connect timeout:", self.connect_timeout)
        return w

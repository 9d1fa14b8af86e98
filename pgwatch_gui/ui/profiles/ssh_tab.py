"""The SSH tab of the profile dialog, and the question "trust this host key?".

The tab edits a profile's ssh_* fields; the secret typed here (the key's passphrase
or the SSH password) is handed to the caller for the keyring, never to the profile.
The host key question is a non-modal message box (open() and a signal): it may be
raised while asyncio tasks run, and a nested event loop would break them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from pgwatch_gui.core.pg.errors import one_line
from pgwatch_gui.core.profiles.model import Profile
from pgwatch_gui.core.ssh.errors import HostKeyUnknown
from pgwatch_gui.core.ssh.settings import (
    AUTH_AGENT,
    AUTH_KEY,
    AUTH_PASSWORD,
    DEFAULT_SSH_PORT,
)
from pgwatch_gui.ui.common.dialogs import warn

_METHODS = ((AUTH_AGENT, "SSH agent or ~/.ssh/id_* keys"), (AUTH_KEY, "Key file"),
            (AUTH_PASSWORD, "Password"))


class SshTab(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox("Connect through an SSH tunnel", self)
        self.host = QLineEdit(self)
        self.host.setPlaceholderText("bastion host (its ~/.ssh/config name works too)")
        self.port = QLineEdit(self)
        self.port.setValidator(QIntValidator(1, 65535, self))
        self.port.setPlaceholderText(str(DEFAULT_SSH_PORT))
        self.user = QLineEdit(self)
        self.user.setPlaceholderText("your SSH user (default: as in ~/.ssh/config)")
        self.method = QComboBox(self)
        for key, text in _METHODS:
            self.method.addItem(text, key)
        self.key = QLineEdit(self)
        self.key.setPlaceholderText("~/.ssh/id_ed25519")
        self.browse = QPushButton("…", self)
        self.browse.setFixedWidth(32)
        self.browse.clicked.connect(self._browse)
        self.secret = QLineEdit(self)
        self.secret.setEchoMode(QLineEdit.Password)
        self.secret_stored = False
        self.note = QLabel("The database host and port (Connection tab) are resolved on the "
                           "SSH server. Host keys are checked against ~/.ssh/known_hosts.", self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #57606a")

        key_row = QWidget(self)
        h = QHBoxLayout(key_row)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(self.key, 1)
        h.addWidget(self.browse)
        form = self.form = QFormLayout(self)
        form.addRow("", self.enabled)
        form.addRow("SSH host:", self.host)
        form.addRow("SSH port:", self.port)
        form.addRow("SSH user:", self.user)
        form.addRow("Log in with:", self.method)
        form.addRow("Key file:", key_row)
        self.key_row = key_row
        form.addRow("Passphrase:", self.secret)
        form.addRow("", self.note)
        self.enabled.toggled.connect(self._sync)
        self.method.currentIndexChanged.connect(self._sync)
        self._file_dialog: QFileDialog | None = None
        self._sync()

    # ---- form <-> profile --------------------------------------------------------

    def fill(self, p: Profile) -> None:
        self.enabled.setChecked(bool(p.ssh_host))
        self.host.setText(p.ssh_host)
        self.port.setText(str(p.ssh_port) if p.ssh_port else "")
        self.user.setText(p.ssh_user)
        settings = p.ssh_settings()
        auth = settings.auth if settings else AUTH_AGENT
        self.method.setCurrentIndex([k for k, _ in _METHODS].index(auth))
        self.key.setText(p.ssh_key)
        self._sync()

    def apply(self, p: Profile) -> Profile:
        """Set the ssh_* fields of `p` from the form (all empty when the tunnel is off)."""
        if not self.enabled.isChecked():
            p.ssh_host = p.ssh_user = p.ssh_auth = p.ssh_key = ""
            p.ssh_port = None
            return p
        p.ssh_host = self.host.text().strip()
        p.ssh_port = int(self.port.text()) if self.port.text() else None
        p.ssh_user = self.user.text().strip()
        p.ssh_auth = self.method.currentData()
        p.ssh_key = self.key.text().strip() if p.ssh_auth == AUTH_KEY else ""
        return p

    @property
    def secret_change(self) -> str | None:
        """None: keep what is stored; "": forget it (tunnel off, agent); text: store it."""
        if not self.enabled.isChecked() or self.method.currentData() == AUTH_AGENT:
            return ""
        return self.secret.text() or None

    def set_secret_stored(self, stored: bool) -> None:
        self.secret_stored = stored
        self._sync()

    # ---- behaviour ---------------------------------------------------------------

    def _sync(self) -> None:
        on = self.enabled.isChecked()
        for w in (self.host, self.port, self.user, self.method, self.key, self.browse,
                  self.secret):
            w.setEnabled(on)
        method = self.method.currentData()
        self.form.setRowVisible(self.key_row, method == AUTH_KEY)
        self.form.setRowVisible(self.secret, method != AUTH_AGENT)
        label = self.form.labelForField(self.secret)
        if isinstance(label, QLabel):
            label.setText("Password:" if method == AUTH_PASSWORD else "Passphrase:")
        if self.secret_stored:
            self.secret.setPlaceholderText("unchanged (stored in the keyring)")
        elif method == AUTH_KEY:
            self.secret.setPlaceholderText("empty for a key without a passphrase")
        else:
            self.secret.setPlaceholderText("stored in the keyring, never in the profiles file")
        self.changed.emit()

    def _browse(self) -> None:
        dlg = self._file_dialog = QFileDialog(self, "SSH private key", self.key.text())
        dlg.setFileMode(QFileDialog.ExistingFile)
        dlg.fileSelected.connect(self.key.setText)
        dlg.open()


def ask_trust_host_key(parent: QWidget, err: HostKeyUnknown,
                       on_accepted: Callable[[], None]) -> QMessageBox:
    """Show the fingerprint; on Yes the key is recorded (off the GUI thread), then
    `on_accepted` runs. Non-modal: returns the open box."""
    box = QMessageBox(QMessageBox.Question, "Unknown SSH host key",
                      f"The SSH server {err.host} (port {err.port}) is not in "
                      "~/.ssh/known_hosts yet.", QMessageBox.Yes | QMessageBox.No, parent)
    box.setInformativeText(
        f"Its key fingerprint is\n\n{err.fingerprint}\n\nTrust it only if it is the one "
        "your administrator gave you (ssh-keygen -lf on the server shows it). "
        "Trust and remember this key?")
    box.setDefaultButton(QMessageBox.No)
    box.setObjectName("ssh-host-key-question")

    def recorded(task: asyncio.Task) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            on_accepted()
        elif shiboken6.isValid(parent):  # known_hosts not writable, say: never silently
            warn(parent, "Unknown SSH host key",
                 f"The key could not be recorded in ~/.ssh/known_hosts: {one_line(exc)}")

    def finished(_result: int) -> None:
        clicked = box.clickedButton()
        if clicked is not None and box.standardButton(clicked) == QMessageBox.Yes:
            from pgwatch_gui.core.ssh.tunnel import accept_host_key

            task = asyncio.ensure_future(asyncio.to_thread(accept_host_key, err))
            task.add_done_callback(recorded)
        box.deleteLater()

    box.finished.connect(finished)
    box.open()
    return box

"""ProfileDialog: create or edit a connection profile, paste a URI, test the connection.

The dialog never writes anything: the caller reads `profile()`, `password_change` and
`ssh_secret_change` and saves them (the profile to the profiles file, the secrets to
the keyring). Only an accepted SSH host key is recorded from here (in known_hosts).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable

import shiboken6
from PySide6.QtGui import QColor, QGuiApplication, QIntValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.pg.connection import ConnectionConfigError
from pgwatch_gui.core.profiles.imports import profile_from_dsn
from pgwatch_gui.core.profiles.model import (
    CHANNEL_BINDINGS,
    SSLMODES,
    Profile,
    ProfileError,
    next_color,
)
from pgwatch_gui.core.profiles.pgpass import passfile, shown
from pgwatch_gui.core.profiles.secrets import SecretStore
from pgwatch_gui.ui.common.swatch import swatch_icon
from pgwatch_gui.ui.profiles.conn_test import ConnectionTestWidget
from pgwatch_gui.ui.profiles.dialog_layout import ProfileFormLayout
from pgwatch_gui.ui.profiles.ssh_tab import SshTab, ask_trust_host_key

_TEXT_FIELDS = ("name", "host", "dbname", "user", "service", "uri", "sslrootcert",
                "sslcert", "sslkey", "application_name")


def _check_choices(p: Profile) -> None:
    """sslmode and channel_binding are choices of the form: a value it cannot show (a typo
    such as verify-ful) is refused by name, so the form never falls back to the default."""
    if p.sslmode not in SSLMODES:
        raise ProfileError(f"sslmode {p.sslmode!r} is not one of "
                           f"{', '.join(SSLMODES[1:])}")
    if p.channel_binding not in CHANNEL_BINDINGS:
        raise ProfileError(f"channel_binding {p.channel_binding!r} is not one of "
                           f"{', '.join(CHANNEL_BINDINGS[1:])}")


def _ssh_check():
    from pgwatch_gui.core.ssh.check import check_via_ssh

    return check_via_ssh


class ProfileDialog(ProfileFormLayout, QDialog):
    def __init__(self, parent: QWidget | None = None, *, profile: Profile | None = None,
                 template: Profile | None = None, password: str | None = None,
                 secrets: SecretStore | None = None, taken_names: list[str] | None = None,
                 used_colors: list[str] | None = None) -> None:
        """Edit `profile`, or make a new one (from `template` and `password` if given)."""
        super().__init__(parent)
        self.original = profile
        self._secrets = secrets
        taken = set(taken_names or [])
        self._taken = taken - ({profile.name} if profile else set())
        start = profile or template
        self._color = (start.color if start else "") or next_color(used_colors or [])
        self._extra = dict(start.extra) if start else {}
        self.setWindowTitle(f"Edit profile {profile.name}" if profile else "New profile")
        self.setMinimumWidth(520)

        self.edits: dict[str, QLineEdit] = {f: QLineEdit(self) for f in _TEXT_FIELDS}
        self._browse_buttons: dict[str, QPushButton] = {}
        self.edits["host"].setPlaceholderText("host name, IP or socket folder (libpq default)")
        self.edits["uri"].setPlaceholderText("more libpq parameters: URI or key=value")
        self.edits["service"].setPlaceholderText("a service from ~/.pg_service.conf")
        self.port = QLineEdit(self)
        self.port.setValidator(QIntValidator(1, 65535, self))
        self.port.setPlaceholderText("5432")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.Password)
        self.forget_password = QCheckBox("Forget the stored password", self)
        self.sslmode = QComboBox(self)
        self.sslmode.addItems([m or "(libpq default: prefer)" for m in SSLMODES])
        self.channel_binding = QComboBox(self)
        self.channel_binding.addItems([m or "(libpq default)" for m in CHANNEL_BINDINGS])
        self.connect_timeout = QSpinBox(self)
        self.connect_timeout.setRange(0, 3600)
        self.connect_timeout.setSpecialValueText("default (10 s)")
        self.connect_timeout.setSuffix(" s")
        self.channels = QPlainTextEdit(self)
        self.channels.setPlaceholderText("one channel per line, spelled as pg_notify has it")
        self.channels.setTabChangesFocus(True)  # Tab moves on; a channel has no tab in it
        self.channels.setFixedHeight(self.fontMetrics().height() * 5)
        self.auto_connect = QCheckBox("Connect when the window opens", self)
        self.color_button = QPushButton(self)
        self.color_button.clicked.connect(self._pick_color)

        tabs = QTabWidget(self)
        tabs.addTab(self._connection_tab(), "Connection")
        tabs.addTab(self._ssl_tab(), "SSL")
        tabs.addTab(self._listen_tab(), "Listening")
        self.ssh = SshTab(self)
        tabs.addTab(self.ssh, "SSH")
        self.tabs = tabs

        self.tester = ConnectionTestWidget(self._conninfo_for_test,
                                           timeout=self._test_timeout, parent=self,
                                           checker=self._checker_for_test)
        self.tester.host_key_unknown.connect(self._trust_host_key)
        self.error = QLabel("", self)
        self.error.setStyleSheet("color: #cf222e")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        paste = self.paste_button = QPushButton("&Paste URI…", self)
        paste.setToolTip("Fill the form from a postgresql:// URI or key=value string")
        paste.clicked.connect(self._ask_uri)

        top = QHBoxLayout()
        top.addWidget(QLabel("Name:", self))
        top.addWidget(self.edits["name"], 1)
        top.addWidget(self.color_button)
        top.addWidget(paste)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(tabs)
        layout.addWidget(self.tester)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        self._tab_order()
        self._fill(start or Profile(name=""))
        if password:
            self.password.setText(password)
        self._show_color()
        self._password_hint()
        self._ssh_secret_hint()

    def _tab_order(self) -> None:
        """Tab walks the fields in the order they are shown (Qt's default is the order they
        were made in, which skipped Port and put Password after Other parameters: a
        password typed in field order landed there, in clear text)."""
        e, ssh, browse = self.edits, self.ssh, self._browse_buttons
        chain = [e["name"], self.color_button, self.paste_button, self.tabs,
                 e["host"], self.port, e["dbname"], e["user"], self.password,
                 self.forget_password, e["service"], e["uri"],
                 self.sslmode, e["sslrootcert"], browse["sslrootcert"], e["sslcert"],
                 browse["sslcert"], e["sslkey"], browse["sslkey"], self.channel_binding,
                 self.channels, self.auto_connect, e["application_name"],
                 self.connect_timeout,
                 ssh.enabled, ssh.host, ssh.port, ssh.user, ssh.method, ssh.key, ssh.browse,
                 ssh.secret, self.tester.test_button, self.tester.cancel_button, self.buttons]
        for a, b in itertools.pairwise(chain):
            QWidget.setTabOrder(a, b)

    # ---- form <-> profile --------------------------------------------------------

    def _fill(self, p: Profile, *, keep_listening: bool = False) -> None:
        for f in _TEXT_FIELDS:
            if f == "name" and keep_listening:
                continue
            self.edits[f].setText(getattr(p, f) or "")
        self.port.setText(str(p.port) if p.port else "")
        self.sslmode.setCurrentIndex(SSLMODES.index(p.sslmode))
        self.channel_binding.setCurrentIndex(CHANNEL_BINDINGS.index(p.channel_binding))
        self.connect_timeout.setValue(p.connect_timeout or 0)
        if not keep_listening:
            self.channels.setPlainText("\n".join(p.channels))
            self.auto_connect.setChecked(p.auto_connect)
            self.ssh.fill(p)

    def profile(self) -> Profile:
        """The profile the form describes (not validated)."""
        texts = {f: self.edits[f].text().strip() for f in _TEXT_FIELDS}
        channels = [c.strip() for c in self.channels.toPlainText().splitlines() if c.strip()]
        return self.ssh.apply(Profile(
            **texts,
            port=int(self.port.text()) if self.port.text() else None,
            sslmode=SSLMODES[self.sslmode.currentIndex()],
            channel_binding=CHANNEL_BINDINGS[self.channel_binding.currentIndex()],
            connect_timeout=self.connect_timeout.value() or None,
            channels=channels, auto_connect=self.auto_connect.isChecked(),
            color=self._color, extra=dict(self._extra),
        ))

    @property
    def ssh_secret_change(self) -> str | None:
        """The SSH passphrase / password: None keep, "" forget, text store."""
        return self.ssh.secret_change

    @property
    def password_change(self) -> str | None:
        """None: keep what is stored; "": forget it; text: store this password."""
        if self.password.text():
            return self.password.text()
        return "" if self.forget_password.isChecked() else None

    def apply_uri(self, text: str) -> bool:
        """Fill the connection fields from a URI or key=value string; False on error."""
        try:
            parsed, password = profile_from_dsn(self.edits["name"].text().strip() or "x", text)
            _check_choices(parsed)
        except (ConnectionConfigError, ProfileError) as exc:
            # Nothing of it is applied: never half a form, never a weaker TLS mode.
            self.error.setText(f"Not applied: {exc}")
            return False
        self._fill(parsed, keep_listening=True)
        if not self.edits["name"].text().strip():
            self.edits["name"].setText(parsed.target())
        if password:
            self.password.setText(password)
        self.error.setText("")  # an earlier paste's or Ok's complaint is stale now
        self.tester.clear()  # and so is a test of what the form held before
        return True

    # ---- actions ---------------------------------------------------------------

    def _ask_uri(self) -> None:
        clip = QGuiApplication.clipboard().text().strip()
        text, ok = QInputDialog.getText(
            self, "Paste URI", "postgresql://user:password@host:port/database?sslmode=…",
            QLineEdit.Normal, clip if clip.startswith(("postgres", "host=")) else "")
        if ok and text.strip():
            self.apply_uri(text.strip())

    def _browse_clicked(self) -> None:
        button = self.sender()
        self._browse(button.property("field"), button.property("caption"))

    def _browse(self, field: str, caption: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, caption, self.edits[field].text())
        if path:
            self.edits[field].setText(path)

    def _pick_color(self) -> None:
        color = QColorDialog.getColor(QColor(self._color), self, "Colour of this profile's events")
        if color.isValid():
            self.set_color(color.name())

    def set_color(self, color: str) -> None:
        self._color = color
        self._show_color()

    def _show_color(self) -> None:
        self.color_button.setIcon(swatch_icon(self._color, 14))
        self.color_button.setText("Colour")
        self.color_button.setToolTip(f"Events of this profile are marked {self._color}")

    def _password_hint(self, stored: bool | None = None) -> None:
        """The password field's hint; whether one is stored is asked of the keyring in a
        thread (the hint says "stored" once it has answered)."""
        secrets = self._secrets
        if stored is None:
            stored = False
            if self.original and secrets:
                self._ask_keyring(secrets.has, self.original.name, self._password_hint)
        self._connection_form.setRowVisible(self.forget_password, stored)
        if stored:
            self.password.setPlaceholderText("unchanged (a password is stored)")
        else:
            self.password.setPlaceholderText("empty: libpq's .pgpass or PGPASSWORD apply")
        # The hint in full, also where a narrow dialog clips the placeholder.
        self.password.setToolTip(self.password.placeholderText())
        if secrets is not None and not secrets.persistent:
            problem = secrets.problem or "no usable keyring on this system"
            self.password_note.setText(f"{problem[0].upper()}{problem[1:]}: the password "
                                       f"goes to {shown(passfile())} (mode 0600), where libpq "
                                       "finds it.")
        elif secrets is not None:
            self.password_note.setText("Stored in the system keyring, never in the "
                                       "profiles file.")

    def validated_profile(self) -> Profile | None:
        """The form as a valid profile, or None (the reason is shown in the dialog)."""
        profile = self.profile()
        try:
            profile.validate()
        except ProfileError as exc:
            self.error.setText(str(exc))
            return None
        if profile.name in self._taken:
            self.error.setText(f"a profile named {profile.name!r} exists already")
            return None
        self.error.setText("")
        return profile

    def _conninfo_for_test(self) -> str | Awaitable[str] | None:
        profile = self.profile()
        if not profile.name:
            profile.name = "test"
        try:
            profile.validate()
        except ProfileError as exc:
            self.error.setText(str(exc))
            return None
        self.error.setText("")
        password = self.password_change
        if password is None and self.original and self._secrets:
            secrets, name = self._secrets, self.original.name

            async def with_stored_password() -> str:  # the keyring, read in a thread
                stored = await asyncio.to_thread(secrets.get, name)
                return profile.conninfo(stored or None)

            return with_stored_password()
        return profile.conninfo(password or None)

    def _ask_keyring(self, fn, name: str, then) -> None:
        """fn(name) in a worker thread (started at once, even before the loop runs), then
        then(result) here on the loop; a failing keyring leaves the hint as it is. The
        window always has a loop; a dialog made without one shows no keyring hints."""
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            return
        fut = loop.run_in_executor(None, fn, name)
        fut.add_done_callback(
            lambda f: not f.cancelled() and f.exception() is None
            and shiboken6.isValid(self) and then(f.result()))

    def _ssh_secret_hint(self) -> None:
        """Whether an SSH secret is stored: asked off the GUI thread (a keyring call)."""
        if self.original and self.original.uses_ssh and self._secrets:
            self._ask_keyring(self._secrets.companion("ssh").has, self.original.name,
                              self.ssh.set_secret_stored)

    def _checker_for_test(self):
        """With an SSH tunnel: the test through it (the stored secret read off-thread)."""
        profile = self.profile()
        settings = profile.ssh_settings()
        if settings is None:
            return None
        typed = self.ssh.secret.text() or None
        store = self._secrets.companion("ssh") if self._secrets else None
        stored_name = self.original.name if self.original else None

        async def check(conninfo: str, timeout: float):
            secret = typed
            if secret is None and store is not None and stored_name:
                secret = await asyncio.to_thread(store.get, stored_name)
            # asyncssh is loaded by the first tunnel, off the GUI thread (100 ms or more)
            check_via_ssh = await asyncio.to_thread(_ssh_check)
            return await check_via_ssh(conninfo, settings, secret=secret, timeout=timeout)

        return check

    def _trust_host_key(self, err) -> None:
        self.host_key_box = ask_trust_host_key(self, err, self.tester.start)

    def _test_timeout(self) -> float:
        return float(self.connect_timeout.value() or 10) + 5.0

    def accept(self) -> None:
        if self.validated_profile() is not None:
            self.tester.cancel()
            super().accept()

    def done(self, result: int) -> None:
        self.tester.cancel()
        super().done(result)


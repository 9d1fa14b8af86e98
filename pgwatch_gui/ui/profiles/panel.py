"""ProfilesPanel: the saved profiles as a dock — connect, disconnect, edit, duplicate, delete.

Every connected profile is one listener in the ConnectionHub, under the profile's
name, so several are open at once and every event carries its profile. The panel
pushes each profile's colour to the hub, where the event table finds it.

Where a connection fails for want of a password (no usable keyring, nothing in
.pgpass), or because its password stopped working (the listener then stops retrying),
the panel asks (a dialog opened with open(), the window goes on) and connects again
with the answer, kept for the session (or in the keyring, when there is one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pgwatch_gui.core.pg.conncheck import needs_password
from pgwatch_gui.core.profiles.model import Profile, ProfileError
from pgwatch_gui.core.profiles.pgpass import passfile, save_password, shown
from pgwatch_gui.core.profiles.store import ProfileStore
from pgwatch_gui.core.stream.status import State, Status
from pgwatch_gui.ui.common.swatch import swatch_icon
from pgwatch_gui.ui.common.tasks import AsyncWork
from pgwatch_gui.ui.profiles.colors import ProfileColorSync
from pgwatch_gui.ui.profiles.dialog import ProfileDialog
from pgwatch_gui.ui.profiles.editing import ProfileEditing
from pgwatch_gui.ui.profiles.imports import build_import_menu
from pgwatch_gui.ui.profiles.tunnels import open_through_tunnel

_STATE_TEXT = {State.CONNECTING: "connecting…", State.IDLE: "connecting…",
               State.STOPPED: "disconnected"}


class ProfilesPanel(ProfileEditing, QWidget):
    def __init__(self, hub, store: ProfileStore | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self.store = store or ProfileStore.open()
        self.secrets = self.store.secrets
        self.dialog: ProfileDialog | None = None  # the open dialog, if any
        self._asking: set[str] = set()
        self._pending: list[tuple[str, str]] = []
        self.password_dialogs: dict[str, QInputDialog] = {}  # the last question per profile
        self.work = AsyncWork(self)
        # (profile name, reason) -> password or None; None asks with a dialog. (No bound
        # methods of self in attributes: Qt objects in reference cycles would be freed by
        # the garbage collector in whatever thread it happens to run.)
        self.password_prompt: Callable[[str, str], str | None] | None = None

        self.banner = QLabel(self)
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fff8c5; color: #3b2300; padding: 4px;"
                                  "border: 1px solid #d4a72c; border-radius: 3px")
        self.banner.hide()
        self.list = QListWidget(self)
        self.list.setObjectName("profiles-list")
        self.list.setTextElideMode(Qt.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.list.setUniformItemSizes(True)
        self.list.itemDoubleClicked.connect(self._item_activated)
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.setContextMenuPolicy(Qt.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)

        self.actions: dict[str, QAction] = {}
        for key, text, slot, tip in (
            ("new", "New…", self.new_profile_action, "Create a profile"),
            ("connect", "Connect", self._connect_current, "Listen on this profile's channels"),
            ("disconnect", "Disconnect", self._disconnect_current,
             "Close this profile's connection"),
            ("edit", "Edit…", self._edit_current, "Edit the profile"),
            ("duplicate", "Duplicate", self._duplicate_current,
             "A copy of the profile, with its own colour"),
            ("delete", "Delete…", self._delete_current,
             "Delete the profile and its stored password"),
        ):
            act = QAction(text, self, toolTip=tip)
            act.triggered.connect(slot)
            self.actions[key] = act
        self.import_menu = build_import_menu(self)

        self.more_menu = QMenu("More", self)
        self.more_menu.addAction(self.actions["duplicate"])
        self.more_menu.addAction(self.actions["delete"])
        self.more_menu.addSeparator()
        self.more_menu.addMenu(self.import_menu)
        bar = QHBoxLayout()
        bar.setSpacing(2)
        for key in ("new", "connect", "disconnect", "edit"):
            bar.addWidget(self._tool(self.actions[key]))
        more = QToolButton(self)
        more.setText("More")
        more.setMenu(self.more_menu)
        more.setPopupMode(QToolButton.InstantPopup)
        bar.addWidget(more)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.banner)
        layout.addLayout(bar)
        layout.addWidget(self.list, 1)

        hub.status_changed.connect(self._on_status)
        hub.connections_changed.connect(self.refresh)
        self._keyring_note = ""
        self.show_notes(list(self.store.problems))
        if self.secrets.ready:
            self._keyring_known()
        else:
            # Loading a keyring (D-Bus...) can take seconds: never on the GUI thread.
            self.work.in_thread(self.secrets.warm, self.store.names(),
                                on_done=lambda _p: self._keyring_known())
        self.refresh()

    # ---- keyring -----------------------------------------------------------------

    def _keyring_known(self) -> None:
        """Show (or clear) the keyring note; also after an operation made it fail."""
        note = ""
        if not self.secrets.persistent:
            problem = self.secrets.problem or "no usable keyring on this system"
            note = (f"{problem[0].upper()}{problem[1:]}: a password saved in a profile "
                    f"goes to {shown(passfile())} (mode 0600); one asked for when connecting is "
                    "kept for this session only.")
        if note != self._keyring_note:
            notes = [n for n in self._notes if n != self._keyring_note]
            self._keyring_note = note
            self.show_notes([*notes, note] if note else notes)

    def store_password(self, name: str, password: str, then=None, *,
                       lasting: bool = False) -> None:
        """Save a password in a worker thread; say where it went when not to the keyring
        (`lasting`, from the profile dialog: libpq's password file; else memory)."""
        expected = self.secrets.persistent
        profile = self.store.get(name)

        def saved(note: str | None) -> None:
            if note:
                self.show_notes([*self._notes, note])
            self._keyring_known()
            if then is not None:
                then()

        self.work.in_thread(save_password, self.secrets, name, password,
                            profile if lasting else None, expected, on_done=saved,
                            on_error=lambda e: self.show_notes([*self._notes, e]))

    def forget_password(self, name: str, then=None) -> None:
        def done(_r) -> None:
            self._keyring_known()
            if then is not None:
                then()

        self.work.in_thread(self.secrets.delete, name, on_done=done)

    def sizeHint(self) -> QSize:
        return QSize(300, 400)

    def _tool(self, action: QAction) -> QToolButton:
        b = QToolButton(self)
        b.setDefaultAction(action)
        return b

    # ---- list --------------------------------------------------------------------

    def current(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.UserRole) if item is not None else None

    def select(self, name: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.UserRole) == name:
                self.list.setCurrentRow(i)
                return

    def item_text(self, name: str) -> str:
        return self._text(self.store.require(name))

    def _text(self, p: Profile) -> str:
        st = self.hub.status(p.name)
        state = "not connected" if st is None else _STATE_TEXT.get(st.state) or st.describe()
        return f"{p.name}\n{state} · {p.target()}"

    def refresh(self) -> None:
        keep = self.current()
        self.list.clear()
        open_names = set(self.hub.names())
        for p in self.store.profiles:
            item = QListWidgetItem(swatch_icon(p.color, 14), self._text(p))
            item.setData(Qt.UserRole, p.name)
            item.setToolTip(f"{p.target()}\nchannels: {', '.join(p.channels) or '(none)'}")
            if p.name in open_names:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            self.list.addItem(item)
        if keep:
            self.select(keep)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self.hub.set_profile_colors({p.name: p.color for p in self.store.profiles})
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        name = self.current()
        has = name is not None
        is_open = has and name in self.hub.names()
        st = self.hub.status(name) if is_open else None
        failed = st is not None and st.state in (State.FAILED, State.STOPPED)
        self.actions["connect"].setEnabled(has and (not is_open or failed))
        self.actions["disconnect"].setEnabled(bool(is_open))
        for key in ("edit", "duplicate", "delete"):
            self.actions[key].setEnabled(has)

    def show_notes(self, notes: list[str]) -> None:
        self._notes = list(notes)
        self.banner.setText("\n".join(notes))
        self.banner.setVisible(bool(notes))

    def _context_menu(self, pos) -> None:
        menu = QMenu(self)
        for key in ("connect", "disconnect", "edit", "duplicate", "delete"):
            menu.addAction(self.actions[key])
        menu.addSeparator()
        menu.addAction(self.actions["new"])
        menu.exec(self.list.mapToGlobal(pos))

    # ---- connections -------------------------------------------------------------

    def _item_activated(self, item: QListWidgetItem) -> None:
        self.toggle(item.data(Qt.UserRole))

    def _current_changed(self, *_args) -> None:
        self._sync_buttons()

    def _connect_current(self) -> None:
        self.connect_profile(self.current())

    def _disconnect_current(self) -> None:
        self.disconnect_profile(self.current())

    def _edit_current(self) -> None:
        self.edit_profile(self.current())

    def _duplicate_current(self) -> None:
        self.duplicate_profile(self.current())

    def _delete_current(self) -> None:
        self.delete_profile(self.current())

    def toggle(self, name: str | None) -> None:
        if name is None:
            return
        st = self.hub.status(name)
        if st is None or st.state in (State.FAILED, State.STOPPED):
            self.connect_profile(name)
        else:
            self.disconnect_profile(name)

    def connect_profile(self, name: str | None, *,
                        channels: list[str] | None = None) -> asyncio.Future | None:
        """Open the profile's listener in the hub (reopening a failed one)."""
        if name is None or self.store.get(name) is None:
            return None
        return self._spawn(self._reopen(name, channels=channels))

    async def _reopen(self, name: str, old_name: str | None = None,
                      channels: list[str] | None = None) -> None:
        for n in {name, old_name or name}:
            if n in self.hub.names():
                await self.hub.close(n)
        profile = self.store.get(name)
        if profile is None:
            return
        channels = list(channels or profile.channels)
        password = await asyncio.to_thread(self.secrets.get, name)  # keyring: a thread
        self._keyring_known()
        try:
            conninfo = profile.conninfo(password)
            if profile.uses_ssh:
                await open_through_tunnel(self, name, profile, channels, conninfo)
            else:
                self.hub.open(name, conninfo, channels)
        except (ValueError, ProfileError) as exc:
            self.show_notes([f"{name}: {exc}"])

    def disconnect_profile(self, name: str | None) -> asyncio.Future | None:
        if name is None or name not in self.hub.names():
            return None
        return self._spawn(self.hub.close(name))

    def _spawn(self, coro) -> asyncio.Future:
        return self.work.spawn(coro, on_error=lambda e: self.show_notes([e]))

    def _on_status(self, name: str, status: Status) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.UserRole) == name and self.store.get(name) is not None:
                item.setText(self._text(self.store.require(name)))
        self._sync_buttons()
        if (status.state is State.FAILED and needs_password(status.reason)
                and self.store.get(name) is not None and name not in self._asking):
            self._asking.add(name)
            self._pending.append((name, status.reason))
            # Not from inside the listener's task: a modal prompt runs its own event loop.
            QTimer.singleShot(0, self._ask_pending)

    def _ask_pending(self) -> None:
        while self._pending:
            name, reason = self._pending.pop(0)
            if self.password_prompt is None:
                self.password_dialogs[name] = self._open_password_dialog(name, reason)
                continue
            try:
                password = self.password_prompt(name, reason)
            finally:
                self._asking.discard(name)
            self._password_given(name, password)

    def _password_given(self, name: str, password: str | None) -> None:
        """Keep the password, then connect again: the one retry after a refused login."""
        if password:
            self.store_password(name, password,
                                then=lambda n=name: self.connect_profile(n))

    def _open_password_dialog(self, name: str, reason: str) -> QInputDialog:
        """The question, opened with open(): the window (and every other connection)
        goes on meanwhile; an answer connects again, Cancel leaves it failed."""
        profile = self.store.get(name)
        target = profile.target() if profile else name
        where = ("It is kept in memory until the program ends." if not self.secrets.persistent
                 else "It is saved in the system keyring.")
        dlg = QInputDialog(self)
        dlg.setWindowTitle(f"Password for {name}")
        dlg.setInputMode(QInputDialog.InputMode.TextInput)
        dlg.setTextEchoMode(QLineEdit.EchoMode.Password)
        dlg.setLabelText(f"{target}\n{reason}\n\nThe connection is not tried again until "
                         f"a password is given.\nPassword ({where})")
        for label in dlg.findChildren(QLabel):  # a long libpq message wraps
            label.setWordWrap(True)
        dlg.resize(520, dlg.sizeHint().height())
        dlg.textValueSelected.connect(lambda text, n=name: self._password_given(n, text))
        dlg.finished.connect(lambda _r, n=name: self._asking.discard(n))
        dlg.open()
        return dlg


class ProfilesPart:
    """The Profiles dock and its Connection menu entries; the event table shows each
    profile's colour."""

    name = "profiles"

    def __init__(self, store: ProfileStore | None = None) -> None:
        self.store = store
        self.panel: ProfilesPanel | None = None
        self.dock = None
        self.colors: ProfileColorSync | None = None

    def attach(self, window) -> None:
        panel = self.panel = ProfilesPanel(window.hub, self.store, parent=window)
        self.dock = window.add_dock(panel, "Profiles", Qt.LeftDockWidgetArea,
                                    name="dock-profiles")
        self.colors = ProfileColorSync(window.hub, window.event_model, window)
        menu = window.menu_connection
        first = menu.actions()[0] if menu.actions() else None
        new = QAction("&New profile…", window, triggered=panel.new_profile_action)
        menu.insertAction(first, new)
        menu.insertMenu(first, panel.import_menu)
        menu.insertSeparator(first)

    async def shutdown(self) -> None:
        if self.panel is not None:
            await self.panel.work.stop()

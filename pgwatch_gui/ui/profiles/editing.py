"""The Profiles dock's editing half: new, edit, duplicate and delete (imports: imports.py).

A mixin of ProfilesPanel (ui/profiles/panel.py), which owns the list, the store, the
secrets and the connections these actions use.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from pgwatch_gui.core.profiles.model import Profile, ProfileError
from pgwatch_gui.core.profiles.store import ProfileStoreError
from pgwatch_gui.ui.profiles.dialog import ProfileDialog


class ProfileEditing:

    def _open_dialog(self, dialog: ProfileDialog, old_name: str | None) -> ProfileDialog:
        self.dialog = dialog
        dialog.accepted.connect(self._dialog_accepted)
        dialog.finished.connect(self._dialog_finished)
        dialog.open()
        return dialog

    def _dialog_accepted(self) -> None:
        dialog = self.sender()
        if isinstance(dialog, ProfileDialog):
            self._save(dialog, dialog.original.name if dialog.original else None)

    def _dialog_finished(self, _result: int) -> None:
        dialog = self.sender()
        if dialog is self.dialog:
            self.dialog = None
        if dialog is not None:
            dialog.deleteLater()

    def new_profile_action(self) -> ProfileDialog:
        return self.new_profile()

    def new_profile(self, template: Profile | None = None, password: str | None = None,
                    *, paste: bool = False) -> ProfileDialog:
        dlg = ProfileDialog(self, template=template, password=password, secrets=self.secrets,
                            taken_names=self.store.names(),
                            used_colors=[p.color for p in self.store.profiles])
        self._open_dialog(dlg, None)
        if paste:
            QTimer.singleShot(0, dlg._ask_uri)
        return dlg

    def edit_profile(self, name: str | None) -> ProfileDialog | None:
        if name is None or self.store.get(name) is None:
            return None
        dlg = ProfileDialog(self, profile=self.store.require(name), secrets=self.secrets,
                            taken_names=self.store.names())
        return self._open_dialog(dlg, name)

    def _save(self, dialog: ProfileDialog, old_name: str | None) -> None:
        profile = dialog.validated_profile()
        if profile is None:
            return
        was_open = old_name is not None and old_name in self.hub.names()
        try:
            if old_name is None:
                self.store.add(profile)
            else:
                self.store.update(old_name, profile, move_secrets=False)
        except (ProfileError, ProfileStoreError) as exc:
            QMessageBox.warning(self, "Profile not saved", str(exc))
            return
        self.refresh()
        self.select(profile.name)

        def reopen() -> None:
            if was_open:  # the connection follows the edit (a rename, new channels...)
                self._spawn(self._reopen(profile.name, old_name))

        # The keyring is written in a worker thread: the SSH secret (passphrase or
        # password, its own keyring service), then the password; the connection reopens
        # after both.
        change = dialog.password_change  # read now: the dialog is deleted when it closes

        def save_password(_result=None) -> None:
            if change:
                self.store_password(profile.name, change, then=reopen, lasting=True)
            elif change == "":
                self.forget_password(profile.name, then=reopen)
            else:
                reopen()

        ssh_change = dialog.ssh_secret_change

        def save_ssh_secret(_result=None) -> None:
            if ssh_change:
                self.work.in_thread(self.store.ssh_secrets.set, profile.name, ssh_change,
                                    on_done=save_password,
                                    on_error=lambda e: self.show_notes([e]))
            elif ssh_change == "":
                self.work.in_thread(self.store.ssh_secrets.delete, profile.name,
                                    on_done=save_password)
            else:
                save_password()

        if old_name is not None and old_name != profile.name:  # a rename moves the secrets
            self.work.in_thread(self.store.move_secrets, old_name, profile.name,
                                on_done=save_ssh_secret,
                                on_error=lambda e: self.show_notes([e]))
        else:
            save_ssh_secret()

    def duplicate_profile(self, name: str | None) -> Profile | None:
        if name is None:
            return None
        try:
            copy = self.store.duplicate(name, copy_secrets=False)
        except (ProfileError, ProfileStoreError) as exc:
            QMessageBox.warning(self, "Duplicate", str(exc))
            return None
        self.work.in_thread(self.store.copy_secrets, name, copy.name,  # keyring: a thread
                            on_error=lambda e: self.show_notes([e]))
        self.refresh()
        self.select(copy.name)
        return copy

    def delete_profile(self, name: str | None) -> bool:
        if name is None or self.store.get(name) is None:
            return False
        answer = QMessageBox.question(
            self, "Delete profile",
            f"Delete the profile {name!r} and its stored password?\n"
            "Triggers and data in the database are not touched.",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        if answer != QMessageBox.Yes:
            return False
        self.disconnect_profile(name)
        try:
            self.store.remove(name, forget_secrets=False)
        except ProfileStoreError as exc:
            QMessageBox.warning(self, "Delete profile", str(exc))
            return False
        self.work.in_thread(self.store.forget_secrets, name,  # keyring: a thread
                            on_error=lambda e: self.show_notes([e]))
        self.refresh()
        return True

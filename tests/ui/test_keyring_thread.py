"""The keyring is never called on the GUI thread by the Profiles dock; a password the
keyring refuses is said to stay in memory; keyring trouble is told in words."""

from __future__ import annotations

import threading

import keyring.errors
import pytest
from keyring.backends import fail

from pgwatch_gui.core.profiles.secrets import SecretStore, set_default_store
from pgwatch_gui.ui.shell.main_window import MainWindow
from tests.keyring_backend import TempFileKeyring
from tests.ui.test_profiles_panel import add_profile
from tests.ui.waiting import run_until


class WatchedKeyring(TempFileKeyring):
    """Records the thread of every call; can refuse to store."""

    refuse = False

    def __init__(self, path):
        super().__init__(path)
        self.threads: list[str] = []

    def _note(self):
        self.threads.append(threading.current_thread().name)

    def get_password(self, service, username):
        self._note()
        return super().get_password(service, username)

    def set_password(self, service, username, password):
        self._note()
        if self.refuse:
            raise keyring.errors.PasswordSetError("the collection is locked")
        return super().set_password(service, username, password)


@pytest.fixture
def watched(tmp_path, monkeypatch):
    monkeypatch.setenv("PGWATCH_CONFIG_DIR", str(tmp_path / "config"))
    backend = WatchedKeyring(tmp_path / "keyring.json")
    set_default_store(SecretStore(backend))
    yield backend
    set_default_store(None)


def test_connecting_reads_the_keyring_off_the_gui_thread(qloop, qtbot, watched, pg_dsn):
    add_profile("one", pg_dsn, ["c"])
    watched.threads.clear()
    win = MainWindow()
    qtbot.addWidget(win)
    panel = win.profiles_panel
    panel.connect_profile("one")
    run_until(qloop, lambda: win.hub.is_listening("one"))
    qloop.run_until_complete(win.shutdown())
    assert watched.threads, "the keyring was not asked"
    main = threading.main_thread().name
    assert main not in watched.threads, watched.threads


def test_a_refused_save_is_told_and_the_failure_shown_in_words(qloop, qtbot, watched, pg_dsn):
    add_profile("one", pg_dsn, ["c"])
    win = MainWindow()
    qtbot.addWidget(win)
    panel = win.profiles_panel
    watched.refuse = True
    watched.threads.clear()
    panel.store_password("one", "s3cret")
    run_until(qloop, lambda: "did not take the password" in panel.banner.text())
    text = panel.banner.text()
    assert "kept in memory for this session only" in text
    assert "the collection is locked" in text and "stopped working" in text
    assert "keyring.backends" not in text and "s3cret" not in text
    assert threading.main_thread().name not in watched.threads
    assert panel.secrets.in_session_only("one")
    qloop.run_until_complete(win.shutdown())


def test_no_keyring_is_said_in_words(qloop, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("PGWATCH_CONFIG_DIR", str(tmp_path / "config"))
    set_default_store(SecretStore(fail.Keyring()))
    try:
        win = MainWindow()
        qtbot.addWidget(win)
        text = win.profiles_panel.banner.text()
        # issue 21: a saved password goes to libpq's password file, and the banner says so
        assert text.startswith("No usable keyring on this system: a password saved in a "
                               "profile goes to ")
        assert "pgpass (mode 0600)" in text and "session only" in text
        assert "keyring.backends" not in text and "Keyring)" not in text
        qloop.run_until_complete(win.shutdown())
    finally:
        set_default_store(None)


class EveryCallWatched(WatchedKeyring):
    def delete_password(self, service, username):
        self._note()
        return super().delete_password(service, username)


@pytest.fixture
def every_call(tmp_path, monkeypatch):
    monkeypatch.setenv("PGWATCH_CONFIG_DIR", str(tmp_path / "config"))
    backend = EveryCallWatched(tmp_path / "keyring.json")
    set_default_store(SecretStore(backend))
    yield backend
    set_default_store(None)


def test_duplicate_rename_and_delete_touch_the_keyring_off_the_gui_thread(
        qloop, qtbot, every_call, pg_dsn):
    add_profile("one", pg_dsn, ["c"])
    win = MainWindow()
    qtbot.addWidget(win)
    panel = win.profiles_panel
    panel.store_password("one", "s3cret")
    qloop.run_until_complete(panel.work.wait())
    every_call.threads.clear()

    copy = panel.duplicate_profile("one")
    qloop.run_until_complete(panel.work.wait())
    assert copy.name == "one (copy)" and panel.secrets.get("one (copy)") == "s3cret"

    dlg = panel.edit_profile("one (copy)")
    dlg.edits["name"].setText("two")
    dlg.accept()
    qloop.run_until_complete(panel.work.wait())
    assert panel.secrets.get("two") == "s3cret"

    from PySide6.QtWidgets import QMessageBox
    original = QMessageBox.question
    QMessageBox.question = lambda *a, **k: QMessageBox.Yes
    try:
        assert panel.delete_profile("two")
    finally:
        QMessageBox.question = original
    qloop.run_until_complete(panel.work.wait())
    assert panel.secrets.get("two") is None
    assert every_call.threads, "the keyring was not asked"
    assert threading.main_thread().name not in every_call.threads, every_call.threads


def test_testing_a_saved_profile_reads_its_password_off_the_gui_thread(
        qloop, qtbot, watched, pg_dsn):
    add_profile("one", pg_dsn, ["c"])
    SecretStore(watched).set("one", "s3cret")  # in the keyring, not in the window's cache
    win = MainWindow()
    qtbot.addWidget(win)
    panel = win.profiles_panel
    qloop.run_until_complete(panel.work.wait())
    watched.threads.clear()
    dlg = panel.edit_profile("one")
    dlg.tester.start()
    report = qloop.run_until_complete(dlg.tester.wait())
    assert report is not None and report.ok, report
    assert watched.threads and threading.main_thread().name not in watched.threads
    dlg.reject()
    qloop.run_until_complete(win.shutdown())

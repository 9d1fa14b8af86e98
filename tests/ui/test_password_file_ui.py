"""The profile dialog without a usable keyring: a saved password goes to libpq's password
file and the window says where (issue 21; it said "memory for this session only")."""

from __future__ import annotations

import os

import pytest
from keyring.backends import fail

from pgwatch_gui.core.profiles.secrets import SecretStore, set_default_store
from pgwatch_gui.core.profiles.store import ProfileStore
from pgwatch_gui.ui.shell.main_window import MainWindow


@pytest.fixture
def no_keyring_window(qtbot, qloop, tmp_path, monkeypatch):
    monkeypatch.setenv("PGWATCH_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "pgpass"))
    set_default_store(SecretStore(fail.Keyring()))
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()
    qtbot.waitExposed(win)
    yield win
    qloop.run_until_complete(win.shutdown())
    set_default_store(None)


def test_a_saved_password_goes_to_the_password_file_and_the_window_says_so(
        no_keyring_window, qloop, tmp_path):
    panel = no_keyring_window.profiles_panel
    passfile = tmp_path / "pgpass"
    dlg = panel.new_profile()
    dlg.edits["name"].setText("shop")
    assert dlg.apply_uri("postgresql://bob:S3cr3t:pw@db.example.com:6432/app")
    assert f"goes to {passfile} (mode 0600)" in dlg.password_note.text()
    dlg.grab().save(str(tmp_path / "dialog-no-keyring.png"))
    dlg.accept()
    qloop.run_until_complete(panel.work.wait())
    assert passfile.read_text() == "db.example.com:6432:app:bob:S3cr3t\\:pw\n"
    assert oct(os.stat(passfile).st_mode & 0o777) == "0o600"
    assert b"S3cr3t" not in ProfileStore().path.read_bytes()
    text = panel.banner.text()
    assert f"shop: no usable keyring: the password went to {passfile}" in text
    assert "S3cr3t" not in text
    no_keyring_window.grab().save(str(tmp_path / "window-no-keyring.png"))

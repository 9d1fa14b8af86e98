"""The window's own files are its user's alone (umask 022): the settings file (it keeps
the last payload sent) 0600 in our 0700 folder, and what an older version left 0644 in
the data folder is tightened when the window starts."""

from __future__ import annotations

import os
import stat

import pytest
from PySide6.QtCore import QSettings

from pgwatch_gui.core.host.private_files import PASSABLE_DIR_MODE
from pgwatch_gui.ui.shell.main_window import MainWindow

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def as_the_app(qapp):
    """The organization name the app sets (ui/shell/app.py), so that the settings file
    lands in a folder of ours, as it does on Linux (~/.config/pgwatch-gui/)."""
    old = qapp.organizationName(), qapp.applicationName()
    qapp.setOrganizationName("pgwatch-gui")
    qapp.setApplicationName("pgwatch-gui")
    yield
    qapp.setOrganizationName(old[0])
    qapp.setApplicationName(old[1])


def test_settings_file_and_data_folder_are_private(qtbot, qloop, tmp_path, monkeypatch,
                                                   umask_022, as_the_app):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm"):
        (data / name).write_text("")  # as an older version left them: 0644 in 0755
    assert mode(data) == 0o755 and mode(data / "journal.sqlite3") == 0o644
    monkeypatch.setenv("PGWATCH_DATA_DIR", str(data))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "config"))
    w = MainWindow()
    qtbot.addWidget(w)
    try:
        s = QSettings()
        s.setValue("send/payload", "the last payload sent")
        s.sync()
        settings = s.fileName()
        assert settings.startswith(str(tmp_path / "config" / "pgwatch-gui"))
        assert mode(settings) == 0o600
        assert mode(os.path.dirname(settings)) == 0o700
        w.history.link.secured.join(5)
        assert mode(data) == (PASSABLE_DIR_MODE if os.geteuid() == 0 else 0o700)
        for p in data.iterdir():
            assert mode(p) == 0o600, p
    finally:
        qloop.run_until_complete(w.shutdown())

"""The main window as the UI tests open it."""

from __future__ import annotations


def shown_window(qtbot, settings_dir, size: tuple[int, int] = (1400, 860)):
    """A MainWindow shown at `size`, its QSettings kept in `settings_dir` (never the
    user's). Whoever runs its loop shuts it down (`qloop.run_until_complete(w.shutdown())`)."""
    from PySide6.QtCore import QSettings

    from pgwatch_gui.ui.shell.main_window import MainWindow

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(settings_dir))
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    return w

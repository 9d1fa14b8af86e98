"""Logging: a rotating file in the user log folder (PGWATCH_LOG_DIR overrides it), every
unexpected exception in it with its traceback, Help > Open log folder."""

from __future__ import annotations

import subprocess
import sys

from pgwatch_gui.core.host.applog import LOG_FILE, log_dir, remove_logging, setup_logging
from pgwatch_gui.ui.common.tasks import AsyncWork
from tests.conftest import cli_env
from tests.ui.waiting import run_until


def test_uncaught_exceptions_land_in_the_log_file(tmp_path):
    code = ("import threading\n"
            "from pgwatch_gui.core.host.applog import setup_logging\n"
            "setup_logging()\n"
            "t = threading.Thread(target=lambda: 1 / 0, name='worker'); t.start(); t.join()\n"
            "raise ValueError('boom in main')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=cli_env(PGWATCH_LOG_DIR=str(tmp_path)), timeout=60)
    assert r.returncode == 1
    text = (tmp_path / LOG_FILE).read_text()
    assert "Traceback" in text and "ValueError: boom in main" in text
    assert "uncaught exception in thread worker" in text and "ZeroDivisionError" in text


def test_a_supervised_task_failure_lands_in_the_log_file(qloop, tmp_path, monkeypatch):
    monkeypatch.setenv("PGWATCH_LOG_DIR", str(tmp_path))
    handler = setup_logging()
    try:
        work = AsyncWork()
        failed = []

        async def job():
            raise KeyError("lost key")

        work.supervise("the job", job, retries=0, on_failed=failed.append)
        run_until(qloop, lambda: failed)
    finally:
        remove_logging(handler)
    text = (tmp_path / LOG_FILE).read_text()
    assert "the job failed" in text and "KeyError: 'lost key'" in text and "Traceback" in text


def test_help_opens_the_log_folder(qloop, qtbot, monkeypatch, tmp_path):
    from PySide6.QtGui import QDesktopServices

    from pgwatch_gui.ui.shell.main_window import MainWindow

    monkeypatch.setenv("PGWATCH_LOG_DIR", str(tmp_path / "logs"))
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    window = MainWindow()
    qtbot.addWidget(window)
    texts = [a.text() for a in window.menu_help.actions()]
    assert "Open &log folder" in texts
    window.action_log_folder.trigger()
    assert opened and opened[0].toLocalFile() == str(log_dir())
    assert (tmp_path / "logs").is_dir()

"""Help > About shows the versions that matter; --smoke round-trips a notification."""

from __future__ import annotations

import psycopg
import PySide6
from PySide6.QtCore import qVersion

from pgwatch_gui import __version__
from pgwatch_gui.core.pg.connection import make_conninfo
from pgwatch_gui.core.pg.versions import format_pg_version
from pgwatch_gui.ui.shell.about import AboutDialog, show_about
from pgwatch_gui.ui.shell.main_window import MainWindow
from tests.conftest import run_cli


def test_format_pg_version():
    assert format_pg_version(170005) == "17.5"
    assert format_pg_version(180000) == "18.0"
    assert format_pg_version(90624) == "9.6.24"
    assert format_pg_version(0) == "unknown"


def test_about_shows_versions_and_the_server(qloop, qtbot, pg_dsn, db):
    window = MainWindow()
    qtbot.addWidget(window)
    window.hub.open("Local", make_conninfo(pg_dsn), ["x"])
    dialog = AboutDialog(window.hub, window)
    qtbot.addWidget(dialog)
    qloop.run_until_complete(dialog.refresh_servers())
    rows = dict(dialog.rows())
    assert rows["pgwatch-gui"].startswith(__version__)
    assert rows["Qt"] == qVersion()
    assert rows["PySide6"] == PySide6.__version__
    assert rows["psycopg"].startswith(psycopg.__version__)
    assert rows["libpq"] == format_pg_version(psycopg.pq.version())
    server = db.execute("SHOW server_version").fetchone()[0]
    assert rows["Server (Local)"] == f"PostgreSQL {server}"
    dialog.copy()
    from PySide6.QtGui import QGuiApplication

    assert f"Server (Local): PostgreSQL {server}" in QGuiApplication.clipboard().text()
    qloop.run_until_complete(window.hub.close_all())


def test_about_from_the_help_menu(qloop, qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    about = next(a for a in window.menu_help.actions() if "About" in a.text())
    about.trigger()
    dialog = window.findChild(AboutDialog)
    assert dialog is not None and dialog.isVisible()
    assert "Server (" not in dialog.as_text()  # no connection open
    dialog.close()
    assert show_about(window).windowTitle() == "About pgwatch-gui"


def test_about_says_when_a_server_is_unreachable(qloop, qtbot, tmp_path):
    window = MainWindow()
    qtbot.addWidget(window)
    window.hub.open("Gone", f"host={tmp_path} port=1", [])
    dialog = AboutDialog(window.hub, window)
    qloop.run_until_complete(dialog.refresh_servers())
    assert dict(dialog.rows())["Server (Gone)"].startswith("unreachable: ")
    qloop.run_until_complete(window.hub.close_all())


def test_smoke_ok(pg_server):
    r = run_cli("--smoke", "--dsn", pg_server)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ok\n"


def test_smoke_on_the_embedded_demo_server(tmp_path):
    r = run_cli("--smoke", PGWATCH_DATA_DIR=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ok\n"
    assert not (tmp_path / "demo" / "demo.lock").exists()


def test_smoke_fails_in_one_line(tmp_path):
    r = run_cli("--smoke", "--dsn", f"host={tmp_path} port=1")
    assert r.returncode == 1
    assert r.stdout == "" and r.stderr.count("\n") == 1
    assert r.stderr.startswith("pgwatch-gui: smoke failed: ")

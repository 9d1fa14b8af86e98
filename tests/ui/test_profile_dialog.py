"""ProfileDialog with qtbot: the form, paste URI, and Test connection against the real server."""

from __future__ import annotations

import asyncio
import os
import socket

import psycopg
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QTabWidget

from pgwatch_gui.core.profiles.model import Profile
from pgwatch_gui.core.profiles.secrets import SecretStore
from pgwatch_gui.ui.profiles.dialog import ProfileDialog
from tests.conftest import dsn_for
from tests.keyring_backend import TempFileKeyring
from tests.ui.waiting import run_until

SHOTS = "/tmp/shots/issue4"
AWKWARD = "p@ss:w/rd%"


def shot(widget, name):
    os.makedirs(SHOTS, exist_ok=True)
    widget.grab().save(os.path.join(SHOTS, name))


@pytest.fixture
def secrets(tmp_path):
    return SecretStore(TempFileKeyring(tmp_path / "kr.json"))


@pytest.fixture
def dialog(qtbot, qloop, secrets):
    dlg = ProfileDialog(secrets=secrets, taken_names=["taken"])
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def fill_from_dsn(dlg, name, dsn):
    dlg.edits["name"].setText(name)
    assert dlg.apply_uri(dsn), dlg.error.text()


def test_form_round_trip(qtbot, qloop, secrets):
    p = Profile("prod", host="db", port=6432, dbname="app", user="bob", sslmode="verify-full",
                sslrootcert="/ca.pem", channel_binding="require", connect_timeout=7,
                channels=["orders", "Order Events"], auto_connect=True, color="#d62728",
                uri="target_session_attrs=read-write", extra={"future": 1})
    dlg = ProfileDialog(profile=p, secrets=secrets, taken_names=["prod", "other"])
    qtbot.addWidget(dlg)
    assert dlg.profile() == p
    assert dlg.windowTitle() == "Edit profile prod"
    assert dlg.password_change is None  # nothing typed: keep what is stored
    dlg.show()
    tabs = dlg.findChild(QTabWidget)
    for i, name in enumerate(("connection", "ssl", "listening")):
        tabs.setCurrentIndex(i)
        shot(dlg, f"profile_dialog_{name}_tab.png")


def test_paste_uri_fills_fields_and_password(dialog):
    fill_from_dsn(dialog, "", f"postgresql://bob:{AWKWARD}@db.example.com:5433/app"
                              "?sslmode=require")
    p = dialog.profile()
    assert (p.host, p.port, p.dbname, p.user, p.sslmode) == (
        "db.example.com", 5433, "app", "bob", "require")
    assert p.name == "bob@db.example.com:5433/app"  # a name is suggested
    assert dialog.password_change == AWKWARD
    assert AWKWARD not in str(p.to_dict())
    assert not dialog.apply_uri("postgresql://h/db?bogus=1")
    assert "bogus" in dialog.error.text()


def test_ok_refuses_invalid_or_taken_names(dialog):
    dialog.edits["host"].setText("h")
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    assert dialog.isVisible() and "needs a name" in dialog.error.text()
    dialog.edits["name"].setText("taken")
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    assert dialog.isVisible() and "exists already" in dialog.error.text()
    dialog.edits["name"].setText("fresh")
    dialog.channels.setPlainText("ok\n\n  spaced name  \n")
    dialog.buttons.button(QDialogButtonBox.Ok).click()
    assert not dialog.isVisible() and dialog.result() == ProfileDialog.Accepted
    assert dialog.profile().channels == ["ok", "spaced name"]


def test_stored_password_can_be_kept_or_forgotten(qtbot, qloop, secrets):
    secrets.set("prod", "pw")
    dlg = ProfileDialog(profile=Profile("prod", host="h"), secrets=secrets)
    qtbot.addWidget(dlg)
    dlg.show()
    # whether a password is stored is asked of the keyring in a worker thread
    run_until(qloop, dlg.forget_password.isVisible)
    assert dlg.forget_password.isVisible()
    assert "stored" in dlg.password.placeholderText()
    assert dlg.password_change is None
    dlg.forget_password.setChecked(True)
    assert dlg.password_change == ""
    dlg.password.setText("new")
    assert dlg.password_change == "new"


def test_no_keyring_note(qtbot):
    dlg = ProfileDialog(secrets=SecretStore(fail.Keyring()))
    qtbot.addWidget(dlg)
    assert "goes to " in dlg.password_note.text() and "pgpass (mode 0600)" in \
        dlg.password_note.text()  # where libpq finds it (issue 21), not memory only


def test_connection_test_against_the_server(dialog, qloop, pg_dsn):
    fill_from_dsn(dialog, "local", pg_dsn)
    dialog.channels.setPlainText("orders")
    dialog.tester.test_button.click()
    assert dialog.tester.running and dialog.tester.cancel_button.isEnabled()
    report = qloop.run_until_complete(dialog.tester.wait())
    assert report.ok and report.listen_works
    text = dialog.tester.result.text()
    assert "Server: PostgreSQL" in text and "self-test: passed" in text
    assert "Hot standby: no" in text and "Notification queue" in text
    assert dialog.tester.status.text() == "Connected."
    assert dialog.tester.test_button.isEnabled()
    shot(dialog, "profile_dialog_test_ok.png")


def test_failed_connection_test_shows_the_servers_message(dialog, qloop, pg_server):
    fill_from_dsn(dialog, "broken", dsn_for(pg_server, dbname="no_such_database_here"))
    dialog.tester.start()
    report = qloop.run_until_complete(dialog.tester.wait())
    assert not report.ok
    text = dialog.tester.result.text()
    assert "Connection failed" in text
    assert "database &quot;no_such_database_here&quot; does not exist" in text
    assert dialog.tester.status.text() == "Could not connect."
    shot(dialog, "profile_dialog_test_failed.png")


def test_connection_test_uses_the_stored_password(qtbot, qloop, secrets, pg_server):
    from tests.pgroles import password_role

    with password_role(pg_server, AWKWARD) as role:
        secrets.set("pw", AWKWARD)
        profile = Profile("pw", host=psycopg.conninfo.conninfo_to_dict(pg_server)["host"],
                          user=role, dbname="postgres")
        dlg = ProfileDialog(profile=profile, secrets=secrets)
        qtbot.addWidget(dlg)
        dlg.tester.start()
        assert qloop.run_until_complete(dlg.tester.wait()).ok
        dlg.forget_password.setChecked(True)  # as the form now says: no password
        dlg.tester.start()
        report = qloop.run_until_complete(dlg.tester.wait())
        assert not report.ok and "no password supplied" in report.error
        assert AWKWARD not in dlg.tester.result.text()


@pytest.fixture
def silent_port():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    yield srv.getsockname()[1]
    srv.close()


def test_cancel_and_timeout(dialog, qloop, silent_port):
    dialog.edits["name"].setText("silent")
    dialog.edits["host"].setText("127.0.0.1")
    dialog.port.setText(str(silent_port))
    dialog.edits["uri"].setText("gssencmode=disable")
    dialog.sslmode.setCurrentIndex(1)  # disable
    dialog.tester.start()
    assert dialog.tester.status.text().startswith("Testing")
    qloop.run_until_complete(asyncio.sleep(0.2))
    dialog.tester.cancel_button.click()
    assert qloop.run_until_complete(dialog.tester.wait()) is None
    assert dialog.tester.status.text() == "Test cancelled."
    assert dialog.tester.test_button.isEnabled()
    dialog.tester._timeout = lambda: 0.5  # a plain function: kept as it is
    dialog.tester.start()
    report = qloop.run_until_complete(dialog.tester.wait())
    assert not report.ok and "timed out" in report.error
    assert "timed out" in dialog.tester.result.text()


def test_closing_the_dialog_cancels_a_running_test(dialog, qloop, silent_port):
    dialog.edits["name"].setText("x")
    dialog.edits["uri"].setText(f"host=127.0.0.1 port={silent_port} sslmode=disable "
                                "gssencmode=disable")
    dialog.tester.start()
    task = dialog.tester.task
    dialog.reject()
    qloop.run_until_complete(asyncio.sleep(0.05))
    assert task.cancelled()


def walk_tab(qtbot, dlg, start, steps):
    from PySide6.QtWidgets import QApplication

    dlg.activateWindow()
    start.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is start)
    seen = [start]
    for _ in range(steps):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    return seen


def test_tab_walks_the_fields_in_the_order_they_are_shown(qtbot, dialog):
    """Tab used to skip Port and put Password after Other parameters: a password typed in
    field order landed in 'Other parameters', in clear text."""
    e = dialog.edits
    seen = walk_tab(qtbot, dialog, e["host"], 6)
    assert seen == [e["host"], dialog.port, e["dbname"], e["user"], dialog.password,
                    e["service"], e["uri"]]
    # Typing the fields in that order puts each where it belongs.
    from PySide6.QtWidgets import QApplication

    e["host"].setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is e["host"])
    for text in ("db.example.com", "5433", "app", "bob", "s3cret"):
        qtbot.keyClicks(QApplication.focusWidget(), text)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    p = dialog.profile()
    assert (p.host, p.port, p.dbname, p.user, p.uri) == ("db.example.com", 5433, "app", "bob",
                                                         "")
    assert dialog.password_change == "s3cret"


def test_tab_on_the_other_tabs_follows_the_form(qtbot, dialog):
    dialog.tabs.setCurrentIndex(1)
    e = dialog.edits
    seen = walk_tab(qtbot, dialog, dialog.sslmode, 2)
    assert seen == [dialog.sslmode, e["sslrootcert"], dialog._browse_buttons["sslrootcert"]]
    dialog.tabs.setCurrentIndex(2)
    seen = walk_tab(qtbot, dialog, dialog.channels, 3)
    assert seen == [dialog.channels, dialog.auto_connect, e["application_name"],
                    dialog.connect_timeout]


def test_an_unknown_sslmode_is_refused_never_weakened(dialog):
    """verify-ful raised an uncaught ValueError and left the form at 'prefer'."""
    assert dialog.apply_uri("postgresql://bob@db.example.com/app?sslmode=verify-full")
    assert dialog.profile().sslmode == "verify-full"
    assert not dialog.apply_uri("postgresql://eve@other.example.com/x?sslmode=verify-ful")
    assert "verify-ful" in dialog.error.text() and "verify-full" in dialog.error.text()
    assert dialog.error.text().startswith("Not applied:")
    p = dialog.profile()  # nothing of the bad URI was applied
    assert (p.host, p.user, p.dbname, p.sslmode) == ("db.example.com", "bob", "app",
                                                     "verify-full")
    assert not dialog.apply_uri("host=h channel_binding=requir")
    assert "requir" in dialog.error.text()
    # A later good paste clears the complaint.
    assert dialog.apply_uri("postgresql://bob@db2.example.com/app?sslmode=require")
    assert dialog.error.text() == ""
    assert dialog.profile().sslmode == "require"


def test_a_good_paste_clears_a_stale_test_result(dialog, qloop):
    dialog.tester.status.setText("Could not connect.")
    dialog.tester.result.setText("connection refused")
    assert dialog.apply_uri("postgresql://bob@db3.example.com/app")
    assert dialog.tester.status.text() == "" and dialog.tester.result.text() == ""

"""SSH in the window: the dialog's SSH tab, Test connection step by step through a real
sshd (with the unknown host key asked about, non-modally), connecting an SSH profile
from the dock, and More → Import from pgAdmin / DBeaver."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from pgwatch_gui.core.pg.notify import send_notify
from pgwatch_gui.core.profiles.imports import profile_from_dsn
from pgwatch_gui.core.profiles.model import Profile
from pgwatch_gui.core.profiles.secrets import SecretStore
from pgwatch_gui.core.profiles.store import ProfileStore
from pgwatch_gui.core.ssh.settings import AUTH_KEY, AUTH_PASSWORD
from pgwatch_gui.ui.profiles.dialog import ProfileDialog
from pgwatch_gui.ui.profiles.imports import import_tool_file
from pgwatch_gui.ui.shell.main_window import MainWindow
from tests.keyring_backend import TempFileKeyring
from tests.ui.waiting import run_until

SHOTS = "/tmp/shots/issue15"
FIXTURES = Path(__file__).parent.parent / "core" / "import_fixtures"


def shot(widget, name):
    os.makedirs(SHOTS, exist_ok=True)
    widget.grab().save(os.path.join(SHOTS, name))


@pytest.fixture
def secrets(tmp_path):
    return SecretStore(TempFileKeyring(tmp_path / "kr.json"))


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("PGWATCH_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


def ssh_profile(dsn, server, name="far") -> Profile:
    profile, _ = profile_from_dsn(name, dsn)
    profile.ssh_host, profile.ssh_port, profile.ssh_user = "127.0.0.1", server.port, server.user
    profile.ssh_auth, profile.ssh_key = AUTH_KEY, str(server.user_key_path)
    profile.channels = ["jobs"]
    return profile


async def notify_async(conninfo, channel, payload):
    """Through the tunnel, which lives on this loop (a blocking connect would starve it)."""
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        await send_notify(conn, channel, payload)


def host_key_box():
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QMessageBox) and w.objectName() == "ssh-host-key-question" \
                and w.isVisible():
            return w
    return None


def test_ssh_tab_round_trip_and_secret_apart(qtbot, qloop, secrets):
    p = Profile("far", host="db.internal", dbname="app", ssh_host="bastion", ssh_port=2222,
                ssh_user="deploy", ssh_auth=AUTH_PASSWORD, color="#2ca02c")
    dlg = ProfileDialog(profile=p, secrets=secrets, taken_names=["far"])
    qtbot.addWidget(dlg)
    assert dlg.profile() == p
    assert dlg.ssh_secret_change is None  # nothing typed: keep what is stored
    dlg.ssh.secret.setText("tunnel pw")
    assert dlg.ssh_secret_change == "tunnel pw"
    assert "tunnel pw" not in repr(dlg.profile().to_dict())
    dlg.ssh.enabled.setChecked(False)
    off = dlg.profile()
    assert (off.ssh_host, off.ssh_port, off.ssh_auth) == ("", None, "")
    assert dlg.ssh_secret_change == ""  # tunnel off: the stored secret goes


def test_test_connection_reports_the_tunnel_step_by_step(
        qtbot, qloop, secrets, sshd, ssh_home, pg_tcp_dsn):
    dlg = ProfileDialog(template=ssh_profile(pg_tcp_dsn, sshd), secrets=secrets)
    qtbot.addWidget(dlg)
    dlg.resize(1280, 720)
    dlg.show()
    dlg.tabs.setCurrentWidget(dlg.ssh)
    dlg.tester.start()
    run_until(qloop, lambda: host_key_box() is not None, 20)
    box = host_key_box()
    assert sshd.host_key_fingerprint() in box.informativeText()
    text = dlg.tester.result.text()
    assert "SSH server reachable" in text and "unknown host key" in text
    assert not (ssh_home / ".ssh" / "known_hosts").exists()
    shot(dlg, "ssh_unknown_host_key.png")
    shot(box, "ssh_host_key_question.png")
    box.button(QMessageBox.Yes).click()
    run_until(qloop, lambda: dlg.tester.last_report is not None
              and dlg.tester.last_report.host_key_unknown is None and not dlg.tester.running, 30)
    report = dlg.tester.last_report
    assert report.ok, report.error
    lines = [t for _, t in report.findings()]
    assert lines[0].startswith("SSH server reachable")
    assert any(t.startswith("SSH host key") for t in lines)
    assert any(t.startswith("SSH login accepted") for t in lines)
    assert any(t.startswith("Forwarded: 127.0.0.1:") for t in lines)
    assert "PostgreSQL answered" in lines
    assert (ssh_home / ".ssh" / "known_hosts").read_text() == sshd.known_hosts_line()
    shot(dlg, "ssh_test_connection.png")


def test_profile_connects_through_its_tunnel_from_the_dock(
        qtbot, qloop, config, sshd, ssh_home, pg_tcp_dsn):
    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.known_hosts_line())
    ProfileStore.open().add(ssh_profile(pg_tcp_dsn, sshd))
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()
    panel = win.profiles_panel
    try:
        panel.select("far")
        panel.actions["connect"].trigger()
        run_until(qloop, lambda: win.hub.is_listening("far"), 20)
        conninfo = win.hub.conninfo("far")  # what the console and queue monitor use
        assert "hostaddr=127.0.0.1" in conninfo
        qloop.run_until_complete(notify_async(conninfo, "jobs", "via the bastion"))
        run_until(qloop, lambda: win.event_model.rowCount() >= 1)
        assert win.event_model.event(0).payload == "via the bastion"
        assert "via ssh" in panel.item_text("far")
        shot(win, "main_window_ssh_profile.png")
    finally:
        qloop.run_until_complete(win.shutdown())


def test_unknown_host_key_asked_before_connecting(qtbot, qloop, config, sshd, ssh_home,
                                                  pg_tcp_dsn):
    ProfileStore.open().add(ssh_profile(pg_tcp_dsn, sshd))
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    panel = win.profiles_panel
    try:
        panel.connect_profile("far")
        run_until(qloop, lambda: host_key_box() is not None, 20)
        assert "far" not in win.hub.names()  # nothing connects before the user answers
        host_key_box().button(QMessageBox.Yes).click()
        run_until(qloop, lambda: win.hub.is_listening("far"), 20)
    finally:
        qloop.run_until_complete(win.shutdown())


def test_import_from_pgadmin_and_dbeaver_in_the_dock(qtbot, qloop, config):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()
    panel = win.profiles_panel
    try:
        texts = [a.text() for a in panel.import_menu.actions()]
        assert "From pgAdmin (servers.json)…" in texts
        assert "From DBeaver (data-sources.json)…" in texts
        lines = qloop.run_until_complete(
            import_tool_file(panel, "pgadmin", str(FIXTURES / "pgadmin_servers.json")))
        lines += qloop.run_until_complete(
            import_tool_file(panel, "dbeaver", str(FIXTURES / "dbeaver_data_sources.json")))
        assert set(panel.store.names()) == {"Production (via bastion)", "Staging",
                                            "Local service", "orders-prod", "analytics"}
        assert any(line.startswith("not imported: legacy-mysql") for line in lines)
        banner = panel.banner.text()
        assert banner.startswith("DBeaver: 2 profiles added.")
        assert "Not imported: weird-url" in banner and "not carried over" in banner
        assert "bootstrap queries" in panel.banner.toolTip()
        assert panel.store.ssh_secrets.get("analytics") == "tunnel-pw"
        text = (config / "profiles.json").read_text()
        assert "tunnel-pw" not in text and "an4lyst-pw" not in text
        shot(win, "imported_profiles.png")
    finally:
        qloop.run_until_complete(win.shutdown())


def test_a_host_key_that_cannot_be_recorded_is_said(qloop, qtbot, tmp_path, monkeypatch):
    """Accepting an unknown key writes ~/.ssh/known_hosts in a thread; when that fails
    (a read-only home, say) the user is told, never silently left without the key."""
    from pgwatch_gui.core.ssh import tunnel
    from pgwatch_gui.core.ssh.errors import HostKeyUnknown
    from pgwatch_gui.ui.profiles.ssh_tab import ask_trust_host_key

    def refuse(_err):
        raise PermissionError(13, "Permission denied", str(tmp_path / "known_hosts"))

    monkeypatch.setattr(tunnel, "accept_host_key", refuse)
    accepted = []
    parent = QMessageBox()
    qtbot.addWidget(parent)
    err = HostKeyUnknown("bastion", 22, "SHA256:abc", "ssh-ed25519 AAAA")
    box = ask_trust_host_key(parent, err, lambda: accepted.append(True))
    box.button(QMessageBox.Yes).click()

    def warning():
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)
                     and w.isVisible() and "could not be recorded" in w.text()), None)

    run_until(qloop, lambda: warning() is not None)
    assert "Permission denied" in warning().text() and not accepted

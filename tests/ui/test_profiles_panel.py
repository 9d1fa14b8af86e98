"""ProfilesPanel in the main window: several profiles connected at once, colours, editing."""

from __future__ import annotations

import json
import os

import psycopg
import pytest
from keyring.backends import fail
from psycopg import sql
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from pgwatch_gui.core.pg.notify import send_notify_sync
from pgwatch_gui.core.profiles.imports import profile_from_dsn
from pgwatch_gui.core.profiles.secrets import SecretStore, set_default_store
from pgwatch_gui.core.profiles.store import ProfileStore
from pgwatch_gui.core.stream.status import State
from pgwatch_gui.ui.events.columns import COL_CONNECTION
from pgwatch_gui.ui.profiles.panel import ProfilesPanel
from pgwatch_gui.ui.shell.main_window import MainWindow
from tests.conftest import dsn_for
from tests.ui.waiting import until

SHOTS = "/tmp/shots/issue4"


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("PGWATCH_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


@pytest.fixture
def second_db(pg_server):
    import uuid

    name = f"pgw_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield dsn_for(pg_server, dbname=name)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


@pytest.fixture
def window(qtbot, qloop, config):
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1100, 600)
    win.show()
    yield win
    qloop.run_until_complete(win.shutdown())


def add_profile(name, dsn, channels, store=None, **kw):
    store = store or ProfileStore.open()
    profile, password = profile_from_dsn(name, dsn)
    profile.channels = channels
    for k, v in kw.items():
        setattr(profile, k, v)
    store.add(profile, password=password)
    return store.require(name)


def test_two_profiles_connected_at_once_events_tagged_and_coloured(
        config, qtbot, qloop, pg_dsn, second_db):
    add_profile("Sales", pg_dsn, ["changes"])
    add_profile("HR", second_db, ["changes", "Other Chan"], color="#2ca02c")
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1100, 560)
    win.show()
    panel = win.profiles_panel
    try:
        assert [panel.list.item(i).data(256) for i in range(panel.list.count())] == [
            "Sales", "HR"]
        panel.select("Sales")
        panel.actions["connect"].trigger()
        panel.list.itemDoubleClicked.emit(panel.list.item(1))  # double-click connects HR
        qloop.run_until_complete(until(lambda: win.hub.is_listening("Sales")
                                       and win.hub.is_listening("HR")))
        assert "listening on changes" in panel.item_text("Sales")
        assert panel.list.item(0).font().bold()
        for dsn, payload in ((pg_dsn, "s1"), (second_db, "h1"), (pg_dsn, "s2")):
            with psycopg.connect(dsn, autocommit=True) as conn:
                send_notify_sync(conn, "changes", payload)
        model = win.event_model
        qloop.run_until_complete(until(lambda: model.rowCount() >= 3))
        rows = sorted((model.event(r).profile, model.event(r).payload)
                      for r in range(model.rowCount()))
        assert rows == [("HR", "h1"), ("Sales", "s1"), ("Sales", "s2")]
        sales_color = ProfileStore.open().require("Sales").color
        for r in range(model.rowCount()):
            idx = model.index(r, COL_CONNECTION)
            expect = "#2ca02c" if model.event(r).profile == "HR" else sales_color
            assert model.data(idx) == model.event(r).profile
            assert model.profile_color(model.event(r).profile).name() == expect
            assert model.data(idx, Qt.DecorationRole) is not None  # the swatch
        os.makedirs(SHOTS, exist_ok=True)
        win.grab().save(f"{SHOTS}/main_window_two_profiles.png")
        panel.grab().save(f"{SHOTS}/profiles_panel.png")
        # disconnect one: the other goes on
        panel.select("HR")
        panel.actions["disconnect"].trigger()
        qloop.run_until_complete(until(lambda: "HR" not in win.hub.names()))
        assert win.hub.is_listening("Sales")
        assert "not connected" in panel.item_text("HR")
    finally:
        qloop.run_until_complete(win.shutdown())


def test_new_edit_duplicate_delete(window, qloop, monkeypatch):
    panel: ProfilesPanel = window.profiles_panel
    dlg = panel.new_profile()
    dlg.edits["name"].setText("alpha")
    assert dlg.apply_uri("postgresql://bob:S3cr3t-pw@db.example.com/app")
    dlg.channels.setPlainText("orders")
    dlg.accept()
    qloop.run_until_complete(panel.work.wait())  # the keyring is written in a thread
    store = ProfileStore.open()
    assert store.names() == ["alpha"] and store.require("alpha").channels == ["orders"]
    assert panel.secrets.get("alpha") == "S3cr3t-pw"
    assert b"S3cr3t-pw" not in (ProfileStore().path).read_bytes()

    dlg = panel.edit_profile("alpha")
    dlg.edits["name"].setText("beta")
    dlg.set_color("#ff00ff")
    dlg.accept()
    qloop.run_until_complete(panel.work.wait())
    store = ProfileStore.open()
    assert store.names() == ["beta"] and store.require("beta").color == "#ff00ff"
    assert panel.secrets.get("beta") == "S3cr3t-pw" and panel.secrets.get("alpha") is None
    assert window.hub.profile_color("beta").name() == "#ff00ff"
    assert window.event_model.profile_color("beta").name() == "#ff00ff"
    assert window.event_model.profile_color("alpha") is None

    copy = panel.duplicate_profile("beta")
    qloop.run_until_complete(panel.work.wait())  # the keyring is written in a worker thread
    assert copy.name == "beta (copy)" and ProfileStore.open().names() == ["beta", "beta (copy)"]

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.No)
    assert not panel.delete_profile("beta")
    assert ProfileStore.open().names() == ["beta", "beta (copy)"]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    assert panel.delete_profile("beta")
    qloop.run_until_complete(panel.work.wait())
    assert ProfileStore.open().names() == ["beta (copy)"]
    assert panel.secrets.get("beta") is None
    assert [panel.list.item(i).data(256) for i in range(panel.list.count())] == ["beta (copy)"]


def test_renaming_a_connected_profile_reconnects_under_the_new_name(window, qloop, pg_dsn):
    panel = window.profiles_panel
    add_profile("one", pg_dsn, ["a"], panel.store)
    panel.refresh()
    panel.connect_profile("one")
    qloop.run_until_complete(until(lambda: window.hub.is_listening("one")))
    dlg = panel.edit_profile("one")
    dlg.edits["name"].setText("two")
    dlg.channels.setPlainText("a\nb")
    dlg.accept()
    qloop.run_until_complete(until(lambda: window.hub.is_listening("two")))
    assert window.hub.names() == ["two"]
    assert window.hub.listener("two").channels == ("a", "b")


def test_asks_for_the_password_once_when_there_is_no_keyring(
        config, qtbot, qloop, pg_server, test_keyring):
    from tests.pgroles import password_role

    secret = "p@ss:w/rd%-session"
    set_default_store(SecretStore(fail.Keyring()))
    try:
        with password_role(pg_server, secret) as role:
            add_profile("pw", dsn_for(pg_server, user=role, dbname="postgres"), ["c"])
            win = MainWindow()
            qtbot.addWidget(win)
            panel = win.profiles_panel
            assert panel.banner.isVisible() or not panel.banner.isHidden()
            assert "session only" in panel.banner.text()
            asked = []
            panel.password_prompt = lambda name, reason: asked.append((name, reason)) or secret
            try:
                panel.connect_profile("pw")
                qloop.run_until_complete(until(lambda: win.hub.is_listening("pw")))
                assert len(asked) == 1 and "no password supplied" in asked[0][1]
                assert panel.secrets.in_session_only("pw")
                # disconnect and connect again: not asked a second time
                qloop.run_until_complete(panel.disconnect_profile("pw"))
                panel.connect_profile("pw")
                qloop.run_until_complete(until(lambda: win.hub.is_listening("pw")))
                assert len(asked) == 1
            finally:
                qloop.run_until_complete(win.shutdown())
        assert secret not in json.dumps(test_keyring.entries())
        assert secret.encode() not in (config / "profiles.json").read_bytes()
    finally:
        set_default_store(None)


def test_corrupt_profiles_file_shows_a_banner(config, qtbot, qloop):
    config.mkdir(parents=True)
    (config / "profiles.json").write_text('{"format": 1, "profiles": [{"name": "ok"}, {')
    win = MainWindow()
    qtbot.addWidget(win)
    panel = win.profiles_panel
    assert not panel.banner.isHidden()
    text = panel.banner.text()
    assert "not valid JSON" in text and "moved aside to profiles.json.bad-" in text
    assert panel.list.count() == 1
    win.show()
    panel.grab().save(f"{SHOTS}/profiles_panel_corrupt_file.png")
    qloop.run_until_complete(win.shutdown())


def test_failed_connection_state_is_shown_and_can_be_retried(window, qloop, pg_server):
    panel = window.profiles_panel
    add_profile("gone", dsn_for(pg_server, dbname="no_such_db_x"), ["c"], panel.store)
    panel.refresh()
    panel.connect_profile("gone")
    qloop.run_until_complete(until(
        lambda: (st := window.hub.status("gone")) is not None and st.state is State.FAILED))
    assert 'database "no_such_db_x" does not exist' in panel.item_text("gone")
    panel.select("gone")
    assert panel.actions["connect"].isEnabled()

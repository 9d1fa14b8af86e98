"""The window when the SSH server of a connected profile dies: its status names the tunnel
and the bastion, and the gap row says why (issue 21)."""

from __future__ import annotations

import asyncio

from pgwatch_gui.core.profiles.store import ProfileStore
from pgwatch_gui.core.stream.events import KIND_GAP
from pgwatch_gui.core.stream.status import State
from pgwatch_gui.ui.shell.main_window import MainWindow
from tests.ui.test_ssh_ui import ssh_profile
from tests.ui.waiting import run_until


def test_the_status_says_the_tunnel_is_down(qtbot, qloop, tmp_path, monkeypatch, sshd,
                                            ssh_home, pg_tcp_dsn):
    monkeypatch.setenv("PGWATCH_CONFIG_DIR", str(tmp_path / "config"))
    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.known_hosts_line())
    ProfileStore.open().add(ssh_profile(pg_tcp_dsn, sshd))
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1280, 720)
    win.show()
    bastion = f"{sshd.user}@127.0.0.1:{sshd.port}"
    try:
        win.profiles_panel.select("far")
        win.profiles_panel.actions["connect"].trigger()
        run_until(qloop, lambda: win.hub.is_listening("far"), 20)
        qloop.run_until_complete(asyncio.to_thread(sshd.stop))
        listener = win.hub.listener("far")
        run_until(qloop, lambda: listener.status.state is State.RECONNECTING
                  and "not reachable" in listener.status.reason, 20)
        assert listener.status.reason.startswith(
            f"the SSH tunnel via {bastion} is down: SSH server not reachable")
        status = win.event_screen.status.connections["far"]
        status.refresh()
        tip = status.toolTip()
        assert f"last error: the SSH tunnel via {bastion} is down" in tip, tip
        assert "Connection refused" not in tip.replace("Connect call failed", "")
        win.grab().save(str(tmp_path / "ssh-down.png"))
        qloop.run_until_complete(asyncio.to_thread(sshd.start))
        run_until(qloop, lambda: win.hub.is_listening("far"), 20)
        gaps = [e for e in win.event_model.events() if e.kind == KIND_GAP]
        assert len(gaps) == 1 and f"the SSH tunnel via {bastion} is down" in gaps[0].payload
    finally:
        qloop.run_until_complete(win.shutdown())

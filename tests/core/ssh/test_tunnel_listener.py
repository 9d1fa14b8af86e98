"""The listener through a tunnel: it survives an SSH server restart with a gap row, and a
refused tunnel shows in its status instead of being retried forever."""

from __future__ import annotations

import asyncio

import psycopg

from pgwatch_gui.core.ssh.route import TunnelRoute
from pgwatch_gui.core.ssh.settings import AUTH_KEY, SshSettings
from pgwatch_gui.core.stream.events import KIND_GAP, KIND_NOTIFY
from pgwatch_gui.core.stream.listener import Backoff, Listener, State


def settings_for(server) -> SshSettings:
    return SshSettings(host="127.0.0.1", port=server.port, user=server.user, auth=AUTH_KEY,
                       key_path=str(server.user_key_path))


async def until(predicate, timeout: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def notify(dsn: str, channel: str, payload: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SELECT pg_notify(%s, %s)", (channel, payload))


def test_listener_survives_an_ssh_server_restart_with_a_gap_row(pg_tcp_dsn, sshd, ssh_home):
    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.known_hosts_line())
    events, states = [], []

    async def main():
        route = TunnelRoute(pg_tcp_dsn, settings_for(sshd))
        listener = Listener(pg_tcp_dsn, ["jobs"], on_batch=events.extend,
                            on_status=lambda st: states.append(st), route=route,
                            backoff=Backoff(initial=0.1, cap=0.5), batch_interval=0.0)
        listener.start()
        await listener.wait_listening(15)
        first_port = route.tunnel.local_port
        await asyncio.to_thread(notify, listener.conninfo, "jobs", "before")
        await until(lambda: any(e.payload == "before" for e in events))

        await asyncio.to_thread(sshd.stop)
        await until(lambda: listener.status.state is State.RECONNECTING)
        await asyncio.sleep(0.5)  # a few attempts fail while the bastion is down
        await asyncio.to_thread(sshd.start)
        await listener.wait_listening(20)
        await asyncio.to_thread(notify, listener.conninfo, "jobs", "after")
        await until(lambda: any(e.payload == "after" for e in events))
        second_port = route.tunnel.local_port
        await listener.stop()
        return first_port, second_port, route

    first_port, second_port, route = asyncio.run(main())
    kinds = [e.kind for e in events]
    assert kinds.count(KIND_GAP) == 1
    assert kinds.index(KIND_GAP) > [e.payload for e in events].index("before")
    assert [e.payload for e in events if e.kind == KIND_NOTIFY] == ["before", "after"]
    assert first_port == second_port  # handed-out strings (console, queue) keep working
    reasons = [st.reason for st in states if st.state is State.RECONNECTING and st.reason]
    assert any("SSH server" in r and "not reachable" in r for r in reasons)
    assert not route.tunnel.is_open  # stopping the listener closed its tunnel


def test_refused_tunnel_fails_the_listener_with_the_reason(pg_tcp_dsn, sshd, ssh_home):
    (ssh_home / ".ssh" / "known_hosts").write_text(
        f"[127.0.0.1]:{sshd.port} ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n")

    async def main():
        listener = Listener(pg_tcp_dsn, ["jobs"], on_batch=lambda b: None,
                            route=TunnelRoute(pg_tcp_dsn, settings_for(sshd)))
        return await asyncio.wait_for(listener.run(), 20)

    status = asyncio.run(main())
    assert status.state is State.FAILED
    assert "host key" in status.reason and "CHANGED" in status.reason


def test_console_through_a_dead_tunnel_names_the_tunnel(pg_tcp_dsn, sshd, ssh_home):
    """The SQL console's session, like the listener, says the SSH tunnel is down, not
    'connection refused' on the tunnel's local end."""
    from pgwatch_gui.core.triggers.console import ConsoleSession

    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.known_hosts_line())

    async def main():
        route = TunnelRoute(pg_tcp_dsn, settings_for(sshd))
        session = ConsoleSession(await route.conninfo(), route=route)
        ok = await session.run("SELECT 1")
        await asyncio.to_thread(sshd.stop)
        await until(lambda: not route.tunnel.is_open, 15)
        lost = await session.run("SELECT 2")
        await session.close()
        await route.close()
        await asyncio.to_thread(sshd.start)
        return ok, lost

    ok, lost = asyncio.run(main())
    assert ok.error is None and ok.results[0].rows == [(1,)]
    assert f"the SSH tunnel via {sshd.user}@127.0.0.1:{sshd.port} is down" in lost.error
    assert "127.0.0.1\", port" not in lost.error

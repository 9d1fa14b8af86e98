"""The SSH tunnel against a real sshd, in front of the suite's PostgreSQL."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from pgwatch_gui.core.pg.connection import conninfo_dict
from pgwatch_gui.core.ssh.errors import (
    STEP_AUTH,
    STEP_REACHABLE,
    HostKeyChanged,
    HostKeyUnknown,
    TunnelError,
)
from pgwatch_gui.core.ssh.route import TunnelRoute, through_tunnel, tunnel_destination
from pgwatch_gui.core.ssh.settings import AUTH_KEY, AUTH_PASSWORD, SshSettings
from pgwatch_gui.core.ssh.tunnel import accept_host_key
from tests.ssh_server import free_port, write_key


def settings_for(server, key_path=None) -> SshSettings:
    return SshSettings(host="127.0.0.1", port=server.port, user=server.user, auth=AUTH_KEY,
                       key_path=str(key_path or server.user_key_path))


@pytest.fixture
def known(ssh_home, sshd):
    """~/.ssh/known_hosts that trusts the test server."""
    path = ssh_home / ".ssh" / "known_hosts"
    path.write_text(sshd.known_hosts_line())
    return path


def pg_port(dsn: str) -> int:
    return int(conninfo_dict(dsn).get("port") or 5432)


def test_postgresql_answers_through_the_tunnel(pg_tcp_dsn, sshd, known):
    async def main():
        route = TunnelRoute(pg_tcp_dsn, settings_for(sshd))
        conninfo = await route.conninfo()
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            one = await (await conn.execute("SELECT 1")).fetchone()
            port = conn.info.port
        local = route.tunnel.local_port
        await route.close()
        with pytest.raises(psycopg.OperationalError):
            await psycopg.AsyncConnection.connect(conninfo, connect_timeout=3)
        return one, port, local, conninfo

    one, port, local, conninfo = asyncio.run(main())
    assert one == (1,)
    assert port == local != pg_port(pg_tcp_dsn)  # it went through the tunnel's port
    params = conninfo_dict(conninfo)
    assert params["hostaddr"] == "127.0.0.1"
    assert params["host"] == (conninfo_dict(pg_tcp_dsn).get("host") or "localhost")


def test_unknown_host_key_shows_its_fingerprint_and_is_recorded_once_accepted(
        pg_tcp_dsn, sshd, ssh_home):
    known = ssh_home / ".ssh" / "known_hosts"

    async def first():
        route = TunnelRoute(pg_tcp_dsn, settings_for(sshd))
        with pytest.raises(HostKeyUnknown) as info:
            await route.conninfo()
        return info.value

    err = asyncio.run(first())
    assert err.fingerprint == sshd.host_key_fingerprint()
    assert err.fingerprint in str(err) and "\n" not in str(err)
    assert not err.retry
    assert not known.exists()  # nothing recorded before the user says yes

    accept_host_key(err)
    assert known.read_text() == sshd.known_hosts_line()

    async def again():
        route = TunnelRoute(pg_tcp_dsn, settings_for(sshd))
        try:
            return await route.conninfo()
        finally:
            await route.close()

    assert "hostaddr" in asyncio.run(again())


def test_changed_host_key_is_refused_with_one_line(pg_tcp_dsn, sshd, ssh_home, tmp_path):
    other = write_key(tmp_path / "other_host_key")
    line = " ".join(other.export_public_key("openssh").decode().split()[:2])
    known = ssh_home / ".ssh" / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} {line}\n")

    async def main():
        route = TunnelRoute(pg_tcp_dsn, settings_for(sshd))
        with pytest.raises(HostKeyChanged) as info:
            await route.conninfo()
        return info.value

    err = asyncio.run(main())
    text = str(err)
    assert "host key" in text and "CHANGED" in text and "\n" not in text
    assert sshd.host_key_fingerprint() in text
    assert not err.retry
    assert known.read_text() == f"[127.0.0.1]:{sshd.port} {line}\n"  # untouched


def test_wrong_key_is_refused_with_one_line(pg_tcp_dsn, sshd, known, tmp_path):
    stranger = tmp_path / "stranger"
    write_key(stranger)

    async def main():
        route = TunnelRoute(pg_tcp_dsn, settings_for(sshd, stranger))
        with pytest.raises(TunnelError) as info:
            await route.conninfo()
        return info.value

    err = asyncio.run(main())
    assert err.step == STEP_AUTH and not err.retry
    assert "refused" in str(err) and "\n" not in str(err)


def test_key_with_passphrase(pg_tcp_dsn, sshd, known, tmp_path):
    locked = tmp_path / "locked"
    key = write_key(locked, passphrase="open sesame")
    sshd_keys = sshd.root / "authorized_keys"
    sshd_keys.write_text(sshd_keys.read_text() + key.export_public_key("openssh").decode())

    async def main(secret):
        route = TunnelRoute(pg_tcp_dsn, settings_for(sshd, locked), secret=secret)
        try:
            return await route.conninfo()
        finally:
            await route.close()

    with pytest.raises(TunnelError) as info:
        asyncio.run(main(None))
    assert "passphrase" in str(info.value) and "open sesame" not in str(info.value)
    assert "hostaddr" in asyncio.run(main("open sesame"))


def test_unreachable_ssh_server_may_be_retried(pg_tcp_dsn, ssh_home, tmp_path):
    settings = SshSettings(host="127.0.0.1", port=free_port(), user="nobody", auth=AUTH_KEY,
                           key_path=str(tmp_path / "missing"))
    write_key(tmp_path / "missing")

    async def main():
        with pytest.raises(TunnelError) as info:
            await TunnelRoute(pg_tcp_dsn, settings).conninfo()
        return info.value

    err = asyncio.run(main())
    assert err.step == STEP_REACHABLE and err.retry
    assert "not reachable" in str(err)


def test_destination_and_rewrite():
    assert tunnel_destination("host=db.internal port=6432 dbname=x") == ("db.internal", 6432)
    assert tunnel_destination("dbname=x") == ("localhost", 5432)
    for bad in ("host=a,b", "host=/var/run/postgresql", "service=prod"):
        with pytest.raises(TunnelError):
            tunnel_destination(bad)
    out = conninfo_dict(through_tunnel("host=db.internal port=6432 sslmode=verify-full", 40000))
    assert out["host"] == "db.internal"  # SSL still checks the real name
    assert (out["hostaddr"], out["port"], out["sslmode"]) == ("127.0.0.1", "40000", "verify-full")


def test_agent_login(pg_tcp_dsn, sshd, known, tmp_path, monkeypatch):
    import os
    import shutil
    import subprocess
    import time

    agent, ssh_add = shutil.which("ssh-agent"), shutil.which("ssh-add")
    if not (agent and ssh_add):
        pytest.skip("ssh-agent / ssh-add not found (openssh-client)")
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen([agent, "-D", "-a", str(sock)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run([ssh_add, str(sshd.user_key_path)], env=env, check=True,
                       capture_output=True, timeout=10)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        settings = SshSettings(host="127.0.0.1", port=sshd.port, user=sshd.user)  # agent

        async def main():
            route = TunnelRoute(pg_tcp_dsn, settings)
            try:
                conninfo = await route.conninfo()
                async with await psycopg.AsyncConnection.connect(conninfo) as conn:
                    return await (await conn.execute("SELECT 1")).fetchone()
            finally:
                await route.close()

        assert asyncio.run(main()) == (1,)
    finally:
        proc.terminate()
        proc.wait(5)


def test_password_login_refused_without_showing_it(pg_tcp_dsn, sshd, known):
    """The test sshd takes keys only: a password is refused, and never repeated."""
    settings = SshSettings(host="127.0.0.1", port=sshd.port, user=sshd.user,
                           auth=AUTH_PASSWORD)

    async def main(secret):
        with pytest.raises(TunnelError) as info:
            await TunnelRoute(pg_tcp_dsn, settings, secret=secret).conninfo()
        return info.value

    err = asyncio.run(main("hunter2: not it"))
    assert err.step == STEP_AUTH and not err.retry
    assert "refused (password)" in str(err) and "hunter2" not in str(err)
    missing = asyncio.run(main(None))
    assert "no SSH password saved" in str(missing) and missing.step == STEP_AUTH

"""A real OpenSSH server for the tunnel tests: loopback only, its own keys and config.

`sshd` (Debian's openssh-server) runs in the foreground on a free 127.0.0.1 port with
a temporary host key, one authorized user key, and an sshd_config of its own (no PAM,
StrictModes off, TCP forwarding on). It stands in front of the suite's PostgreSQL.
Tests that need it skip, saying why, where sshd is missing or cannot start.

Import the fixtures into a test module: ``from tests.ssh_server import sshd, ssh_home``.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd")


def find_sshd() -> str | None:
    found = shutil.which("sshd")
    if found:
        return found
    return next((p for p in SSHD_CANDIDATES if os.access(p, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (sshd forks one process tree per connection)."""
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for kid in kids.get(todo.pop(), []):
            out.append(kid)
            todo.append(kid)
    return out


def write_key(path: Path, alg: str = "ssh-ed25519", passphrase: str | None = None):
    import asyncssh

    key = asyncssh.generate_private_key(alg)
    if passphrase:
        key.write_private_key(str(path), passphrase=passphrase)
    else:
        key.write_private_key(str(path))
    key.write_public_key(str(path) + ".pub")
    os.chmod(path, 0o600)
    return key


@dataclass
class SshServer:
    root: Path
    sshd: str
    port: int = field(default_factory=free_port)
    user: str = field(default_factory=getpass.getuser)
    proc: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.host_key_path = self.root / "host_ed25519"
        self.user_key_path = self.root / "user_ed25519"
        self.host_key = write_key(self.host_key_path)
        self.user_key = write_key(self.user_key_path)
        (self.root / "authorized_keys").write_text(
            (self.root / "user_ed25519.pub").read_text())
        self.log = self.root / "sshd.log"
        self.config = self.root / "sshd_config"
        self.config.write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {self.host_key_path}\n"
            f"PidFile {self.root / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}\n"
            "StrictModes no\n"
            "UsePAM no\n"
            "PermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PubkeyAuthentication yes\n"
            "AllowTcpForwarding yes\n"
            "PermitOpen any\n"
            "LogLevel VERBOSE\n"
        )

    @property
    def target(self) -> str:
        return f"{self.user}@127.0.0.1:{self.port}"

    def host_key_fingerprint(self) -> str:
        return self.host_key.get_fingerprint("sha256")

    def known_hosts_line(self) -> str:
        pub = self.host_key.export_public_key("openssh").decode().split()[:2]
        return f"[127.0.0.1]:{self.port} {' '.join(pub)}\n"

    def start(self, timeout: float = 10) -> None:
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation dir
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([self.sshd, "-D", "-e", "-f", str(self.config)],
                                         stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {self.log.read_text()[-800:]}")
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.5) as s:
                if s.recv(4).startswith(b"SSH-"):
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"sshd did not answer on port {self.port}: "
                           f"{self.log.read_text()[-800:]}")

    def stop(self) -> None:
        """The server and every connection it holds go away (a bastion that reboots)."""
        if self.proc is None:
            return
        pids = [*_children(self.proc.pid), self.proc.pid]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


def start_server(root: Path) -> SshServer:
    exe = find_sshd()
    if exe is None:
        pytest.skip("sshd not found: install openssh-server (.ci/run does on Debian)")
    server = SshServer(root, exe)
    try:
        server.start()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"sshd could not be started here: {exc}")
    return server


@pytest.fixture
def sshd(tmp_path):
    """A running sshd for one test; stopped afterwards, with its connections."""
    server = start_server(tmp_path / "sshd")
    yield server
    server.stop()


@pytest.fixture
def ssh_home(tmp_path, monkeypatch):
    """$HOME in a temporary folder: ~/.ssh/known_hosts and ~/.ssh/config of the test only."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return home


class TcpToUnix:
    """Bytes from 127.0.0.1:N to the embedded server's Unix socket (it has no TCP port).

    A profile behind a tunnel names a TCP host and port; this gives it one.
    """

    def __init__(self, socket_path: str) -> None:
        import threading

        self.socket_path = socket_path
        self.port = 0
        self._loop = None
        self._server = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="tcp-to-unix")

    def _run(self) -> None:
        import asyncio

        async def pipe(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    writer.close()

        async def handle(reader, writer):
            try:
                up_reader, up_writer = await asyncio.open_unix_connection(self.socket_path)
            except OSError:
                writer.close()
                return
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

        async def main():
            self._server = await asyncio.start_server(handle, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()
            async with self._server:
                await self._server.serve_forever()


        self._loop = asyncio.new_event_loop()
        with contextlib.suppress(asyncio.CancelledError, RuntimeError):
            self._loop.run_until_complete(main())

    def start(self) -> TcpToUnix:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._thread.join(5)


@pytest.fixture(scope="session")
def pg_tcp_port(pg_server):
    """A 127.0.0.1 TCP port of the suite's PostgreSQL (a relay when it only has a socket)."""
    from psycopg import conninfo as _ci

    params = _ci.conninfo_to_dict(pg_server)
    host = params.get("host") or "/tmp"
    if not host.startswith("/"):
        yield None  # PGWATCH_TEST_DSN over TCP: the DSN's own host and port
        return
    relay = TcpToUnix(os.path.join(host, f".s.PGSQL.{params.get('port') or 5432}")).start()
    yield relay.port
    relay.stop()


@pytest.fixture
def pg_tcp_dsn(pg_dsn, pg_tcp_port):
    """The test's fresh database, by TCP (host=localhost): what a tunnel leads to."""
    from psycopg import conninfo as _ci

    if pg_tcp_port is None:
        return pg_dsn
    return _ci.make_conninfo(pg_dsn, host="localhost", port=str(pg_tcp_port),
                             sslmode="disable", gssencmode="disable")

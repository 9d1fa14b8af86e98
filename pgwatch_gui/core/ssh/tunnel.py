"""One SSH connection with a local port forward to the database: 127.0.0.1:N -> host:port.

The database host and port are resolved on the SSH server's side, as `ssh -L` does.
The forward listens on loopback only, on a port the system picks; after a reconnect
the tunnel asks for the same port again, so a libpq string handed out earlier (to a
console or a queue monitor of the same profile) keeps working.

Host keys are checked against ~/.ssh/known_hosts (and asyncssh reads ~/.ssh/config
for user, port, identity files and the like). A server without an entry raises
HostKeyUnknown with the key's fingerprint; the caller shows it, and only after the
user accepts it is the key recorded (known_hosts.record). A server whose key differs
from the recorded one raises HostKeyChanged and is never connected to.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import asyncssh

from pgwatch_gui.core.ssh import known_hosts
from pgwatch_gui.core.ssh.errors import (
    STEP_AUTH,
    STEP_FORWARD,
    STEP_HOST_KEY,
    STEP_REACHABLE,
    HostKeyChanged,
    HostKeyUnknown,
    TunnelError,
)
from pgwatch_gui.core.ssh.settings import AUTH_AGENT, AUTH_KEY, AUTH_PASSWORD, SshSettings

LOOPBACK = "127.0.0.1"
# A dead bastion (NAT, firewall) is noticed within ~30 s, like the listener's heartbeat.
KEEPALIVE_INTERVAL = 10
KEEPALIVE_COUNT_MAX = 3

# progress(step, ok, detail): each STEP_* as it passes or fails.
Progress = Callable[[str, bool, str], None]


class _Client(asyncssh.SSHClient):
    """Remembers the key a server presented when known_hosts did not vouch for it."""

    def __init__(self) -> None:
        self.presented: tuple[str, str, int, asyncssh.SSHKey] | None = None
        self.lost = False

    def validate_host_public_key(self, host: str, addr: str, port: int,
                                 key: asyncssh.SSHKey) -> bool:
        self.presented = (host, addr, port, key)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or exc.__class__.__name__


def key_line(key: asyncssh.SSHKey) -> str:
    """"ssh-ed25519 AAAA..." without a comment: what a known_hosts line holds."""
    return " ".join(key.export_public_key("openssh").decode("ascii").split()[:2])


class SshTunnel:
    def __init__(self, settings: SshSettings, dest_host: str, dest_port: int, *,
                 secret: str | None = None, known_hosts_file: Path | None = None,
                 connect_timeout: float = 10) -> None:
        self.settings = settings.validate()
        self.dest_host = dest_host
        self.dest_port = dest_port
        self._secret = secret
        self.known_hosts_file = known_hosts_file or known_hosts.known_hosts_path()
        self.connect_timeout = connect_timeout
        self.local_port: int | None = None
        self._conn: asyncssh.SSHClientConnection | None = None
        self._client: _Client | None = None
        self._listener: asyncssh.SSHListener | None = None
        self._lock = asyncio.Lock()

    # ---- state --------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return (self._conn is not None and self._client is not None
                and not self._client.lost and not self._conn.is_closed())

    def describe(self) -> str:
        return f"ssh {self.settings.label()} -> {self.dest_host}:{self.dest_port}"

    # ---- opening ------------------------------------------------------------------

    async def ensure(self, progress: Progress | None = None) -> int:
        """The local port of a working tunnel, reconnecting if it was lost.

        A tunnel that was open and cannot be opened again says so, naming its SSH server
        first: "the SSH tunnel via deploy@bastion:2222 is down: SSH server not reachable:
        ..." (what a listener shows, never a refused connection to the tunnel's local
        end)."""
        async with self._lock:
            if not self.is_open:
                lost = self._conn is not None or self.local_port is not None
                await self._close()
                try:
                    await self._open(progress)
                except TunnelError as exc:
                    if lost and exc.retry:
                        label = self.settings.label()
                        why = str(exc).replace(f"SSH server {label} ", "SSH server ", 1)
                        raise TunnelError(f"the SSH tunnel via {label} is down: {why}",
                                          step=exc.step, retry=True) from None
                    raise
            assert self.local_port is not None
            return self.local_port

    async def _open(self, progress: Progress | None) -> None:
        report = progress or (lambda step, ok, detail: None)
        s = self.settings
        options = await self._auth_options(report)
        client = _Client()
        try:
            conn = await asyncio.wait_for(asyncssh.connect(
                s.host, s.port, username=s.user or (), client_factory=lambda: client,
                known_hosts=known_hosts.as_asyncssh_arg(self.known_hosts_file),
                keepalive_interval=KEEPALIVE_INTERVAL,
                keepalive_count_max=KEEPALIVE_COUNT_MAX, **options,
            ), self.connect_timeout)
        except asyncssh.HostKeyNotVerifiable as exc:
            report(STEP_REACHABLE, True, s.label())
            err = self._host_key_error(client, exc)
            report(STEP_HOST_KEY, False, str(err))
            raise err from None
        except asyncssh.PermissionDenied:
            report(STEP_REACHABLE, True, s.label())
            report(STEP_HOST_KEY, True, "known")
            err = TunnelError(
                f"SSH login {s.label()} refused ({self._method_text()})",
                step=STEP_AUTH, retry=False)
            report(STEP_AUTH, False, str(err))
            raise err from None
        except (OSError, asyncio.TimeoutError, asyncssh.Error) as exc:
            reason = ("timed out" if isinstance(exc, asyncio.TimeoutError)
                      else _first_line(exc))
            err = TunnelError(f"SSH server {s.label()} not reachable: {reason}",
                              step=STEP_REACHABLE)
            report(STEP_REACHABLE, False, str(err))
            raise err from None
        report(STEP_REACHABLE, True, s.label())
        report(STEP_HOST_KEY, True, "known")
        report(STEP_AUTH, True, self._method_text())
        try:
            listener = await self._forward(conn)
        except (OSError, asyncssh.Error) as exc:
            conn.close()
            err = TunnelError(f"SSH port forward failed: {_first_line(exc)}", step=STEP_FORWARD)
            report(STEP_FORWARD, False, str(err))
            raise err from None
        self._conn, self._client, self._listener = conn, client, listener
        self.local_port = listener.get_port()

    async def _forward(self, conn: asyncssh.SSHClientConnection) -> asyncssh.SSHListener:
        if self.local_port:  # the same port as before, so handed-out strings stay valid
            with contextlib.suppress(OSError):
                return await conn.forward_local_port(
                    LOOPBACK, self.local_port, self.dest_host, self.dest_port)
        return await conn.forward_local_port(LOOPBACK, 0, self.dest_host, self.dest_port)

    async def check_forward(self) -> None:
        """Open one connection to the database's address through the tunnel, and close it.

        Raises TunnelError (step "forwarded") when the SSH server cannot reach it.
        """
        if self._conn is None:
            raise TunnelError("the SSH tunnel is not open", step=STEP_FORWARD)
        try:
            _reader, writer = await asyncio.wait_for(
                self._conn.open_connection(self.dest_host, self.dest_port),
                self.connect_timeout)
        except (OSError, asyncio.TimeoutError, asyncssh.Error) as exc:
            reason = "timed out" if isinstance(exc, asyncio.TimeoutError) else _first_line(exc)
            raise TunnelError(
                f"the SSH server cannot reach {self.dest_host}:{self.dest_port}: {reason}",
                step=STEP_FORWARD) from None
        writer.close()

    async def _auth_options(self, report: Progress) -> dict:
        s = self.settings
        if s.auth == AUTH_PASSWORD:
            if not self._secret:
                err = TunnelError(f"no SSH password saved for {s.label()}",
                                  step=STEP_AUTH, retry=False)
                report(STEP_AUTH, False, str(err))
                raise err
            return {"password": self._secret, "client_keys": None, "agent_path": None}
        if s.auth == AUTH_KEY:
            key = await asyncio.to_thread(self._read_key, report)
            return {"client_keys": [key], "agent_path": None, "password": None}
        assert s.auth == AUTH_AGENT
        return {"password": None}  # the agent and ~/.ssh/id_*, as ssh itself

    def _read_key(self, report: Progress) -> asyncssh.SSHKey:
        path = str(Path(self.settings.key_path).expanduser())
        try:
            return asyncssh.read_private_key(path, self._secret or None)
        except (asyncssh.KeyImportError, asyncssh.KeyEncryptionError) as exc:
            hint = ("passphrase missing or wrong" if "passphrase" in str(exc).lower()
                    or isinstance(exc, asyncssh.KeyEncryptionError) else _first_line(exc))
            err = TunnelError(f"cannot use SSH key {path}: {hint}", step=STEP_AUTH, retry=False)
        except OSError as exc:
            err = TunnelError(f"cannot read SSH key {path}: {exc.strerror or exc}",
                              step=STEP_AUTH, retry=False)
        report(STEP_AUTH, False, str(err))
        raise err

    def _method_text(self) -> str:
        s = self.settings
        if s.auth == AUTH_KEY:
            return f"key {s.key_path}"
        return "password" if s.auth == AUTH_PASSWORD else "agent or default keys"

    def _host_key_error(self, client: _Client, exc: Exception) -> TunnelError:
        if client.presented is None:  # revoked, or a certificate that did not verify
            return TunnelError(f"host key of {self.settings.label()} refused: {_first_line(exc)}",
                               step=STEP_HOST_KEY, retry=False)
        host, addr, port, key = client.presented
        fingerprint = key.get_fingerprint("sha256")
        if known_hosts.trusted_keys(self.known_hosts_file, host, addr, port):
            return HostKeyChanged(host, port, fingerprint, str(self.known_hosts_file))
        return HostKeyUnknown(host, port, fingerprint, key_line(key))

    # ---- closing ------------------------------------------------------------------

    async def close(self) -> None:
        async with self._lock:
            await self._close()

    async def _close(self) -> None:
        listener, conn = self._listener, self._conn
        self._listener = self._conn = self._client = None
        if listener is not None:
            listener.close()
        if conn is not None:
            conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.wait_closed(), 2)


def accept_host_key(err: HostKeyUnknown, known_hosts_file: Path | None = None) -> None:
    """Record the key the user accepted (a file write: call it off the GUI thread)."""
    known_hosts.record(known_hosts_file or known_hosts.known_hosts_path(),
                       err.host, err.port, err.key_line)

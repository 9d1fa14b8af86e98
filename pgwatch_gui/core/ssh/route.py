"""A profile's libpq string, sent through its SSH tunnel.

The tunnel's far end is the host and port of the profile (resolved on the SSH
server, `localhost` meaning the SSH server itself). The string handed to libpq
keeps `host` (for `sslmode=verify-full` and `.pgpass`) and adds
`hostaddr=127.0.0.1` and the tunnel's local port, so SSL checks still name the
real server.

TunnelRoute lives on the caller's event loop: the listener asks it for a string
before each (re)connect, which reopens a lost tunnel. ThreadedRoute runs a tunnel
on a loop of its own in a background thread, for commands that connect
synchronously or on a loop of their own; it reopens a lost tunnel by itself, and
`borrowed()` lends it to a listener or change stream on another loop as its route, so
that a bastion that went away is said as such ("the SSH tunnel is down: SSH server
... not reachable"), never as a refused connection to 127.0.0.1:N.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading

from pgwatch_gui.core.pg.connection import ConnectionConfigError, conninfo_dict, make_conninfo
from pgwatch_gui.core.ssh.errors import STEP_FORWARD, STEP_REACHABLE, TunnelError
from pgwatch_gui.core.ssh.settings import SshSettings
from pgwatch_gui.core.ssh.tunnel import LOOPBACK, Progress, SshTunnel

DEFAULT_PG_PORT = 5432
KEEPER_INTERVAL = 1.0


def tunnel_destination(conninfo: str) -> tuple[str, int]:
    """(host, port) the tunnel leads to, from the profile's libpq string."""
    try:
        params = conninfo_dict(conninfo)
    except ConnectionConfigError as exc:
        raise TunnelError(str(exc), step=STEP_FORWARD, retry=False) from None
    host = params.get("hostaddr") or params.get("host") or ""
    if not host and params.get("service"):
        raise TunnelError("with an SSH tunnel, give the database host (a service name "
                          "is read on this machine, not on the SSH server)",
                          step=STEP_FORWARD, retry=False)
    host = host or "localhost"
    if "," in host:
        raise TunnelError("an SSH tunnel leads to one database host, not a list",
                          step=STEP_FORWARD, retry=False)
    if host.startswith("/"):
        raise TunnelError("an SSH tunnel needs a TCP host, not a socket folder",
                          step=STEP_FORWARD, retry=False)
    port_text = str(params.get("port") or DEFAULT_PG_PORT)
    if not port_text.isdigit():
        raise TunnelError(f"database port {port_text!r} is not a number",
                          step=STEP_FORWARD, retry=False)
    return host, int(port_text)


def through_tunnel(conninfo: str, local_port: int) -> str:
    params = conninfo_dict(conninfo)
    host = params.get("host") or "localhost"
    return make_conninfo(conninfo, host=host, hostaddr=LOOPBACK, port=str(local_port))


def tunnel_reason(tunnel: SshTunnel, reason: str) -> str:
    """`reason` (a connection through `tunnel` lost), unless the tunnel itself is down:
    then that, naming its SSH server, rather than what libpq saw at the local end."""
    if tunnel.is_open or tunnel.local_port is None:
        return reason
    return (f"the SSH tunnel via {tunnel.settings.label()} is down; the connection "
            "through it was lost with it")


class TunnelRoute:
    """A libpq string through a tunnel on the running loop (opened on demand)."""

    def __init__(self, conninfo: str, settings: SshSettings, *, secret: str | None = None,
                 **tunnel_options: object) -> None:
        self.base = conninfo
        host, port = tunnel_destination(conninfo)
        self.tunnel = SshTunnel(settings, host, port, secret=secret, **tunnel_options)

    def describe(self) -> str:
        return self.tunnel.describe()

    async def conninfo(self, progress: Progress | None = None) -> str:
        """The string to connect with now; opens (or reopens) the tunnel. Raises TunnelError."""
        port = await self.tunnel.ensure(progress)
        return through_tunnel(self.base, port)

    async def close(self) -> None:
        await self.tunnel.close()

    def explain(self, reason: str) -> str:
        """Why a connection through the tunnel was lost: the tunnel, when it went down."""
        return tunnel_reason(self.tunnel, reason)


class ThreadedRoute:
    """A tunnel kept open on a background thread's loop until close()."""

    def __init__(self, route: TunnelRoute) -> None:
        self.route = route
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever,
                                        name="pgwatch-ssh-tunnel", daemon=True)
        self._keeper: concurrent.futures.Future | None = None

    def open(self, timeout: float = 30) -> str:
        """Open the tunnel and return the string to connect with; raises TunnelError."""
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self.route.conninfo(), self._loop)
        try:
            conninfo = fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            self.close()
            raise TunnelError(f"{self.route.describe()}: no tunnel within {timeout:g} s",
                              step=STEP_REACHABLE) from None
        except BaseException:
            self.close()
            raise
        self._keeper = asyncio.run_coroutine_threadsafe(self._keep(), self._loop)
        return conninfo

    async def _keep(self) -> None:
        """Reopen a lost tunnel (on the same local port when it is free)."""
        while True:
            await asyncio.sleep(KEEPER_INTERVAL)
            if not self.route.tunnel.is_open:
                with contextlib.suppress(TunnelError):
                    await self.route.conninfo()

    def borrowed(self) -> BorrowedRoute:
        """This tunnel as the route of a listener (or change stream) on another loop."""
        return BorrowedRoute(self)

    async def conninfo(self) -> str:
        """From another loop: the string through the tunnel, reopened on the tunnel's
        thread when it was lost; TunnelError naming the SSH server when it cannot be."""
        if not self._thread.is_alive():
            raise TunnelError(f"{self.route.describe()}: the tunnel is closed",
                              step=STEP_REACHABLE, retry=False)
        fut = asyncio.run_coroutine_threadsafe(self.route.conninfo(), self._loop)
        return await asyncio.wrap_future(fut)

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        if self._keeper is not None:
            self._keeper.cancel()
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.route.close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()


class BorrowedRoute:
    """A ThreadedRoute lent to a listener or change stream: asked before each connect;
    closing the tunnel is its owner's business (the command, when it ends)."""

    def __init__(self, threaded: ThreadedRoute) -> None:
        self.threaded = threaded

    def describe(self) -> str:
        return self.threaded.route.describe()

    async def conninfo(self) -> str:
        return await self.threaded.conninfo()

    def explain(self, reason: str) -> str:
        return self.threaded.route.explain(reason)

    async def close(self) -> None:
        return None

"""What the listener's reconnect loop knows besides its backoff.

An authentication failure is not retried: a password that stopped working gave 22
failed logins in 35 s in the server's log (and may lock the role out where failed logins
are counted). `auth_failure()` tells one from a passing outage; the listener then fails
with the reason, and whoever owns it asks for the password (the window) or exits (the
command line). libpq gives no SQLSTATE for a refused login, so the server's English
messages (28P01, 28000) and libpq's own for a missing password are matched.

A server that restarts is back within a second, but a backoff that has grown to 2 s
lost the first events after it (6 in the first 1.5 s, measured). `PortWatch` probes the
server's port between backoff steps (a TCP or Unix socket connect on a worker thread,
closed at once: the server logs nothing for it) and ends the wait as soon as a port
seen closed accepts again; for a few seconds after that, while the server says it is
starting up, the next attempts come every 0.1 s. A port that never closed (the server is
up but refuses, a tunnel) changes nothing: the normal backoff applies, so nothing is
hammered.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from dataclasses import dataclass

from psycopg import conninfo as _ci

from pgwatch_gui.core.pg.conncheck import needs_password

AUTH_SQLSTATES = frozenset({"28P01", "28000"})
_ACCESS_REFUSED = ("authentication failed", "no pg_hba.conf entry", "pg_hba.conf rejects",
                   "is not permitted to log in")
PROBE_INTERVAL = 0.1  # seconds between probes of a closed port
PROBE_TIMEOUT = 0.5
FAST_WINDOW = 5.0  # seconds of quick retries after a closed port opened again


def auth_failure(exc: BaseException) -> bool:
    """Whether a failed connect was refused for who it is, not for where the server is."""
    if getattr(exc, "sqlstate", None) in AUTH_SQLSTATES:
        return True
    text = str(exc)
    return needs_password(text) or any(p in text.lower() for p in _ACCESS_REFUSED)


@dataclass(frozen=True)
class Target:
    """One address to probe: a TCP (host, port), or a Unix socket's path."""

    host: str
    port: int
    unix: bool = False

    @property
    def path(self) -> str:
        return os.path.join(self.host, f".s.PGSQL.{self.port}")


def probe_targets(conninfo: str) -> list[Target]:
    """Where the connection string points: each host (hostaddr first) with its port.
    [] when it cannot be told (no host: libpq's default; a malformed string)."""
    try:
        params = _ci.conninfo_to_dict(conninfo)
    except Exception:
        return []
    hosts = (params.get("hostaddr") or params.get("host") or os.environ.get("PGHOST") or "")
    ports = str(params.get("port") or os.environ.get("PGPORT") or "5432").split(",")
    found = []
    for i, host in enumerate(h.strip() for h in str(hosts).split(",")):
        if not host:
            continue
        try:
            port = int((ports[i] if i < len(ports) else ports[-1]).strip() or 5432)
        except ValueError:
            continue
        unix = host.startswith("/") or host.startswith("@")
        if unix and not hasattr(socket, "AF_UNIX"):
            continue
        found.append(Target(host, port, unix))
    return found


def _accepts_now(t: Target, timeout: float) -> bool:
    try:
        if t.unix:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(t.path)
        else:
            with socket.create_connection((t.host, t.port), timeout=timeout):
                pass
    except OSError:
        return False
    return True


async def accepts(targets: list[Target], timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether any target accepts a connection now (closed again at once, nothing sent).

    On a worker thread with a blocking socket: a probe's file descriptor never enters the
    event loop, whose notifiers (qasync) could outlive it and, once the number is reused
    by the next connection's socket, take that one's away (seen: a listener that never
    woke up again)."""

    def probe() -> bool:
        return any(_accepts_now(t, timeout) for t in targets)

    return await asyncio.to_thread(probe)


async def _sleep_or_wake(wake: asyncio.Event, seconds: float) -> None:
    if seconds <= 0:
        return
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(wake.wait(), seconds)


class PortWatch:
    """The wait between reconnect attempts, cut short when the server comes back."""

    def __init__(self, conninfo: str = "", *, interval: float = PROBE_INTERVAL,
                 fast_window: float = FAST_WINDOW) -> None:
        self.targets = probe_targets(conninfo) if conninfo else []
        self.interval = interval
        self.fast_window = fast_window
        self._seen_closed = False
        self._reopened_at: float | None = None
        self.early = 0  # waits cut short (for tests and the curious)

    def retarget(self, conninfo: str) -> None:
        self.targets = probe_targets(conninfo)

    def connected(self) -> None:
        self._seen_closed = False
        self._reopened_at = None

    async def wait(self, delay: float, wake: asyncio.Event) -> None:
        """Up to `delay` s, or until `wake` is set, or until the port reopens."""
        loop = asyncio.get_running_loop()
        end = loop.time() + delay
        if not self.targets:
            await _sleep_or_wake(wake, delay)
            return
        if self._reopened_at is not None and loop.time() - self._reopened_at < self.fast_window:
            # The port came back a moment ago and the server still said no (starting up).
            await _sleep_or_wake(wake, min(delay, self.interval))
            return
        while not wake.is_set():
            left = end - loop.time()
            if left <= 0:
                return
            if await accepts(self.targets, min(PROBE_TIMEOUT, left)):
                if self._seen_closed:
                    self._seen_closed = False
                    self._reopened_at = loop.time()
                    self.early += 1
                    return
                # Open all along: the server is there and refuses; no faster than backoff.
                await _sleep_or_wake(wake, end - loop.time())
                return
            self._seen_closed = True
            await _sleep_or_wake(wake, min(self.interval, end - loop.time()))

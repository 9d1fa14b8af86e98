"""The profile test through a tunnel, step by step: SSH server reachable, host key known,
logged in, forwarded to the database, PostgreSQL answered (then core.pg.conncheck's facts)."""

from __future__ import annotations

import asyncio
import time

from pgwatch_gui.core.pg.conncheck import ConnectionReport, check_connection
from pgwatch_gui.core.ssh.errors import (
    STEP_AUTH,
    STEP_HOST_KEY,
    STEP_REACHABLE,
    HostKeyUnknown,
    TunnelError,
)
from pgwatch_gui.core.ssh.route import TunnelRoute
from pgwatch_gui.core.ssh.settings import SshSettings

_LABELS = {STEP_REACHABLE: "SSH server reachable", STEP_HOST_KEY: "SSH host key",
           STEP_AUTH: "SSH login accepted"}


async def check_via_ssh(conninfo: str, settings: SshSettings, *, secret: str | None = None,
                        timeout: float = 15.0, **tunnel_options: object) -> ConnectionReport:
    """Open a tunnel of its own, run the usual connection test through it, close it."""
    started = time.monotonic()
    steps: list[tuple[str, str]] = []

    def progress(step: str, ok: bool, detail: str) -> None:
        label = _LABELS.get(step, step)
        steps.append(("ok", f"{label}: {detail}") if ok else ("error", detail))

    def failed(message: str, **kw: object) -> ConnectionReport:
        report = ConnectionReport(ok=False, error=message, route_steps=steps, **kw)
        report.elapsed = time.monotonic() - started
        return report

    try:
        route = TunnelRoute(conninfo, settings, secret=secret, **tunnel_options)
    except TunnelError as exc:
        return failed(str(exc))
    try:
        try:
            through = await asyncio.wait_for(route.conninfo(progress), timeout)
            await route.tunnel.check_forward()
        except HostKeyUnknown as exc:
            return failed("the SSH server's host key is not trusted yet",
                          host_key_unknown=exc)
        except TunnelError as exc:
            if not steps or steps[-1][0] != "error":
                steps.append(("error", str(exc)))
            return failed("the SSH tunnel did not open")
        except asyncio.TimeoutError:
            return failed(f"the SSH server did not answer within {timeout:g} s")
        t = route.tunnel
        steps.append(("ok", f"Forwarded: 127.0.0.1:{t.local_port} → {t.dest_host}:{t.dest_port}"))
        left = max(1.0, timeout - (time.monotonic() - started))
        report = await check_connection(through, timeout=left)
    finally:
        await route.close()
    report.route_steps = [*steps, ("ok", "PostgreSQL answered") if report.ok
                          else ("error", "PostgreSQL did not answer")]
    report.elapsed = time.monotonic() - started
    return report

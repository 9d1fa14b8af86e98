"""Errors as one readable line, with anything that looks like a password masked."""

from __future__ import annotations

import re

_PASSWORD_RE = re.compile(r"(password\s*=\s*)(?:'[^']*'|\S+)", re.IGNORECASE)
# Greedy up to the last "@": a raw password may itself contain "@".
_URI_PASSWORD_RE = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)\S*(@)", re.IGNORECASE)


def one_line(exc: BaseException | str) -> str:
    """An exception as one line of text, with anything that looks like a password masked."""
    text = str(exc) if not isinstance(exc, str) else exc
    diag = getattr(exc, "diag", None)
    if diag is not None and getattr(diag, "message_primary", None) and not text.strip():
        text = diag.message_primary
    text = " ".join(part.strip() for part in text.splitlines() if part.strip())
    text = _PASSWORD_RE.sub(r"\1***", text)
    text = _URI_PASSWORD_RE.sub(r"\1***\2", text)
    return text or exc.__class__.__name__


class RouteError(Exception):
    """The way to the server (an SSH tunnel, core.ssh) could not be opened or was lost.

    `retry` says whether trying again later can help (a bastion that is down: yes; a
    changed host key or a refused login: no). The message is one line, no secret.
    """

    retry: bool = True


def route_reason(route: object, reason: str) -> str:
    """Why a connection was lost, as its route tells it: through an SSH tunnel that went
    down, the tunnel and its SSH server are named (core.ssh.route), not the local end."""
    explain = getattr(route, "explain", None)
    return explain(reason) if callable(explain) else reason

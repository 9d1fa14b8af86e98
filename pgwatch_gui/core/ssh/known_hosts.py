"""The user's ~/.ssh/known_hosts: which keys a server may present, and recording one.

Read with asyncssh's own matcher (hashed names, wildcards, ``[host]:port`` and
``@revoked`` lines all work as OpenSSH has them). A key is only ever added after
the user accepted its fingerprint; a known server that presents another key is
refused by the tunnel and nothing here changes the file for it.
"""

from __future__ import annotations

import os
from pathlib import Path

import asyncssh

from pgwatch_gui.core.host.private_files import open_private
from pgwatch_gui.core.ssh.settings import DEFAULT_SSH_PORT


def known_hosts_path() -> Path:
    """~/.ssh/known_hosts (of $HOME), whether it exists or not."""
    return Path(os.path.expanduser("~")) / ".ssh" / "known_hosts"


def as_asyncssh_arg(path: Path) -> str | bytes:
    """What asyncssh's `known_hosts=` wants: the file, or nothing known yet."""
    return str(path) if path.is_file() else b""


def trusted_keys(path: Path, host: str, addr: str, port: int) -> list:
    """The keys known_hosts trusts for this server (empty: the server is unknown)."""
    if not path.is_file():
        return []
    port_arg = None if port == DEFAULT_SSH_PORT else port
    try:
        found = asyncssh.match_known_hosts(str(path), host, addr, port_arg)
    except (OSError, ValueError):
        return []
    return list(found[0])


def host_pattern(host: str, port: int) -> str:
    return host if port == DEFAULT_SSH_PORT else f"[{host}]:{port}"


def record(path: Path, host: str, port: int, key_line: str) -> None:
    """Append `host key` to known_hosts (creating ~/.ssh with private permissions)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = f"{host_pattern(host, port)} {key_line.strip()}\n"
    existing = path.read_bytes() if path.is_file() else b""
    with open_private(path, "a", encoding="utf-8") as fh:  # made 0600, never 0644 first
        if existing and not existing.endswith(b"\n"):
            fh.write("\n")
        fh.write(text)

"""What a profile says about its tunnel: the SSH server, the user, how to log in.

The secret that goes with it (a key's passphrase or the SSH password) is never part
of these settings: it lives in the keyring, next to the database password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# How to log in to the SSH server.
AUTH_KEY = "key"  # a private key file (its passphrase, if any, from the keyring)
AUTH_AGENT = "agent"  # the SSH agent and the default keys, as `ssh` does
AUTH_PASSWORD = "password"  # the SSH password, from the keyring
AUTH_METHODS = (AUTH_KEY, AUTH_AGENT, AUTH_PASSWORD)

DEFAULT_SSH_PORT = 22

_TARGET_RE = re.compile(r"^(?:(?P<user>[^@\s]+)@)?(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:@\s\[\]]+))"
                        r"(?::(?P<port>\d+))?$")


class SshSettingsError(ValueError):
    """SSH settings that cannot work; the message says why."""


@dataclass(frozen=True)
class SshSettings:
    host: str
    user: str = ""
    port: int = DEFAULT_SSH_PORT
    auth: str = AUTH_AGENT
    key_path: str = ""

    def validate(self) -> SshSettings:
        if not self.host or any(c.isspace() for c in self.host):
            raise SshSettingsError("the SSH host is missing or has spaces")
        if not (isinstance(self.port, int) and 0 < self.port < 65536):
            raise SshSettingsError(f"SSH port must be a number from 1 to 65535, not {self.port!r}")
        if self.auth not in AUTH_METHODS:
            raise SshSettingsError(f"SSH login must be one of {', '.join(AUTH_METHODS)}")
        if self.auth == AUTH_KEY and not self.key_path:
            raise SshSettingsError("SSH login by key needs a key file")
        return self

    def label(self) -> str:
        """user@host[:port], as typed on a command line."""
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port != DEFAULT_SSH_PORT else ""
        return f"{user}{host}{port}"


def parse_target(text: str) -> tuple[str, str, int]:
    """"user@host[:port]" (or [v6]:port) -> (user, host, port); raises SshSettingsError."""
    m = _TARGET_RE.match((text or "").strip())
    if not m:
        raise SshSettingsError(f"expected USER@HOST[:PORT] for the SSH server, not {text!r}")
    port = int(m.group("port")) if m.group("port") else DEFAULT_SSH_PORT
    if not 0 < port < 65536:
        raise SshSettingsError(f"SSH port must be a number from 1 to 65535, not {port}")
    return m.group("user") or "", m.group("v6") or m.group("host"), port

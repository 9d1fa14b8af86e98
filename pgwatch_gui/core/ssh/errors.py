"""What can go wrong on the way through a tunnel, typed so callers can react.

Every message is one line and never holds a password or passphrase.
"""

from __future__ import annotations

from pgwatch_gui.core.pg.errors import RouteError

# The steps of a tunnel, in order, as the profile test reports them.
STEP_REACHABLE = "reachable"
STEP_HOST_KEY = "host key"
STEP_AUTH = "authenticated"
STEP_FORWARD = "forwarded"


class TunnelError(RouteError):
    """The tunnel could not be opened or was lost.

    `step` is where it failed (one of the STEP_* names); `retry` says whether trying
    again later can help (a bastion that is down: yes; a changed host key: no).
    """

    def __init__(self, message: str, *, step: str, retry: bool = True) -> None:
        super().__init__(message)
        self.step = step
        self.retry = retry


class HostKeyUnknown(TunnelError):
    """The SSH server's key is in no known_hosts entry: the user may accept it.

    `key_line` is the public key in OpenSSH form, to record once accepted.
    """

    def __init__(self, host: str, port: int, fingerprint: str, key_line: str) -> None:
        super().__init__(
            f"unknown host key for {host_label(host, port)} ({fingerprint}); "
            "accept it to connect",
            step=STEP_HOST_KEY, retry=False,
        )
        self.host = host
        self.port = port
        self.fingerprint = fingerprint
        self.key_line = key_line


class HostKeyChanged(TunnelError):
    """known_hosts holds another key for this server: refused, never accepted here."""

    def __init__(self, host: str, port: int, fingerprint: str, known_hosts: str) -> None:
        super().__init__(
            f"host key for {host_label(host, port)} has CHANGED (now {fingerprint}); "
            f"refused: if the change is expected, remove the old key from {known_hosts}",
            step=STEP_HOST_KEY, retry=False,
        )
        self.host = host
        self.port = port
        self.fingerprint = fingerprint


def host_label(host: str, port: int) -> str:
    return host if port == 22 else f"{host}:{port}"

"""Connection profiles: what a profile holds and how it becomes a libpq string.

A profile names a server and database the libpq way: host, port, dbname and user,
or a service name from a service file, or a URI / ``key=value`` string that the
named fields add to. It also holds the SSL settings, the channels to listen to,
whether to connect on start, and a colour for its events.

A profile never holds a password: passwords live in core.secrets (the OS keyring),
or libpq finds them itself in ``.pgpass`` and ``PGPASSWORD``. The file that holds
profiles is core.profile_store.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from pgwatch_gui.core.pg.connection import (
    APPLICATION_NAME,
    ConnectionConfigError,
    conninfo_dict,
    describe_target,
    make_conninfo,
)
from pgwatch_gui.core.pg.notify import NotifyError, check_channel
from pgwatch_gui.core.ssh.settings import (
    AUTH_AGENT,
    AUTH_KEY,
    DEFAULT_SSH_PORT,
    SshSettings,
    SshSettingsError,
)

SSLMODES = ("", "disable", "allow", "prefer", "require", "verify-ca", "verify-full")
CHANNEL_BINDINGS = ("", "disable", "prefer", "require")
# libpq secrets besides the password: a profile must not carry them either.
OTHER_SECRETS = ("sslpassword", "oauth_client_secret")

# Colours given to new profiles in turn: distinct on light and dark backgrounds.
PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
    "#17becf", "#e377c2", "#8c564b", "#bcbd22", "#7f7f7f",
)

_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_MAX_NAME = 100


class ProfileError(ValueError):
    """A profile that cannot be saved or used as it is; the message says why."""


class UnknownProfile(ProfileError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no profile named {name!r}")
        self.name = name


@dataclass
class Profile:
    name: str
    host: str = ""
    port: int | None = None
    dbname: str = ""
    user: str = ""
    service: str = ""
    # A URI or key=value string (without a password) that the fields above add to.
    uri: str = ""
    sslmode: str = ""
    sslrootcert: str = ""
    sslcert: str = ""
    sslkey: str = ""
    channel_binding: str = ""
    application_name: str = APPLICATION_NAME
    connect_timeout: int | None = None
    channels: list[str] = field(default_factory=list)
    auto_connect: bool = False
    color: str = ""
    # An SSH tunnel to reach the database through (no ssh_host: no tunnel). The key's
    # passphrase or the SSH password lives in the keyring, never here.
    ssh_host: str = ""
    ssh_port: int | None = None
    ssh_user: str = ""
    ssh_auth: str = ""  # key, agent or password; empty: key if ssh_key is set, else agent
    ssh_key: str = ""
    # Keys a newer version wrote that this one does not know: kept, written back.
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    # ---- libpq ------------------------------------------------------------------

    def libpq_params(self) -> dict[str, Any]:
        """The named libpq keywords this profile sets (empty ones left out)."""
        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "service": self.service,
            "sslmode": self.sslmode,
            "sslrootcert": self.sslrootcert,
            "sslcert": self.sslcert,
            "sslkey": self.sslkey,
            "channel_binding": self.channel_binding,
            "application_name": self.application_name,
            "connect_timeout": self.connect_timeout,
        }
        return {k: v for k, v in params.items() if v not in (None, "")}

    def conninfo(self, password: str | None = None) -> str:
        """A libpq connection string; with no password libpq looks in .pgpass/PGPASSWORD."""
        return make_conninfo(self.uri or None, **self.libpq_params(), password=password or None)

    def target(self) -> str:
        """user@host:port/db (or service=NAME), for lists and titles; " via ssh ..." too."""
        try:
            text = describe_target(self.conninfo())
        except ConnectionConfigError:
            return "<invalid connection string>"
        settings = self.ssh_settings()
        return f"{text} via ssh {settings.label()}" if settings else text

    # ---- SSH ----------------------------------------------------------------------

    @property
    def uses_ssh(self) -> bool:
        return bool(self.ssh_host)

    def ssh_settings(self) -> SshSettings | None:
        """The tunnel's settings, or None for a direct connection."""
        if not self.ssh_host:
            return None
        auth = self.ssh_auth or (AUTH_KEY if self.ssh_key else AUTH_AGENT)
        return SshSettings(host=self.ssh_host, user=self.ssh_user,
                           port=self.ssh_port or DEFAULT_SSH_PORT, auth=auth,
                           key_path=self.ssh_key)

    # ---- checks -----------------------------------------------------------------

    def validate(self) -> Profile:
        """Raise ProfileError if this profile cannot be saved; returns self."""
        name = self.name
        if not isinstance(name, str) or not name.strip():
            raise ProfileError("a profile needs a name")
        if name != name.strip():
            raise ProfileError("a profile name cannot start or end with spaces")
        if len(name) > _MAX_NAME:
            raise ProfileError(f"a profile name is at most {_MAX_NAME} characters")
        if any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise ProfileError("a profile name cannot contain control characters")
        if self.port is not None and not (isinstance(self.port, int) and 0 < self.port < 65536):
            raise ProfileError(f"port must be a number from 1 to 65535, not {self.port!r}")
        if self.connect_timeout is not None and (
            not isinstance(self.connect_timeout, int) or self.connect_timeout < 0
        ):
            raise ProfileError("connect timeout must be a whole number of seconds")
        if self.sslmode not in SSLMODES:
            raise ProfileError(f"sslmode must be one of {', '.join(SSLMODES[1:])}")
        if self.channel_binding not in CHANNEL_BINDINGS:
            raise ProfileError(
                f"channel_binding must be one of {', '.join(CHANNEL_BINDINGS[1:])}"
            )
        if self.color and not _COLOR_RE.match(self.color):
            raise ProfileError(f"colour must look like #1f77b4, not {self.color!r}")
        for ch in self.channels:
            try:
                check_channel(ch)
            except NotifyError as exc:
                raise ProfileError(str(exc)) from None
        if self.uri:
            try:
                params = conninfo_dict(self.uri)
            except ConnectionConfigError as exc:
                raise ProfileError(str(exc)) from None
            if "password" in params:
                raise ProfileError(
                    "the connection string holds a password; it belongs in the keyring"
                )
            for key in OTHER_SECRETS:
                if key in params:
                    raise ProfileError(f"{key} cannot be kept in a profile; leave it out")
        try:
            self.conninfo()
        except ConnectionConfigError as exc:
            raise ProfileError(str(exc)) from None
        self._validate_ssh()
        return self

    def _validate_ssh(self) -> None:
        if not self.ssh_host:
            if self.ssh_user or self.ssh_key or self.ssh_auth or self.ssh_port:
                raise ProfileError("SSH settings without an SSH host")
            return
        if self.ssh_port is not None and not (
            isinstance(self.ssh_port, int) and 0 < self.ssh_port < 65536
        ):
            raise ProfileError(f"SSH port must be a number from 1 to 65535, not {self.ssh_port!r}")
        try:
            self.ssh_settings().validate()  # type: ignore[union-attr]
        except SshSettingsError as exc:
            raise ProfileError(str(exc)) from None

    # ---- (de)serialisation ----------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        extra = data.pop("extra") or {}
        data["channels"] = list(self.channels)
        for k, v in extra.items():
            if k not in data and k != "password":
                data[k] = v
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Profile:
        """Build a profile from its file form; raises ProfileError for a wrong shape."""
        if not isinstance(data, dict):
            raise ProfileError(f"expected an object, found {type(data).__name__}")
        known = {f.name: f for f in fields(cls) if f.name != "extra"}
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            if key == "password":
                continue  # never kept, even if someone wrote it in by hand
            if key not in known:
                extra[key] = value
                continue
            kwargs[key] = _coerce(key, value)
        if "name" not in kwargs:
            raise ProfileError("a profile without a name")
        return cls(**kwargs, extra=extra)

    def copy(self, **changes: Any) -> Profile:
        changes.setdefault("channels", list(self.channels))
        changes.setdefault("extra", dict(self.extra))
        return replace(self, **changes)


_STR_FIELDS = {
    "name", "host", "dbname", "user", "service", "uri", "sslmode", "sslrootcert",
    "sslcert", "sslkey", "channel_binding", "application_name", "color",
    "ssh_host", "ssh_user", "ssh_auth", "ssh_key",
}


def _coerce(key: str, value: Any) -> Any:
    if key in _STR_FIELDS:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ProfileError(f"{key} must be text, found {type(value).__name__}")
        return value
    if key in ("port", "connect_timeout", "ssh_port"):
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise ProfileError(f"{key} must be a number")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ProfileError(f"{key} must be a number, found {value!r}") from None
    if key == "channels":
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise ProfileError("channels must be a list of names")
        return list(value)
    if key == "auto_connect":
        if not isinstance(value, bool):
            raise ProfileError("auto_connect must be true or false")
        return value
    return value  # pragma: no cover - every field is handled above


def next_color(used: list[str] | set[str]) -> str:
    """The first palette colour no profile uses yet (cycling when all are used)."""
    used_lower = {c.lower() for c in used}
    for color in PALETTE:
        if color not in used_lower:
            return color
    return PALETTE[len(used_lower) % len(PALETTE)]


def unique_name(base: str, taken: set[str] | list[str]) -> str:
    """`base`, or `base (2)`, `base (3)`... whichever is free."""
    taken = set(taken)
    if base not in taken:
        return base
    n = 2
    while f"{base} ({n})" in taken:
        n += 1
    return f"{base} ({n})"

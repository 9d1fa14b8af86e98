"""The password file libpq reads (~/.pgpass), where a password goes when no keyring can
keep it.

A profile's password belongs in the OS keyring. Where there is no usable one (a
headless server), a password given to `profiles add` or the profile dialog would only
live as long as the process; instead it goes where psql and every libpq program find it:
one line `host:port:database:user:password` in the password file (PGPASSFILE, else
~/.pgpass, %APPDATA%\\postgresql\\pgpass.conf on Windows), mode 0600 (libpq ignores a
file others can read), with `:` and `\\` escaped. The line names exactly what the
profile connects to, with libpq's defaults filled in (the PG* variables, the service
file, `localhost` for the local socket, the login name); an existing line for the same
four fields is replaced, every other line is kept as it was.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Protocol

from psycopg import conninfo as _ci
from psycopg import pq

from pgwatch_gui.core.profiles.imports import read_service_file, service_files
from pgwatch_gui.core.profiles.store import atomic_write


class _Secrets(Protocol):
    problem: str

    def set(self, profile: str, password: str, *, session_only: bool = False) -> bool: ...


def passfile(params: dict[str, str] | None = None) -> Path:
    """The password file libpq reads for these connection parameters."""
    given = (params or {}).get("passfile") or os.environ.get("PGPASSFILE")
    if given:
        return Path(given).expanduser()
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        return Path(os.environ.get("APPDATA", "~")) / "postgresql" / "pgpass.conf"
    return Path("~/.pgpass").expanduser()


def shown(path: Path) -> str:
    """A path as a user reads it: ~/.pgpass rather than /home/me/.pgpass."""
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except (ValueError, RuntimeError):
        return str(path)


def escape(field: str) -> str:
    return field.replace("\\", "\\\\").replace(":", "\\:")


def _split(line: str) -> list[str]:
    """The fields of a password file line, unescaped."""
    fields, cur, i = [], [], 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            cur.append(line[i + 1])
            i += 2
            continue
        if ch == ":":
            fields.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    fields.append("".join(cur))
    return fields


def _defaults() -> dict[str, str]:
    out = {}
    for opt in pq.Conninfo.get_defaults():
        if opt.val is not None:
            out[opt.keyword.decode()] = opt.val.decode()
    return out


def targets(conninfo: str, *, any_port: bool = False) -> list[tuple[str, str, str, str]]:
    """(host, port, database, user) of each host a connection string reaches, as libpq
    matches them against the password file. `any_port`: `*` for the port (a profile
    behind an SSH tunnel connects to a local port that changes)."""
    params = {k: str(v) for k, v in _ci.conninfo_to_dict(conninfo).items() if v is not None}
    if params.get("service"):
        for path in service_files():
            section = read_service_file(path).get(params["service"])
            if section is not None:
                params = {**section, **params}
                break
    defaults = _defaults()
    user = params.get("user") or defaults.get("user", "")
    db = params.get("dbname") or defaults.get("dbname") or user
    hosts = (params.get("host") or params.get("hostaddr") or defaults.get("host")
             or "localhost").split(",")
    ports = (params.get("port") or defaults.get("port") or "5432").split(",")
    out = []
    for i, host in enumerate(hosts):
        port = "*" if any_port else (ports[i] if i < len(ports) else ports[-1]) or "5432"
        out.append((host.strip() or "localhost", port.strip(), db, user))
    return list(dict.fromkeys(out))


def save(conninfo: str, password: str, *, any_port: bool = False) -> Path:
    """Write (or replace) the password's lines at the top of the password file, mode
    0600; returns the file. Raises OSError when it cannot be written, ValueError for a
    password a line cannot hold."""
    params = {k: str(v) for k, v in _ci.conninfo_to_dict(conninfo).items() if v is not None}
    path = passfile(params)
    wanted = targets(conninfo, any_port=any_port)
    try:
        lines = path.read_text("utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    if "\n" in password or "\r" in password:
        raise ValueError("a password with a line break cannot go to the password file")
    kept = [ln for ln in lines
            if ln.lstrip().startswith("#") or tuple(_split(ln)[:4]) not in wanted]
    # First: libpq takes the first line that matches, and a wildcard line further up
    # would otherwise win over this one.
    ours = [":".join(escape(f) for f in (*t, password)) for t in wanted]
    atomic_write(path, ("\n".join(ours + kept) + "\n").encode("utf-8"))  # a new file: 0600
    if os.name == "posix":
        os.chmod(path, 0o600)
    return path


def keep_password(secrets: _Secrets, name: str, conninfo: str, password: str, *,
                  any_port: bool = False) -> str:
    """Keep a profile's password where it lasts: the keyring, else the password file.

    Returns where it went, in words for the user ("the keyring", or the file: ~/.pgpass).
    Raises OSError (or ValueError) when neither could take it; the password then stays
    in memory for this session only. File work: call it off the GUI thread."""
    if secrets.set(name, password):
        return "the keyring"
    return shown(save(conninfo, password, any_port=any_port))


def save_password(secrets: _Secrets, name: str, password: str, profile=None,
                  keyring_expected: bool = True) -> str | None:
    """The window's way: with `profile` (a password saved in the profile dialog), keep it
    (keep_password); without (asked for when connecting), the keyring or memory for this
    session. Returns a one-line note for the user when it did not go to the keyring."""
    if profile is not None:
        try:
            where = keep_password(secrets, name, profile.conninfo(), password,
                                  any_port=profile.uses_ssh)
        except (OSError, ValueError) as exc:
            return (f"{name}: the password file cannot take the password ({exc}); it is "
                    "kept in memory for this session only.")
        if where == "the keyring":
            return None
        return (f"{name}: no usable keyring: the password went to {where} (mode 0600), "
                "where libpq finds it.")
    if secrets.set(name, password) or not keyring_expected:
        return None
    return (f"{name}: the keyring did not take the password; it is kept in memory for "
            "this session only.")

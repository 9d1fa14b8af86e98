"""Profiles from the tools DBAs already keep their servers in: pgAdmin 4 and DBeaver.

pgAdmin 4: the `servers.json` of *Tools → Import/Export Servers* (or
`setup.py dump-servers`). DBeaver: the workspace's `data-sources.json`
(``.dbeaver/data-sources.json`` in a project folder).

Only PostgreSQL connections are taken; SSH tunnel settings come along where the file
has them. Everything a profile cannot hold (a pgAdmin role to SET, a DBeaver
bootstrap query...) is listed per connection, never guessed at, and whole entries
that cannot be read are listed with the reason. A password found in a file (rare:
neither tool writes them there by default) is returned apart from the profile, for
the keyring only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pgwatch_gui.core.profiles.imports import profile_from_params
from pgwatch_gui.core.profiles.model import Profile, ProfileError
from pgwatch_gui.core.profiles.pgpass import keep_password
from pgwatch_gui.core.ssh.settings import AUTH_AGENT, AUTH_KEY, AUTH_PASSWORD, DEFAULT_SSH_PORT

_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_JDBC_RE = re.compile(r"^jdbc:postgresql://(?P<host>\[[^\]]+\]|[^:/?]*)(?::(?P<port>\d+))?"
                      r"(?:/(?P<db>[^?]*))?(?:\?(?P<query>.*))?$", re.IGNORECASE)


@dataclass
class Imported:
    profile: Profile
    password: str | None = None  # for the keyring only
    ssh_secret: str | None = None  # for the keyring only
    notes: list[str] = field(default_factory=list)  # settings not carried over


@dataclass
class ImportResult:
    source: str
    found: list[Imported] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "NAME: why", whole entries left out


def _read_json(path: Path | str, what: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ProfileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{path} is not UTF-8 text; is it {what}?") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{path} is not JSON ({exc.msg}, line {exc.lineno}); "
                           f"is it {what}?") from None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _check_port(params: dict[str, str]) -> dict[str, str]:
    port = params.get("port", "")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ProfileError(f"port {port!r} is not a port number")
    return params


def _finish(item: Imported, result: ImportResult, label: str) -> None:
    try:
        item.profile.validate()
    except ProfileError as exc:
        result.skipped.append(f"{label}: {exc}")
        return
    result.found.append(item)


# ---- pgAdmin 4 -----------------------------------------------------------------------

# servers.json keys (old and new spellings) -> libpq keywords.
_PGADMIN_LIBPQ = {
    "Host": "host", "HostAddr": "hostaddr", "Port": "port", "MaintenanceDB": "dbname",
    "Username": "user", "Service": "service", "SSLMode": "sslmode", "SSLCert": "sslcert",
    "SSLKey": "sslkey", "SSLRootCert": "sslrootcert", "SSLCrl": "sslcrl",
    "SSLCompression": "sslcompression", "PassFile": "passfile", "Timeout": "connect_timeout",
}
# Only naming, grouping and look: nothing about the connection is lost with them.
_PGADMIN_COSMETIC = {"Name", "Group", "Comment", "FGColor", "BGColor", "Shared",
                     "SharedUsername", "DBRestriction", "TunnelKeepAlive",
                     "PasswordExecCommand", "PasswordExecExpiration", "Tags"}
_PGADMIN_TUNNEL = {"UseSSHTunnel", "TunnelHost", "TunnelPort", "TunnelUsername",
                   "TunnelAuthentication", "TunnelIdentityFile", "TunnelPassword",
                   "TunnelPromptPassword", "SavePassword", "Password"}


def import_pgadmin(path: Path | str) -> ImportResult:
    """Profiles from a pgAdmin 4 servers.json export."""
    doc = _read_json(path, "a pgAdmin servers.json export")
    servers = doc.get("Servers") if isinstance(doc, dict) else None
    if not isinstance(servers, dict):
        raise ProfileError(f"{path} has no \"Servers\" object; is it a pgAdmin export?")
    result = ImportResult("pgAdmin")
    for key, entry in servers.items():
        if not isinstance(entry, dict):
            result.skipped.append(f"server {key}: not an object")
            continue
        label = _text(entry.get("Name")) or f"server {key}"
        try:
            item = _pgadmin_entry(label, entry)
        except ProfileError as exc:
            result.skipped.append(f"{label}: {exc}")
            continue
        _finish(item, result, label)
    return result


def _pgadmin_entry(name: str, entry: dict) -> Imported:
    params: dict[str, str] = {}
    notes: list[str] = []
    for key, keyword in _PGADMIN_LIBPQ.items():
        value = _text(entry.get(key))
        if value:
            params[keyword] = value
    conn_params = entry.get("ConnectionParameters") or {}
    if not isinstance(conn_params, dict):
        raise ProfileError("ConnectionParameters is not an object")
    password = _text(entry.get("Password")) or None
    for key, value in conn_params.items():
        if key == "password":
            password = _text(value) or password
        elif _text(value):
            params[key] = _text(value)
    for key in entry:
        if key not in _PGADMIN_LIBPQ and key not in _PGADMIN_COSMETIC \
                and key not in _PGADMIN_TUNNEL and key not in ("ConnectionParameters", "Role"):
            notes.append(f"{key} not imported")
    if _text(entry.get("Role")):
        notes.append(f"Role {_text(entry.get('Role'))!r} not imported (run SET ROLE yourself)")
    profile = profile_from_params(name, _check_port(params))
    color = _text(entry.get("BGColor"))
    if _COLOR_RE.match(color):
        profile.color = color.lower()
    item = Imported(profile, password=password, notes=notes)
    if int(_text(entry.get("UseSSHTunnel")) or 0):
        _pgadmin_tunnel(entry, item)
    return item


def _pgadmin_tunnel(entry: dict, item: Imported) -> None:
    p = item.profile
    p.ssh_host = _text(entry.get("TunnelHost"))
    if not p.ssh_host:
        raise ProfileError("uses an SSH tunnel without a tunnel host")
    port = _text(entry.get("TunnelPort"))
    if port and port.isdigit() and int(port) != DEFAULT_SSH_PORT:
        p.ssh_port = int(port)
    p.ssh_user = _text(entry.get("TunnelUsername"))
    # pgAdmin: TunnelAuthentication 0 = password, 1 = identity file.
    if int(_text(entry.get("TunnelAuthentication")) or 0) == 1:
        p.ssh_key = _text(entry.get("TunnelIdentityFile"))
        p.ssh_auth = AUTH_KEY if p.ssh_key else AUTH_AGENT
        if not p.ssh_key:
            item.notes.append("SSH identity file not given: the SSH agent is used")
    else:
        p.ssh_auth = AUTH_PASSWORD
    item.ssh_secret = _text(entry.get("TunnelPassword")) or None
    if p.ssh_auth == AUTH_PASSWORD and not item.ssh_secret:
        item.notes.append("SSH password not in the file: enter it in the profile")


# ---- DBeaver -------------------------------------------------------------------------

_DBEAVER_SSL = {"sslMode": "sslmode", "ssl.mode": "sslmode", "sslRootCert": "sslrootcert",
                "ssl.ca": "sslrootcert", "ssl.cert": "sslcert", "sslClientCert": "sslcert",
                "ssl.key": "sslkey", "sslClientKey": "sslkey"}
_DBEAVER_SSH_AUTH = {"PUBLIC_KEY": AUTH_KEY, "PASSWORD": AUTH_PASSWORD, "AGENT": AUTH_AGENT}


def import_dbeaver(path: Path | str) -> ImportResult:
    """Profiles from a DBeaver data-sources.json (PostgreSQL connections only)."""
    doc = _read_json(path, "a DBeaver data-sources.json")
    conns = doc.get("connections") if isinstance(doc, dict) else None
    if not isinstance(conns, dict):
        raise ProfileError(f"{path} has no \"connections\" object; "
                           "is it DBeaver's data-sources.json?")
    result = ImportResult("DBeaver")
    for key, entry in conns.items():
        if not isinstance(entry, dict):
            result.skipped.append(f"{key}: not an object")
            continue
        label = _text(entry.get("name")) or key
        provider = _text(entry.get("provider")).lower()
        if provider not in ("postgresql", "postgres"):
            result.skipped.append(f"{label}: not PostgreSQL (provider {provider or '?'})")
            continue
        try:
            item = _dbeaver_entry(label, entry)
        except ProfileError as exc:
            result.skipped.append(f"{label}: {exc}")
            continue
        _finish(item, result, label)
    return result


def _dbeaver_entry(name: str, entry: dict) -> Imported:
    cfg = entry.get("configuration")
    if not isinstance(cfg, dict):
        raise ProfileError("no configuration")
    params: dict[str, str] = {}
    notes: list[str] = []
    url = _text(cfg.get("url"))
    if _text(cfg.get("configurationType")).upper() == "URL" or (url and not cfg.get("host")):
        m = _JDBC_RE.match(url)
        if not m:
            raise ProfileError(f"JDBC URL {url!r} not understood")
        params.update({"host": m.group("host").strip("[]"), "port": m.group("port") or "",
                       "dbname": m.group("db") or ""})
        if m.group("query"):
            notes.append("JDBC URL parameters not imported")
    else:
        params.update({"host": _text(cfg.get("host")), "port": _text(cfg.get("port")),
                       "dbname": _text(cfg.get("database"))})
    params["user"] = _text(cfg.get("user"))
    params = {k: v for k, v in params.items() if v}
    password = _text(cfg.get("password")) or None
    if not params.get("user"):
        notes.append("user name not in the file (DBeaver keeps it encrypted in "
                      "credentials-config.json): libpq's default applies until you set it")
    if _text(cfg.get("auth-model")) not in ("", "native", "postgres_pgpass"):
        notes.append(f"authentication {_text(cfg.get('auth-model'))!r} not imported")
    if cfg.get("bootstrap"):
        boot = cfg["bootstrap"]
        if isinstance(boot, dict) and (boot.get("initQueries") or boot.get("defaultSchema")):
            notes.append("bootstrap queries / default schema not imported")
    handlers = cfg.get("handlers") or {}
    ssh_secret = None
    ssh_user = ""
    ssh: dict = {}
    for hid, handler in handlers.items() if isinstance(handlers, dict) else ():
        if not isinstance(handler, dict) or not handler.get("enabled"):
            continue
        props = handler.get("properties") or {}
        if hid == "ssh_tunnel":
            ssh, ssh_user = props, _text(handler.get("user")) or _text(props.get("user"))
            ssh_secret = _text(handler.get("password")) or None
        elif hid in ("postgre_ssl", "ssl"):
            for key, keyword in _DBEAVER_SSL.items():
                if _text(props.get(key)):
                    params[keyword] = _text(props[key]).lower() if keyword == "sslmode" \
                        else _text(props[key])
        else:
            notes.append(f"network handler {hid!r} not imported")
    profile = profile_from_params(name, _check_port(params))
    item = Imported(profile, password=password, ssh_secret=ssh_secret, notes=notes)
    if ssh:
        _dbeaver_tunnel(ssh, ssh_user, item)
    return item


def _dbeaver_tunnel(props: dict, user: str, item: Imported) -> None:
    p = item.profile
    p.ssh_host = _text(props.get("host"))
    if not p.ssh_host:
        raise ProfileError("SSH tunnel without a host")
    port = _text(props.get("port"))
    if port.isdigit() and int(port) != DEFAULT_SSH_PORT:
        p.ssh_port = int(port)
    p.ssh_user = user
    auth = _text(props.get("authType")).upper() or "PASSWORD"
    if auth not in _DBEAVER_SSH_AUTH:
        raise ProfileError(f"SSH authentication {auth} not supported")
    p.ssh_auth = _DBEAVER_SSH_AUTH[auth]
    p.ssh_key = _text(props.get("keyPath")) if p.ssh_auth == AUTH_KEY else ""
    if p.ssh_auth == AUTH_KEY and not p.ssh_key:
        p.ssh_auth = AUTH_AGENT
        item.notes.append("SSH key path not given: the SSH agent is used")
    if not user:
        item.notes.append("SSH user not in the file (encrypted by DBeaver): set it")
    if p.ssh_auth == AUTH_PASSWORD and not item.ssh_secret:
        item.notes.append("SSH password not in the file: enter it in the profile")
    for hop in ("jumpServers", "bastionHost"):
        if props.get(hop):
            item.notes.append(f"SSH {hop} not imported (one SSH server only)")


# ---- saving ----------------------------------------------------------------------------


NOT_KEPT = "not kept"  # in a line of save_imported: a secret found had nowhere to go


def save_imported(store, result: ImportResult) -> list[str]:
    """Add what was found to `store` (a ProfileStore), passwords to the keyring (without
    one, a database password to libpq's password file, core.profiles.pgpass).

    A name that exists already is left alone (said so, not overwritten or renamed).
    Returns one line per connection, then one per entry not imported: what to show.
    File and keyring work: call it off the GUI thread.
    """
    lines: list[str] = []
    for item in result.found:
        p = item.profile
        if store.get(p.name) is not None:
            lines.append(f"skipped {p.name!r}: a profile of that name exists")
            continue
        try:
            store.add(p)
        except (ProfileError, OSError) as exc:
            lines.append(f"skipped {p.name!r}: {exc}")
            continue
        kept = []
        if item.password:
            try:
                where = keep_password(store.secrets, p.name, p.conninfo(), item.password,
                                      any_port=p.uses_ssh)
                kept.append(f"password to {where}")
            except (OSError, ValueError) as exc:
                kept.append(f"password {NOT_KEPT}: {store.secrets.problem or exc}")
        if item.ssh_secret:
            if store.ssh_secrets.set(p.name, item.ssh_secret):
                kept.append("SSH secret to the keyring")
            else:  # only a keyring can keep it: the window asks for it when it connects
                kept.append(f"SSH secret {NOT_KEPT}: "
                            f"{store.ssh_secrets.problem or 'no usable keyring'}")
        saved = f" ({'; '.join(kept)})" if kept else ""
        lines.append(f"added profile {p.name!r}: {p.target()}{saved}")
        lines.extend(f"  {p.name}: {note}" for note in item.notes)
    lines.extend(f"not imported: {why}" for why in result.skipped)
    return lines

"""Profiles from what libpq users already have: URIs, service files, PG* variables.

Every importer returns the profile and, separately, the password it found (or None),
so that the caller puts the password into the keyring and never into the profile.

URIs are read leniently: a password pasted raw, with ``@``, ``:``, ``/`` or ``%`` in
it, works as well as a properly percent-encoded one. The credentials are split off
before libpq sees the rest, so a parse error can never quote the password.
"""

from __future__ import annotations

import configparser
import os
import sys
from pathlib import Path

from pgwatch_gui.core.pg.dsn import parse_dsn
from pgwatch_gui.core.profiles.model import OTHER_SECRETS, Profile, ProfileError

# libpq keywords that map onto Profile fields (the rest stay in Profile.uri).
_FIELD_KEYS = (
    "host", "dbname", "user", "service", "sslmode", "sslrootcert", "sslcert", "sslkey",
    "channel_binding", "application_name",
)
_INT_KEYS = ("port", "connect_timeout")

def profile_from_params(name: str, params: dict[str, str]) -> Profile:
    """A profile from libpq keywords (no password): known ones become fields."""
    rest = dict(params)
    for key in OTHER_SECRETS:
        if key in rest:
            raise ProfileError(f"{key} cannot be kept in a profile; leave it out")
    profile = Profile(name=name)
    for key in _FIELD_KEYS:
        if key in rest:
            setattr(profile, key, rest.pop(key))
    for key in _INT_KEYS:
        value = rest.get(key)
        if value is not None and value.strip().isdigit():
            setattr(profile, key, int(rest.pop(key)))
    if rest:
        from psycopg import conninfo as _ci

        profile.uri = _ci.make_conninfo("", **rest)
    return profile


def profile_from_dsn(name: str, dsn: str) -> tuple[Profile, str | None]:
    """(profile, password) from a URI or key=value string."""
    parsed = parse_dsn(dsn)
    return profile_from_params(name, parsed.params), parsed.password


# ---- environment ------------------------------------------------------------------

ENV_KEYS = {
    "PGHOST": "host", "PGPORT": "port", "PGDATABASE": "dbname", "PGUSER": "user",
    "PGSERVICE": "service", "PGSSLMODE": "sslmode", "PGSSLROOTCERT": "sslrootcert",
    "PGSSLCERT": "sslcert", "PGSSLKEY": "sslkey", "PGCHANNELBINDING": "channel_binding",
    "PGAPPNAME": "application_name", "PGCONNECT_TIMEOUT": "connect_timeout",
}


def profile_from_env(name: str, environ: dict[str, str] | None = None
                     ) -> tuple[Profile, str | None]:
    """(profile, PGPASSWORD) from the PG* variables that are set."""
    env = os.environ if environ is None else environ
    params = {key: env[var] for var, key in ENV_KEYS.items() if env.get(var)}
    return profile_from_params(name, params), env.get("PGPASSWORD") or None


# ---- service files ----------------------------------------------------------------


def service_files(environ: dict[str, str] | None = None) -> list[Path]:
    """The service files libpq reads, user file first (those that exist)."""
    env = os.environ if environ is None else environ
    paths: list[Path] = []
    if env.get("PGSERVICEFILE"):
        paths.append(Path(env["PGSERVICEFILE"]).expanduser())
    elif sys.platform == "win32":  # pragma: no cover
        paths.append(Path(env.get("APPDATA", "")) / "postgresql" / ".pg_service.conf")
    else:
        paths.append(Path("~/.pg_service.conf").expanduser())
    if env.get("PGSYSCONFDIR"):
        paths.append(Path(env["PGSYSCONFDIR"]) / "pg_service.conf")
    return [p for p in paths if p.is_file()]


def read_service_file(path: Path | str) -> dict[str, dict[str, str]]:
    """Sections of a pg_service.conf: {service: {keyword: value}} (passwords dropped)."""
    parser = configparser.RawConfigParser(
        delimiters=("=",), comment_prefixes=("#",), inline_comment_prefixes=None,
        strict=False, interpolation=None,
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise ProfileError(f"cannot read service file {path}: {first}") from None
    return {
        section: {k.strip(): v.strip() for k, v in parser.items(section)
                  if k.strip() not in ("password", *OTHER_SECRETS)}
        for section in parser.sections()
    }


def profiles_from_services(environ: dict[str, str] | None = None) -> list[Profile]:
    """One profile per service libpq knows; each refers to its service by name.

    libpq reads the service file when connecting, so later edits to it apply, and a
    password written in the service file stays there.
    """
    seen: dict[str, Profile] = {}
    for path in service_files(environ):
        for service in read_service_file(path):
            if service not in seen:
                seen[service] = Profile(name=service, service=service)
    return list(seen.values())

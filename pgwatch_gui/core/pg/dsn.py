"""Reading a connection string leniently: a URI or key=value string, split into libpq
keywords and the password.

A password pasted raw into a URI, with ``@``, ``:``, ``/`` or ``%`` in it, works as well
as a properly percent-encoded one. The credentials are split off before libpq sees the
rest, so a parse error can never quote the password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

import psycopg
from psycopg import conninfo as _ci

from pgwatch_gui.core.pg.errors import one_line


class ConnectionConfigError(ValueError):
    """The connection string itself is malformed (nothing was sent to a server)."""


def conninfo_dict(conninfo: str) -> dict[str, str]:
    try:
        return _ci.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as exc:
        raise ConnectionConfigError(f"invalid connection string: {one_line(exc)}") from None


_URI_RE = re.compile(r"^(postgres(?:ql)?://)(.*)$", re.IGNORECASE | re.DOTALL)
_VALID_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass
class ParsedDsn:
    params: dict[str, str]  # every libpq keyword in the string, password removed
    password: str | None


def _decode(part: str) -> str:
    """Percent-decode when the text is valid percent-encoding, else take it as typed."""
    if "%" in part and not _VALID_PCT.search(part):
        try:
            return unquote(part, errors="strict")
        except UnicodeDecodeError:
            return part
    return part


def parse_dsn(dsn: str) -> ParsedDsn:
    """Split a URI or key=value string into libpq keywords and the password.

    Raises ConnectionConfigError with a message that never contains the password.
    """
    dsn = (dsn or "").strip()
    m = _URI_RE.match(dsn)
    if m:
        scheme, rest = m.groups()
        head_end = rest.find("?")
        head = rest if head_end < 0 else rest[:head_end]
        at = head.rfind("@")
        user = password = None
        if at >= 0:
            userinfo, rest = rest[:at], rest[at + 1:]
            raw_user, colon, raw_pw = userinfo.partition(":")
            user = _decode(raw_user) or None
            password = _decode(raw_pw) if colon else None
        try:
            params = conninfo_dict(scheme + rest)
        except ConnectionConfigError as exc:
            raise ConnectionConfigError(str(exc)) from None
        if user is not None:
            params.setdefault("user", user)
        if "password" in params:  # ?password=... in the query string
            password = params.pop("password")
        return ParsedDsn(params, password or None)
    try:
        params = conninfo_dict(dsn)
    except ConnectionConfigError:
        if "password" in dsn.lower():
            raise ConnectionConfigError(
                "invalid connection string (values with spaces, quotes or backslashes "
                "need 'single quotes')"
            ) from None
        raise
    password = params.pop("password", None)
    return ParsedDsn(params, password or None)

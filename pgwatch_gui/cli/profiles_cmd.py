"""`pgwatch-gui profiles`: list, show, add, remove and import connection profiles.

Passwords go to the OS keyring, never to the profiles file and never to the output;
without a usable keyring, a database password goes to libpq's password file (~/.pgpass,
mode 0600) and stderr says so.
"""

from __future__ import annotations

import argparse
import json
import sys

from pgwatch_gui.cli.common import CliError, open_store, warn
from pgwatch_gui.cli.ending import EXIT_FAILED, say
from pgwatch_gui.cli.profiles_import import register_tool_imports
from pgwatch_gui.cli.profiles_ssh import (
    add_ssh_args,
    apply_ssh_args,
    read_ssh_secret,
    register_trust,
    ssh_rows,
)
from pgwatch_gui.core.pg.connection import ConnectionConfigError, redact
from pgwatch_gui.core.profiles import pgpass
from pgwatch_gui.core.profiles.imports import (
    profile_from_dsn,
    profile_from_env,
    profiles_from_services,
)
from pgwatch_gui.core.profiles.model import Profile, ProfileError
from pgwatch_gui.core.profiles.pgpass import keep_password
from pgwatch_gui.core.profiles.store import ProfileStore, ProfileStoreError
from pgwatch_gui.core.ssh.settings import AUTH_KEY, AUTH_PASSWORD


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "profiles", help="list, show, add and remove connection profiles",
        description="Saved connection profiles. Passwords live in the OS keyring.",
    )
    ps = p.add_subparsers(dest="action", metavar="ACTION", required=True,
                          parser_class=type(p))

    lp = ps.add_parser("list", help="one line per profile")
    lp.add_argument("--json", action="store_true", help="a JSON array instead of text")
    lp.set_defaults(func=run_list)

    sp = ps.add_parser("show", help="everything about one profile (never its password)")
    sp.add_argument("name")
    sp.add_argument("--json", action="store_true", help="a JSON object instead of text")
    sp.set_defaults(func=run_show)

    ap = ps.add_parser("add", help="save a profile from a URI, key=value string or PG* vars")
    ap.add_argument("name")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--dsn", help="URI or key=value string; a password in it goes to the "
                     "keyring, not the file")
    src.add_argument("--from-env", action="store_true",
                     help="take PGHOST, PGPORT, PGDATABASE, PGUSER, PGSERVICE, PGSSLMODE... "
                     "(and PGPASSWORD, to the keyring)")
    ap.add_argument("-c", "--channel", action="append", default=[],
                    help="channel to listen to (repeatable)")
    ap.add_argument("--password-stdin", action="store_true",
                    help="read the password from the first line of standard input")
    ap.add_argument("--color", default="", help="colour of its events, like #1f77b4")
    ap.add_argument("--auto-connect", action="store_true", help="connect when the window opens")
    ap.add_argument("--replace", action="store_true", help="overwrite a profile of that name")
    add_ssh_args(ap)
    ap.set_defaults(func=run_add)

    rp = ps.add_parser("remove", help="delete a profile and its stored password")
    rp.add_argument("name")
    rp.set_defaults(func=run_remove)

    ip = ps.add_parser("import-services",
                       help="a profile for every service in ~/.pg_service.conf (PGSERVICEFILE)")
    ip.set_defaults(func=run_import_services)

    register_tool_imports(ps)
    register_trust(ps)


def _password_state(store: ProfileStore, name: str) -> str:
    secrets = store.secrets
    if secrets.get(name) is None:
        return "none saved (libpq's .pgpass or PGPASSWORD apply)"
    if secrets.in_session_only(name):
        return "kept for this session only"
    return f"stored in the keyring ({secrets.describe()})"


def _public(store: ProfileStore, profile: Profile) -> dict:
    data = profile.to_dict()
    data["password_saved"] = store.secrets.get(profile.name) is not None
    if profile.uses_ssh:
        data["ssh_secret_saved"] = store.ssh_secrets.get(profile.name) is not None
    return data


def run_list(args: argparse.Namespace) -> int:
    store = open_store()
    if args.json:
        print(json.dumps([_public(store, p) for p in store.profiles], indent=2))
        return 0
    if not store.profiles:
        print(f"no profiles yet (file: {store.path})", file=sys.stderr)
        return 0
    width = max(len(p.name) for p in store.profiles)
    for p in store.profiles:
        chans = ",".join(p.channels) or "-"
        flags = " auto-connect" if p.auto_connect else ""
        print(f"{p.name:<{width}}  {p.target()}  channels={chans}{flags}")
    return 0


def _require(store: ProfileStore, name: str) -> Profile:
    profile = store.get(name)
    if profile is None:
        raise CliError(f"no profile named {name!r} (see `pgwatch-gui profiles list`)")
    return profile


def run_show(args: argparse.Namespace) -> int:
    store = open_store()
    profile = _require(store, args.name)
    if args.json:
        print(json.dumps(_public(store, profile), indent=2))
        return 0
    data = profile.to_dict()
    rows = [("name", profile.name)]
    for key, value in data.items():
        if (key in ("name", "channels", "auto_connect") or key.startswith("ssh_")
                or value in ("", None)):
            continue
        rows.append((key, str(value)))
    rows += [
        ("channels", ", ".join(profile.channels) or "(none)"),
        ("auto_connect", "yes" if profile.auto_connect else "no"),
        ("password", _password_state(store, profile.name)),
        *ssh_rows(store, profile),
        ("connection", redact(profile.conninfo())),
        ("file", str(store.path)),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key + ':':<{width + 1}} {value}")
    return 0


def run_add(args: argparse.Namespace) -> int:
    store = open_store()
    try:
        if args.from_env:
            profile, password = profile_from_env(args.name)
        else:
            profile, password = profile_from_dsn(args.name, args.dsn)
        if args.password_stdin:
            password = sys.stdin.readline().rstrip("\r\n") or None
        apply_ssh_args(args, profile)
        ssh_secret = read_ssh_secret(args)
        profile.channels = list(args.channel)
        profile.color = args.color
        profile.auto_connect = args.auto_connect
        profile.validate()
        if ssh_secret and not store.ssh_secrets.persistent:
            # Only a keyring can keep it (libpq's password file is for the database):
            # refused before anything is saved, rather than saved without it.
            raise CliError(f"nothing saved: no keyring can keep the SSH secret "
                           f"({store.ssh_secrets.problem or 'no usable keyring'}); log in "
                           "with the SSH agent or a key without a passphrase, or set up a "
                           "keyring", code=EXIT_FAILED)
        store.add(profile, replace=args.replace)
    except (ProfileError, ConnectionConfigError, ProfileStoreError) as exc:
        raise CliError(str(exc)) from None
    print(f"saved profile {profile.name!r}: {profile.target()}")
    if password:
        keep_db_password(store, profile, password)
    if ssh_secret and not store.ssh_secrets.set(profile.name, ssh_secret):
        raise CliError(f"profile {profile.name!r} saved, but not its SSH secret: "
                       f"{store.ssh_secrets.problem or 'the keyring refused it'}",
                       code=EXIT_FAILED)
    if not ssh_secret and args.replace and profile.ssh_auth not in (AUTH_KEY, AUTH_PASSWORD):
        store.ssh_secrets.delete(profile.name)  # a replaced tunnel's secret goes with it
    return 0


def keep_db_password(store: ProfileStore, profile: Profile, password: str) -> None:
    """The keyring, else libpq's password file (said on stderr); CliError (exit 1) when
    neither can take it. Never a password in a message."""
    conninfo = profile.conninfo()
    try:
        where = keep_password(store.secrets, profile.name, conninfo, password,
                              any_port=profile.uses_ssh)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CliError(f"profile {profile.name!r} saved, but not its password: "
                       f"{store.secrets.problem or 'no usable keyring'}, and the password "
                       f"file cannot take it ({reason}); use PGPASSWORD",
                       code=EXIT_FAILED) from None
    if where != "the keyring":
        lines = ", ".join(":".join(t) for t in pgpass.targets(conninfo,
                                                               any_port=profile.uses_ssh))
        say(f"pgwatch-gui: note: {store.secrets.problem or 'no usable keyring'}: the "
            f"password went to {where} (mode 0600, for {lines}), where libpq finds it")


def run_remove(args: argparse.Namespace) -> int:
    store = open_store()
    _require(store, args.name)
    try:
        store.remove(args.name)
    except ProfileStoreError as exc:
        raise CliError(str(exc)) from None
    print(f"removed profile {args.name!r}")
    return 0


def run_import_services(args: argparse.Namespace) -> int:
    store = open_store()
    try:
        found = profiles_from_services()
    except ProfileError as exc:
        raise CliError(str(exc)) from None
    if not found:
        raise CliError("no service file found (~/.pg_service.conf or PGSERVICEFILE)", code=1)
    for profile in found:
        if store.get(profile.name) is not None:
            print(f"skipped {profile.name!r}: a profile of that name exists")
            continue
        try:
            store.add(profile)
        except (ProfileError, ProfileStoreError) as exc:
            warn(f"service {profile.name!r}: {exc}")
            continue
        print(f"added profile {profile.name!r} (service={profile.service})")
    return 0

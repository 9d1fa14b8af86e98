"""The SSH side of `pgwatch-gui profiles`: --ssh options of `add`, and `trust-host-key`.

The key's passphrase and the SSH password are read from standard input (never from
an argument, which `ps` would show) and go to the keyring, never to the profiles file.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from pgwatch_gui.cli.common import CliError, open_store
from pgwatch_gui.core.profiles.model import Profile
from pgwatch_gui.core.profiles.store import ProfileStore
from pgwatch_gui.core.ssh.errors import HostKeyUnknown, TunnelError
from pgwatch_gui.core.ssh.settings import (
    AUTH_AGENT,
    AUTH_KEY,
    AUTH_PASSWORD,
    DEFAULT_SSH_PORT,
    SshSettingsError,
    parse_target,
)


def add_ssh_args(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("SSH tunnel (the database is reached through an SSH server)")
    g.add_argument("--ssh", metavar="USER@HOST[:PORT]",
                   help="the SSH server to tunnel through; the profile's host and port are "
                   "resolved there")
    g.add_argument("--ssh-key", metavar="PATH",
                   help="private key file (without it: the SSH agent and ~/.ssh/id_*)")
    how = g.add_mutually_exclusive_group()
    how.add_argument("--ssh-password-stdin", action="store_true",
                     help="log in with a password read from standard input (to the keyring)")
    how.add_argument("--ssh-passphrase-stdin", action="store_true",
                     help="the --ssh-key passphrase, read from standard input (to the keyring)")


def apply_ssh_args(args: argparse.Namespace, profile: Profile) -> None:
    """Copy --ssh* onto the profile; raises CliError for options that do not fit."""
    if not args.ssh:
        if args.ssh_key or args.ssh_password_stdin or args.ssh_passphrase_stdin:
            raise CliError("--ssh-key and --ssh-*-stdin need --ssh USER@HOST[:PORT]")
        return
    try:
        user, host, port = parse_target(args.ssh)
    except SshSettingsError as exc:
        raise CliError(str(exc)) from None
    if args.ssh_passphrase_stdin and not args.ssh_key:
        raise CliError("--ssh-passphrase-stdin goes with --ssh-key PATH")
    profile.ssh_host, profile.ssh_user = host, user
    profile.ssh_port = port if port != DEFAULT_SSH_PORT else None
    profile.ssh_key = args.ssh_key or ""
    if args.ssh_password_stdin:
        profile.ssh_auth = AUTH_PASSWORD
    else:
        profile.ssh_auth = AUTH_KEY if args.ssh_key else AUTH_AGENT


def read_ssh_secret(args: argparse.Namespace) -> str | None:
    """The SSH password or passphrase: the next line of standard input (after the
    database password's line when --password-stdin is given too)."""
    if not (getattr(args, "ssh_password_stdin", False)
            or getattr(args, "ssh_passphrase_stdin", False)):
        return None
    return sys.stdin.readline().rstrip("\r\n") or None


def ssh_rows(store: ProfileStore, profile: Profile) -> list[tuple[str, str]]:
    """Lines for `profiles show`: the tunnel, and whether a secret is saved (never which)."""
    settings = profile.ssh_settings()
    if settings is None:
        return []
    login = {AUTH_KEY: f"key {settings.key_path}", AUTH_PASSWORD: "password",
             AUTH_AGENT: "SSH agent or ~/.ssh/id_*"}[settings.auth]
    secrets = store.ssh_secrets
    if settings.auth == AUTH_AGENT:
        secret = "not needed"
    elif secrets.get(profile.name) is None:
        secret = "none saved"
    elif secrets.in_session_only(profile.name):
        secret = "kept for this session only"
    else:
        secret = f"stored in the keyring ({secrets.describe()})"
    return [("ssh", settings.label()), ("ssh_login", login),
            ("ssh_secret", secret)]


def register_trust(ps: argparse._SubParsersAction) -> None:
    tp = ps.add_parser(
        "trust-host-key",
        help="record the SSH server's host key of a profile in ~/.ssh/known_hosts",
        description="Connect to the profile's SSH server and record its host key, if it "
        "matches --fingerprint. A changed key is never replaced here.")
    tp.add_argument("name")
    tp.add_argument("--fingerprint", metavar="SHA256:...",
                    help="the fingerprint you checked (without it, it is only shown)")
    tp.set_defaults(func=run_trust)


def run_trust(args: argparse.Namespace) -> int:
    from pgwatch_gui.core.ssh.route import TunnelRoute
    from pgwatch_gui.core.ssh.tunnel import accept_host_key

    store = open_store()
    profile = store.get(args.name)
    if profile is None:
        raise CliError(f"no profile named {args.name!r} (see `pgwatch-gui profiles list`)")
    if not profile.uses_ssh:
        raise CliError(f"profile {args.name!r} has no SSH tunnel")

    async def probe() -> None:
        route = TunnelRoute(profile.conninfo(), profile.ssh_settings(),
                            secret=store.ssh_secrets.get(profile.name))
        try:
            await route.conninfo()
        finally:
            await route.close()

    try:
        asyncio.run(probe())
    except HostKeyUnknown as exc:
        if args.fingerprint != exc.fingerprint:
            print(f"host key of {profile.ssh_settings().label()}: {exc.fingerprint}")
            if args.fingerprint:
                raise CliError(f"the server shows {exc.fingerprint}, not {args.fingerprint}; "
                               "nothing recorded") from None
            print("check it, then run again with --fingerprint to record it")
            return 1
        accept_host_key(exc)
        print(f"recorded {exc.fingerprint} for {profile.ssh_settings().label()}")
        return 0
    except TunnelError as exc:
        if exc.step == "host key":
            raise CliError(str(exc)) from None
        print(f"host key already trusted; then: {exc}", file=sys.stderr)
        return 1
    print("host key already trusted")
    return 0

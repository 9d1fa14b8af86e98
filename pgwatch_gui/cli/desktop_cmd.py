"""`pgwatch-gui install-desktop`: a launcher entry and icon for the current user (Linux)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pgwatch_gui.cli.common import CliError
from pgwatch_gui.core.host import desktop


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "install-desktop",
        help="add pgwatch-gui to the desktop's application menu (Linux)",
        description="Install the .desktop entry and icons for the current user, with "
        "Exec= pointing at this copy of the app (~/.local/share by default).",
    )
    p.add_argument("--prefix", type=Path, metavar="DIR",
                   help="data directory to install into (default: $XDG_DATA_HOME or "
                   "~/.local/share; /usr/local/share for every user)")
    p.add_argument("--uninstall", action="store_true", help="remove what install put there")
    p.add_argument("--print", dest="print_only", action="store_true",
                   help="print the .desktop entry and install nothing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.print_only:
        print(desktop.desktop_entry(), end="")
        return 0
    try:
        if args.uninstall:
            paths = desktop.uninstall(args.prefix)
            verb = "removed"
        else:
            paths = desktop.install(args.prefix)
            verb = "installed"
    except OSError as exc:
        raise CliError(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None
    for path in paths:
        print(f"{verb} {path}")
    if not paths:
        print("nothing to remove")
    return 0

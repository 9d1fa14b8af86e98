"""`pgwatch-gui profiles import-pgadmin FILE` and `import-dbeaver FILE`."""

from __future__ import annotations

import argparse

from pgwatch_gui.cli.common import CliError, open_store
from pgwatch_gui.cli.ending import EXIT_FAILED
from pgwatch_gui.core.profiles.imports_tools import (
    NOT_KEPT,
    import_dbeaver,
    import_pgadmin,
    save_imported,
)
from pgwatch_gui.core.profiles.model import ProfileError


def register_tool_imports(ps: argparse._SubParsersAction) -> None:
    pg = ps.add_parser(
        "import-pgadmin", help="profiles from a pgAdmin 4 servers.json export",
        description="One profile per server of a pgAdmin 4 export (Tools > Import/Export "
        "Servers), SSH tunnels included. What a profile cannot hold is listed.")
    pg.add_argument("file", help="the servers.json file")
    pg.set_defaults(func=run_import, reader=import_pgadmin)
    db = ps.add_parser(
        "import-dbeaver", help="profiles from DBeaver's data-sources.json",
        description="One profile per PostgreSQL connection of a DBeaver workspace "
        "(.dbeaver/data-sources.json), SSH tunnels included. What a profile cannot hold "
        "is listed.")
    db.add_argument("file", help="the data-sources.json file")
    db.set_defaults(func=run_import, reader=import_dbeaver)


def run_import(args: argparse.Namespace) -> int:
    store = open_store()
    try:
        result = args.reader(args.file)
    except ProfileError as exc:
        raise CliError(str(exc)) from None
    if not result.found and not result.skipped:
        raise CliError(f"no connections in {args.file}", code=1)
    lines = save_imported(store, result)
    for line in lines:
        print(line)
    # 1: a password (or SSH password) found in the file had nowhere to be kept.
    return EXIT_FAILED if any(NOT_KEPT in line for line in lines) else 0

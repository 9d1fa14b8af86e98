"""More → Import of the profiles dock: from a URI, the PG* variables, the service file,
pgAdmin 4's servers.json and DBeaver's data-sources.json.

The tool imports go through a file dialog opened with open() (no nested event loop),
read the file and save the profiles off the GUI thread (file and keyring work), and sum
up in the dock's banner what was imported; its tooltip lists every setting that was not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from pgwatch_gui.core.profiles.imports import profile_from_env, profiles_from_services
from pgwatch_gui.core.profiles.imports_tools import (
    ImportResult,
    import_dbeaver,
    import_pgadmin,
    save_imported,
)
from pgwatch_gui.core.profiles.model import ProfileError, unique_name
from pgwatch_gui.core.profiles.store import ProfileStoreError


def build_import_menu(panel) -> QMenu:
    menu = QMenu("Import", panel)
    menu.addAction("From a URI…", lambda: panel.new_profile(paste=True))
    menu.addAction("From PG* environment variables…", lambda: import_env(panel))
    menu.addAction("From the service file", lambda: import_services(panel))
    menu.addSeparator()
    menu.addAction("From pgAdmin (servers.json)…", lambda: choose_tool_file(panel, "pgadmin"))
    menu.addAction("From DBeaver (data-sources.json)…",
                   lambda: choose_tool_file(panel, "dbeaver"))
    return menu


def import_env(panel):
    """A new-profile dialog filled from the PG* variables (PGPASSWORD in its password)."""
    profile, password = profile_from_env(unique_name("environment", panel.store.names()))
    return panel.new_profile(profile, password)


def import_services(panel) -> list[str]:
    """One profile per service libpq knows (those whose name is free)."""
    try:
        found = profiles_from_services()
    except ProfileError as exc:
        panel.show_notes([str(exc)])
        return []
    added = []
    for p in found:
        if panel.store.get(p.name) is None:
            try:
                panel.store.add(p)
            except (ProfileError, ProfileStoreError) as exc:
                panel.show_notes([f"service {p.name!r}: {exc}"])
                continue
            added.append(p.name)
    panel.refresh()
    if not found:
        panel.show_notes(["No service file found (~/.pg_service.conf or PGSERVICEFILE)."])
    else:
        panel.show_notes([f"Imported {len(added)} of {len(found)} services."])
    return added


_TOOLS: dict[str, tuple[str, str, Callable[[str], ImportResult]]] = {
    "pgadmin": ("pgAdmin 4 servers.json", "JSON files (*.json);;All files (*)", import_pgadmin),
    "dbeaver": ("DBeaver data-sources.json", "JSON files (*.json);;All files (*)",
                import_dbeaver),
}


def add_tool_imports(panel) -> None:
    """"From pgAdmin (servers.json)…" and "From DBeaver (data-sources.json)…" in Import."""
    panel.import_menu.addSeparator()
    panel.import_menu.addAction("From pgAdmin (servers.json)…",
                                lambda: choose_tool_file(panel, "pgadmin"))
    panel.import_menu.addAction("From DBeaver (data-sources.json)…",
                                lambda: choose_tool_file(panel, "dbeaver"))


def choose_tool_file(panel, tool: str) -> QFileDialog:
    caption, filters, _ = _TOOLS[tool]
    dlg = QFileDialog(panel, f"Import from {caption}")
    dlg.setNameFilter(filters)
    dlg.setFileMode(QFileDialog.ExistingFile)
    dlg.fileSelected.connect(lambda path: panel._spawn(import_tool_file(panel, tool, path)))
    dlg.finished.connect(lambda _r: dlg.deleteLater())
    panel.import_dialog = dlg
    dlg.open()
    return dlg


async def import_tool_file(panel: QWidget, tool: str, path: str) -> list[str]:
    """Read `path`, add its profiles (passwords to the keyring), say what happened."""
    _caption, _filters, reader = _TOOLS[tool]

    def work() -> list[str]:
        return save_imported(panel.store, reader(path))

    try:
        lines = await asyncio.to_thread(work)
    except ProfileError as exc:
        panel.show_notes([str(exc)])
        return [str(exc)]
    panel.refresh()
    panel.show_notes(summary(_caption.split()[0], lines) if lines
                     else [f"No connections in {path}."])
    panel.banner.setToolTip("\n".join(lines))
    return lines


def summary(tool: str, lines: list[str]) -> list[str]:
    """A few lines for the banner (the full list is its tooltip)."""
    added = sum(line.startswith("added profile") for line in lines)
    taken = sum(line.startswith("skipped") for line in lines)
    notes = sum(line.startswith("  ") for line in lines)
    head = f"{tool}: {added} profile{'s' if added != 1 else ''} added"
    if taken:
        head += f", {taken} left alone (a profile of that name exists)"
    out = [head + "."]
    out += [f"Not imported: {line[len('not imported: '):]}" for line in lines
            if line.startswith("not imported: ")]
    if notes:
        out.append(f"{notes} setting{'s' if notes != 1 else ''} not carried over "
                   "(hover here for the list).")
    return out

"""What the profiles dock does for SSH profiles and tool imports.

Connecting a profile with a tunnel: its secret is read from the keyring off the GUI
thread, the tunnel opens first (so an unknown host key is asked about before any
listener runs: the fingerprint, non-modal, recorded only on Yes, then connect again),
and the listener gets the tunnel as its route. The listener's string then points at
the tunnel, and the console, queue monitor and trigger browser of the profile, which
take the hub's string, share it; the tunnel reopens with the listener and closes
with it; its failures show in the profile's status.

Importing from pgAdmin or DBeaver: a file dialog (open(), not exec()), the file read
and the profiles saved off the GUI thread, and what was (not) imported in the banner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtWidgets import QFileDialog, QWidget

from pgwatch_gui.core.profiles.imports_tools import (
    ImportResult,
    import_dbeaver,
    import_pgadmin,
    save_imported,
)
from pgwatch_gui.core.profiles.model import Profile, ProfileError
from pgwatch_gui.core.ssh.errors import HostKeyUnknown, TunnelError
from pgwatch_gui.core.ssh.route import TunnelRoute
from pgwatch_gui.ui.profiles.ssh_tab import ask_trust_host_key


async def open_through_tunnel(panel, name: str, profile: Profile, channels: list[str],
                              conninfo: str) -> None:
    """Open `profile`'s listener in the hub through its tunnel."""
    secret = await asyncio.to_thread(panel.store.ssh_secrets.get, name)
    try:
        route = TunnelRoute(conninfo, profile.ssh_settings(), secret=secret)
    except TunnelError as exc:
        panel.show_notes([f"{name}: {exc}"])
        return
    through = conninfo
    try:
        through = await route.conninfo()
    except HostKeyUnknown as err:
        await route.close()
        panel.host_key_box = ask_trust_host_key(
            panel, err, lambda: panel.connect_profile(name, channels=channels))
        return
    except TunnelError:
        pass  # the listener tries again and its status says why it fails
    if name in panel.hub.names():  # opened meanwhile (a double click while waiting)
        await route.close()
        return
    panel.hub.open(name, through, channels, route=route)


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

"""Linux desktop integration: the .desktop entry and icons, installed for the current user.

``install()`` writes the entry to ``$XDG_DATA_HOME/applications`` (``~/.local/share``
by default) and the icons to the hicolor theme there, with ``Exec=`` pointing at how
this copy of the app is started (the bundle's executable, the installed
``pgwatch-gui`` script, or ``python -m pgwatch_gui``). ``uninstall()`` removes them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

APP_ID = "pgwatch-gui"


def resources_dir() -> Path:
    """The packaged resources (icons, .desktop template), installed or frozen alike."""
    return Path(__file__).resolve().parents[2] / "resources"  # pgwatch_gui/resources


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _quote(arg: str) -> str:
    """An Exec= argument, quoted as the Desktop Entry spec wants when it must be."""
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return arg.replace("%", "%%")
    quoted = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    # The value's own string escaping applies on top: each backslash is written twice.
    return ('"' + quoted + '"').replace("\\", "\\\\").replace("%", "%%")


def launch_command() -> list[str]:
    """How this copy of the app is started from a desktop launcher."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    script = Path(sys.executable).with_name(APP_ID)
    if script.exists():
        return [str(script)]
    found = shutil.which(APP_ID)
    if found:
        return [found]
    return [sys.executable, "-m", "pgwatch_gui"]


def desktop_entry(command: list[str] | None = None) -> str:
    """The .desktop file's text with Exec= lines for `command`."""
    exec_line = " ".join(_quote(a) for a in (command or launch_command()))
    lines = []
    for line in (resources_dir() / f"{APP_ID}.desktop").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"Exec={APP_ID}"):
            line = "Exec=" + exec_line + line[len(f"Exec={APP_ID}"):]
        lines.append(line)
    return "\n".join(lines) + "\n"


def targets(prefix: Path | None = None) -> dict[str, Path]:
    base = Path(prefix) if prefix is not None else data_home()
    icons = base / "icons" / "hicolor"
    return {
        "desktop": base / "applications" / f"{APP_ID}.desktop",
        "svg": icons / "scalable" / "apps" / f"{APP_ID}.svg",
        "png": icons / "256x256" / "apps" / f"{APP_ID}.png",
    }


def install(prefix: Path | None = None, command: list[str] | None = None) -> list[Path]:
    t = targets(prefix)
    for path in t.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    t["desktop"].write_text(desktop_entry(command), encoding="utf-8")
    shutil.copyfile(resources_dir() / f"{APP_ID}.svg", t["svg"])
    shutil.copyfile(resources_dir() / f"{APP_ID}.png", t["png"])
    _refresh_caches(t["desktop"].parent)
    return list(t.values())


def uninstall(prefix: Path | None = None) -> list[Path]:
    removed = []
    for path in targets(prefix).values():
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def _refresh_caches(applications: Path) -> None:
    """Tell the desktop about the new entry where the tool exists; harmless where not."""
    tool = shutil.which("update-desktop-database")
    if tool:
        subprocess.run([tool, "-q", str(applications)], check=False, capture_output=True)

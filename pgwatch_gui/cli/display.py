"""Before the window opens: is there a display, and can Qt's X11 plugin load?

Without either, Qt aborts the interpreter (exit 134, "Reinstalling the application
may fix this problem"). These checks turn that into one line and exit 2, naming the
command-line alternative or the system libraries to install.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from pgwatch_gui.cli.common import CliError

CLI_HINT = ("use the command line instead (e.g. pgwatch-gui listen --dsn URI -c CHANNEL; "
            "pgwatch-gui --help)")
_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.M)


def check_display(env: dict[str, str] | None = None) -> None:
    """Raise CliError when the window cannot be shown (Linux and other X11 systems)."""
    env = dict(os.environ if env is None else env)
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return
    platform = env.get("QT_QPA_PLATFORM", "")
    if not platform and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        raise CliError("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are "
                       f"not set); {CLI_HINT}")
    uses_xcb = platform.startswith("xcb") or (not platform and not env.get("WAYLAND_DISPLAY"))
    if uses_xcb:
        missing = missing_xcb_libraries()
        if missing:
            packages = " ".join(debian_package(lib) for lib in missing)
            raise CliError(f"Qt's X11 plugin needs system libraries that are missing: "
                           f"{', '.join(missing)}; install them (Debian/Ubuntu: "
                           f"sudo apt install {packages}), or {CLI_HINT}")


def _xcb_plugin() -> Path | None:
    try:
        import PySide6
    except ImportError:
        return None
    for base in (Path(PySide6.__file__).parent / "Qt" / "plugins",
                 Path(PySide6.__file__).parent / "plugins"):
        p = base / "platforms" / "libqxcb.so"
        if p.exists():
            return p
    return None


def missing_xcb_libraries() -> list[str]:
    """The shared libraries the xcb plugin needs that the system lacks (by ldd)."""
    plugin = _xcb_plugin()
    if plugin is None:
        return []
    try:
        out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []  # no ldd (a frozen bundle, musl...): let Qt try
    return not_found(out)


def not_found(ldd_output: str) -> list[str]:
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


def debian_package(soname: str) -> str:
    """libxcb-cursor.so.0 -> libxcb-cursor0, libxkbcommon-x11.so.0 -> libxkbcommon-x11-0."""
    m = re.match(r"^(lib[\w.+-]*?)\.so\.(\d+)", soname)
    if not m:
        return soname
    name, version = m.groups()
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"

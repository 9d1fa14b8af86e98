"""core/ must never import Qt: import every core module in a fresh interpreter and look."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pgwatch_gui.core
from tests.conftest import cli_env

CORE_MODULES = sorted(
    m.name for m in pkgutil.walk_packages(pgwatch_gui.core.__path__, "pgwatch_gui.core.")
)


def test_core_modules_found():
    wanted = {"pgwatch_gui.core.stream.events", "pgwatch_gui.core.stream.listener"}
    assert wanted <= set(CORE_MODULES)


QT = ("PySide6", "shiboken6", "qasync")


def loaded_after(setup: str) -> list[str]:
    """The modules a fresh interpreter holds after running `setup`."""
    code = setup + "\nimport sys\nprint('\\n'.join(sys.modules))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=cli_env(), timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_core_imports_no_qt():
    mods = loaded_after(f"import importlib\nfor m in {CORE_MODULES!r}: importlib.import_module(m)")
    bad = sorted(m for m in mods if m.split(".")[0] in QT or m.startswith("pgwatch_gui.ui"))
    assert bad == [], f"core pulled in: {bad}"


def test_cli_subcommands_import_no_qt():
    mods = loaded_after("from pgwatch_gui.cli import build_parser\nbuild_parser()")
    assert sorted(m for m in mods if m.split(".")[0] in QT) == []

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
    assert {"pgwatch_gui.core.events", "pgwatch_gui.core.listener"} <= set(CORE_MODULES)


def test_core_imports_no_qt():
    code = (
        "import importlib, sys\n"
        f"for m in {CORE_MODULES!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6', 'qasync') or m.startswith('pgwatch_gui.ui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=cli_env(), timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"core pulled in: {out.stdout.strip()}"


def test_cli_subcommands_import_no_qt():
    code = (
        "import sys\n"
        "from pgwatch_gui.cli import build_parser\n"
        "build_parser()\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith(('PySide6', 'qasync')))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=cli_env(), timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""

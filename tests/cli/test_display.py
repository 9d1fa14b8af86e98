"""Without a display (or without the X11 plugin's libraries) the window does not abort
the interpreter: exit 2 and one line that names the way out."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pgwatch_gui.cli.display import debian_package, missing_xcb_libraries, not_found
from tests.conftest import cli_env

DISPLAY_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")


def _run(**set_vars: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in cli_env().items() if k not in DISPLAY_VARS}
    env.update(set_vars)
    return subprocess.run([sys.executable, "-m", "pgwatch_gui"], capture_output=True,
                          text=True, env=env, timeout=60)


def test_no_display_exits_2_with_one_line_naming_the_cli():
    r = _run()
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "no display" in lines[0] and "pgwatch-gui listen" in lines[0]


@pytest.mark.skipif(not missing_xcb_libraries(), reason="this system has the xcb libraries")
def test_missing_xcb_libraries_exit_2_naming_what_to_install():
    r = _run(DISPLAY=":99")
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for lib in missing_xcb_libraries():
        assert lib in lines[0] and debian_package(lib) in lines[0]
    assert "apt install" in lines[0] and "pgwatch-gui listen" in lines[0]


def test_ldd_output_and_package_names():
    out = ("\tlibxcb-cursor.so.0 => not found\n\tlibc.so.6 => /lib/libc.so.6 (0x1)\n"
           "\tlibxkbcommon-x11.so.0 => not found\n\tlibxcb-cursor.so.0 => not found\n")
    assert not_found(out) == ["libxcb-cursor.so.0", "libxkbcommon-x11.so.0"]
    assert [debian_package(x) for x in not_found(out)] == ["libxcb-cursor0",
                                                             "libxkbcommon-x11-0"]
    assert debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"


def test_subcommands_need_no_display():
    r = subprocess.run([sys.executable, "-m", "pgwatch_gui", "--version"], capture_output=True,
                       text=True, env={k: v for k, v in cli_env().items()
                                       if k not in DISPLAY_VARS}, timeout=60)
    assert r.returncode == 0 and os.linesep not in r.stdout.strip()

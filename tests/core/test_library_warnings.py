"""Library warnings (asyncssh's five CryptographyDeprecationWarnings on import) never reach
a user's terminal; our own warnings, and warnings the user asked for with -W, still do."""

from __future__ import annotations

import subprocess
import sys

OURS = ("import warnings; warnings.warn_explicit('ours', UserWarning, 'x.py', 1, "
        "module='pgwatch_gui.core.x')")


def _run(code: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *flags, "-c", code],
                          capture_output=True, text=True, timeout=60)


def test_quiet_library_warnings_drops_asyncssh_import_warnings():
    r = _run("from pgwatch_gui.core.host.applog import quiet_library_warnings as q; q(); "
             f"import asyncssh; {OURS}")
    assert r.returncode == 0, r.stderr
    assert "Cryptography" not in r.stderr and "asyncssh" not in r.stderr, r.stderr
    assert "UserWarning: ours" in r.stderr  # our own warnings are not silenced


def test_the_cli_entry_point_quiets_them_before_any_command():
    code = ("import pgwatch_gui.cli as c\n"
            "try:\n    c.main(['--version'])\nexcept SystemExit:\n    pass\n"
            "import asyncssh")
    r = _run(code)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_warnings_the_user_asks_for_still_show():
    r = _run("from pgwatch_gui.core.host.applog import quiet_library_warnings as q; q(); "
             "import asyncssh", "-W", "default")
    assert "Deprecat" in r.stderr

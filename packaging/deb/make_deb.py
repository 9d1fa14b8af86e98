"""Build pgwatch-gui_VERSION_ARCH.deb from the one-folder bundle (dpkg-deb, no debhelper).

    python packaging/deb/make_deb.py BUNDLE_DIR ICON_DIR OUT_DIR WORK_DIR

packaging/build.sh --deb runs it after the bundle. The package holds:
  /opt/pgwatch-gui/                     the bundle, less the build machine's system
                                        libraries (depends.py: the package depends on them)
  /usr/bin/pgwatch-gui                  a symlink to /opt/pgwatch-gui/pgwatch-gui
  /usr/share/applications/pgwatch-gui.desktop
  /usr/share/icons/hicolor/*/apps/pgwatch-gui.{png,svg}
  /usr/share/doc/pgwatch-gui/copyright
and postinst/postrm that refresh the desktop and icon caches that exist. Prints the
download size (xz) and the installed size.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import depends  # noqa: E402  (a sibling script, not a package)

PACKAGE = "pgwatch-gui"
PREFIX = Path("opt") / PACKAGE


def _deb_version(version: str) -> str:
    """PEP 440 to Debian: a pre-release sorts before its release (1.0rc1 -> 1.0~rc1)."""
    for tag in ("a", "b", "rc", ".dev"):
        head, sep, tail = version.partition(tag)
        if sep and head and head[-1].isdigit():
            return f"{head}~{tag.lstrip('.')}{tail}"
    return version


def _arch() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()


def _normalize_modes(root: Path) -> None:
    """0755 for folders and executables, 0644 for the rest: what dpkg and lintian expect."""
    for d, _dirs, files in os.walk(root):
        os.chmod(d, 0o755)
        for f in files:
            p = Path(d) / f
            if not p.is_symlink():
                p.chmod(0o755 if p.stat().st_mode & 0o111 else 0o644)


def stage(bundle: Path, icons: Path, root: Path) -> tuple[int, depends.Depends]:
    """Lay the package's files out under root; returns the bytes of system libraries
    left out and what the package needs from the system."""
    if root.exists():
        shutil.rmtree(root)
    app = root / PREFIX
    shutil.copytree(bundle, app, symlinks=True)
    machine = depends.Machine()
    dropped = 0
    for lib in depends.system_copies(app / "_internal", machine):
        dropped += lib.stat().st_size
        lib.unlink()
    needs = depends.compute(app, machine)
    if needs.unknown:
        raise SystemExit(
            "make_deb: no Debian package known for " + ", ".join(sorted(needs.unknown))
            + ": install it here, or add it to packaging/deb/depends.txt")

    usr = root / "usr"
    (usr / "bin").mkdir(parents=True)
    (usr / "bin" / PACKAGE).symlink_to(Path("/") / PREFIX / PACKAGE)

    from pgwatch_gui.core.host import desktop

    apps = usr / "share" / "applications"
    apps.mkdir(parents=True)
    (apps / f"{PACKAGE}.desktop").write_text(
        desktop.desktop_entry([f"/usr/bin/{PACKAGE}"]), encoding="utf-8")
    hicolor = usr / "share" / "icons" / "hicolor"
    shutil.copytree(icons / "hicolor", hicolor)
    (hicolor / "scalable" / "apps").mkdir(parents=True)
    shutil.copyfile(desktop.resources_dir() / f"{PACKAGE}.svg",
                    hicolor / "scalable" / "apps" / f"{PACKAGE}.svg")
    doc = usr / "share" / "doc" / PACKAGE
    doc.mkdir(parents=True)
    shutil.copyfile(ROOT / "LICENSE", doc / "copyright")
    _normalize_modes(root)
    return dropped, needs


def installed_bytes(root: Path) -> int:
    total = 0
    for d, _, files in os.walk(root):
        if Path(d).name == "DEBIAN":
            continue
        total += sum(os.lstat(os.path.join(d, f)).st_size for f in files)
    return total


def control(version: str, arch: str, needs: depends.Depends, size: int) -> str:
    return "\n".join([
        f"Package: {PACKAGE}",
        f"Version: {_deb_version(version)}",
        f"Architecture: {arch}",
        "Maintainer: pgwatch-gui developers <pgwatch-gui@users.noreply.github.com>",
        f"Installed-Size: {(size + 1023) // 1024}",
        f"Depends: {needs.control_line()}",
        "Section: database",
        "Priority: optional",
        "Description: desktop monitor for PostgreSQL LISTEN/NOTIFY change streams",
        " pgwatch-gui shows every notification a PostgreSQL database sends the moment it",
        " arrives, in one window: a live, filterable event table with a payload inspector,",
        " notify triggers installed through dialogs, an on-disk history, row changes",
        " through logical replication, SSH tunnels, and a built-in demo database.",
        " The same core runs headless from the command line.",
        "",
    ])


def _md5sums(root: Path) -> str:
    lines = []
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink() and "DEBIAN" not in p.relative_to(root).parts:
            digest = hashlib.md5(p.read_bytes(), usedforsecurity=False).hexdigest()
            lines.append(f"{digest}  {p.relative_to(root)}")
    return "\n".join(lines) + "\n"


def build(bundle: Path, icons: Path, out: Path, work: Path, version: str) -> Path:
    root = work / "deb-root"
    dropped, needs = stage(bundle, icons, root)
    size = installed_bytes(root)
    arch = _arch()
    meta = root / "DEBIAN"
    meta.mkdir()
    (meta / "control").write_text(control(version, arch, needs, size), encoding="utf-8")
    (meta / "md5sums").write_text(_md5sums(root), encoding="utf-8")
    for script in ("postinst", "postrm"):
        shutil.copyfile(HERE / script, meta / script)
        (meta / script).chmod(0o755)
    deb = out / f"{PACKAGE}_{_deb_version(version)}_{arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(deb)],
                   check=True, stdout=subprocess.DEVNULL)
    print(f"deb: {dropped / 1e6:.1f} MB of the build machine's libraries left out; "
          f"Depends: {needs.control_line()}")
    print(f"deb: {deb}  {deb.stat().st_size / 1e6:.1f} MB download, "
          f"{size / 1e6:.1f} MB installed")
    return deb


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    bundle, icons, out, work = (Path(a) for a in argv)
    from pgwatch_gui import __version__

    build(bundle, icons, out, work, __version__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

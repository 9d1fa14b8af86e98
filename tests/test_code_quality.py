"""ruff and the import-linter contracts (core/ never imports Qt; cli and ui over core)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    exe = Path(sys.executable).parent / name
    found = str(exe) if exe.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def test_ruff_clean():
    r = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_import_contracts():
    r = subprocess.run([_tool("lint-imports")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr


# ---- no nested event loop inside a coroutine ------------------------------------------

DIALOG_CLASSES = {"QMessageBox", "QInputDialog", "QFileDialog", "QColorDialog", "QFontDialog"}
STATIC_MODALS = {"question", "information", "warning", "critical", "about", "getText",
                 "getMultiLineText", "getItem", "getInt", "getDouble", "getOpenFileName",
                 "getOpenFileNames", "getSaveFileName", "getExistingDirectory", "getColor",
                 "getFont"}
EXEC = {"exec", "exec_"}


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _index(paths):
    """Per module: its functions, its classes' methods, and the names it imports."""
    import ast

    mods = {}
    for p in paths:
        tree = ast.parse(p.read_text(encoding="utf-8"))
        funcs, classes, imports = {}, {}, {}
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                funcs[node.name] = node
            elif isinstance(node, ast.ClassDef):
                classes[node.name] = {n.name: n for n in node.body
                                      if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    imports[a.asname or a.name] = (node.module, a.name)
        mods[_module_name(p)] = (p, funcs, classes, imports)
    return mods


def _modal_calls_reached_from_coroutines(paths) -> list[str]:
    import ast

    mods = _index(paths)

    def callees(mod, cls, fn):
        _p, funcs, classes, imports = mods[mod]
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Name):
                if f.id in funcs:
                    yield mod, None, funcs[f.id]
                elif f.id in imports and imports[f.id][0] in mods:
                    other, name = imports[f.id]
                    target = mods[other][1].get(name)
                    if target is not None:
                        yield other, None, target
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) \
                    and f.value.id == "self" and cls is not None:
                meth = classes.get(cls, {}).get(f.attr)
                if meth is not None:
                    yield mod, cls, meth

    def modal(node) -> str | None:
        f = node.func
        if not isinstance(f, ast.Attribute):
            return None
        if f.attr in EXEC:
            return f".{f.attr}()"
        if f.attr in STATIC_MODALS and isinstance(f.value, ast.Name) \
                and f.value.id in DIALOG_CLASSES:
            return f"{f.value.id}.{f.attr}()"
        return None

    hits = []
    for mod, (_path, funcs, classes, _imports) in mods.items():
        roots = [(None, fn) for fn in funcs.values()]
        roots += [(cls, m) for cls, meths in classes.items() for m in meths.values()]
        for cls, fn in roots:
            if not isinstance(fn, ast.AsyncFunctionDef):
                continue
            seen = set()
            todo = [(mod, cls, fn, fn.name)]
            while todo:
                m, c, f, chain = todo.pop()
                if (m, id(f)) in seen:
                    continue
                seen.add((m, id(f)))
                for node in ast.walk(f):
                    if isinstance(node, ast.Call) and (what := modal(node)):
                        where = mods[m][0].relative_to(ROOT)
                        hits.append(f"{where}:{node.lineno} {chain}() calls {what}")
                for m2, c2, f2 in callees(m, c, f):
                    if not isinstance(f2, ast.AsyncFunctionDef):  # awaited ones are roots
                        todo.append((m2, c2, f2, f"{chain}() -> {f2.name}"))
    return sorted(set(hits))


def test_no_modal_dialog_inside_a_coroutine():
    """A modal exec() or static QMessageBox/QInputDialog/QFileDialog call inside an async
    def (or a function it calls) nests an event loop inside an asyncio task: qasync then
    steps other tasks from inside it and they die. Use open() and signals
    (ui/common/dialogs.py)."""
    hits = _modal_calls_reached_from_coroutines(sorted((ROOT / "pgwatch_gui").rglob("*.py")))
    assert not hits, "\n".join(hits)


def test_the_modal_check_sees_through_calls(tmp_path):
    src = ROOT / "pgwatch_gui" / "_probe_modal.py"
    src.write_text(
        "from PySide6.QtWidgets import QMessageBox\n"
        "class W:\n"
        "    async def go(self):\n"
        "        self.helper()\n"
        "    def helper(self):\n"
        "        QMessageBox.warning(None, 't', 'x')\n"
        "async def direct(box):\n"
        "    box.exec()\n"
        "def fine():\n"
        "    QMessageBox.warning(None, 't', 'x')\n", encoding="utf-8")
    try:
        hits = _modal_calls_reached_from_coroutines([src])
    finally:
        src.unlink()
    assert len(hits) == 2
    assert "go() -> helper() calls QMessageBox.warning()" in hits[0] + hits[1]
    assert "direct() calls .exec()" in hits[0] + hits[1]

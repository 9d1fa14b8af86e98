"""The house keeps its shape: feature subpackages, small modules, no import cycle, and an
architecture document that names every room."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "pgwatch_gui"
MAX_LINES = 400


def test_no_module_over_400_lines():
    big = {str(p.relative_to(ROOT)): n for p in PKG.rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, f"split these by idea: {big}"


def test_no_import_cycle():
    # grimp sees every import, function-level ones included.
    graph = grimp.build_graph("pgwatch_gui", cache_dir=None)
    modules = sorted(graph.modules)
    cycles = []
    for m in modules:
        for dep in graph.find_modules_directly_imported_by(m):
            if dep != m and graph.chain_exists(importer=dep, imported=m):
                cycles.append((m, dep))
    assert not cycles, f"import cycles: {cycles[:10]}"


@pytest.mark.parametrize("side", ["core", "ui"])
def test_features_live_in_subpackages(side):
    loose = [p.name for p in (PKG / side).glob("*.py") if p.name != "__init__.py"]
    assert len(loose) <= 6, f"{side}/ has loose modules: {loose}"


def test_architecture_document_names_every_subpackage():
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    missing = [f"{side}/{d.name}" for side in ("core", "ui") for d in (PKG / side).iterdir()
               if (d / "__init__.py").exists() and f"{side}/{d.name}" not in text]
    assert not missing, f"docs/ARCHITECTURE.md does not describe {missing}"

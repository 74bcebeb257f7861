"""The import layers of README's folder table: wiring (`pipelines`), assets, what the assets use
(`assets.sources`, `assets.pages`), the warehouse. A module imports only its own layer or lower."""

from __future__ import annotations

import ast
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
LAYERS = {"pipelines": 3, "assets": 2, "assets.sources": 1, "assets.pages": 1, "warehouse": 0}


def layer(module: str) -> int | None:
    matches = [name for name in LAYERS if module == name or module.startswith(name + ".")]
    return LAYERS[max(matches, key=len)] if matches else None


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_every_import_points_down():
    upward = []
    modules = [p for top in ("pipelines", "assets", "warehouse") for p in (PROJECT / top).rglob("*.py")]
    assert len(modules) > 20
    for path in modules:
        module = ".".join(path.relative_to(PROJECT).with_suffix("").parts).removesuffix(".__init__")
        for imported in imports(path):
            if layer(imported) is not None and layer(imported) > layer(module):
                upward.append(f"{module} imports {imported}")
    assert not upward, upward

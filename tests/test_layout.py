"""The tree shows the architecture: each subpackage of ``simulator`` imports only from the
subpackages below it (config < model < engine < review < history < decide < cli), and
``distributions`` knows nothing of ``simulator``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["config", "model", "engine", "review", "history", "decide", "cli"]


def imported_packages(path: Path, package: str) -> set[str]:
    """Top-level names of the modules ``path`` imports (relative imports resolved)."""
    parts = package.split(".")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level + 1]
                target = [*base, *(node.module or "").split(".")] if node.module else base
                found.add(".".join(t for t in target if t))
                if not node.module:
                    found.update(".".join([*base, a.name]) for a in node.names)
            else:
                found.add(node.module or "")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "simulator" or len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS.index(parts[1])


def modules(top: str):
    for path in sorted((ROOT / top).rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        package = ".".join(rel.parts[:-1]) if rel.name != "__init__" else ".".join(rel.parts)
        # a module's own package, for resolving its relative imports
        yield path, ".".join(rel.parts[:-1]) if rel.name != "__init__" else package


@pytest.mark.parametrize("path,package", list(modules("simulator")),
                         ids=lambda v: str(v.relative_to(ROOT)) if isinstance(v, Path) else "")
def test_simulator_imports_point_down(path: Path, package: str) -> None:
    own = layer_of(package + ".x")
    if own is None:
        return  # simulator/__init__.py: the public face may import anything
    for module in imported_packages(path, package):
        layer = layer_of(module)
        assert layer is None or layer <= own, f"{path.name} ({LAYERS[own]}) imports {module}"


def test_distributions_knows_nothing_of_simulator() -> None:
    for path, package in modules("distributions"):
        for module in imported_packages(path, package):
            assert not module.startswith("simulator"), f"{path.name} imports {module}"


def test_flat_simulator_has_no_stray_modules() -> None:
    loose = sorted(p.name for p in (ROOT / "simulator").glob("*.py") if p.name != "__init__.py")
    assert loose == [], f"modules outside a subpackage: {loose}"

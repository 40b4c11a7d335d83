"""docs/architecture.md's layer table holds: every import in src/tasktracker obeys it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.docs.blocks import ROOT, relative

ARCHITECTURE = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "src" / "tasktracker"
CORE = "db"
"""`tasktracker/__init__.py` re-exports the core's names, so it counts as the core."""
LAZY_EXCEPTION = ("db/catalog.py", "models")
"""`db.catalog` loads the registry when first asked for the tables (architecture.md)."""


def layer_table() -> dict[str, tuple[str, frozenset[str]]]:
    """Each package's layer and the layers it may import, from the table in the doc."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    match = re.search(r"<!-- layers:start -->\n(.*?)<!-- layers:end -->", text, re.S)
    assert match, f"{relative(ARCHITECTURE)} has no <!-- layers:start/end --> table"
    table: dict[str, tuple[str, frozenset[str]]] = {}
    for row in match[1].strip().splitlines()[2:]:
        layer, packages, may_import = (cell.strip() for cell in row.strip("|").split("|"))
        allowed = frozenset(name.strip() for name in may_import.split(",") if name.strip())
        for package in re.findall(r"`([a-z_]+)`", packages):
            table[package] = (layer, allowed)
    return table


def _module(path: Path) -> list[str]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, package) for every `tasktracker` package a module imports."""
    module = _module(path)
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                package = module if path.name == "__init__.py" else module[:-1]
                base = ".".join([*package[: len(package) - node.level + 1], *filter(None, [base])])
            names = [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "tasktracker":
                target = parts[1] if len(parts) > 1 else CORE
                is_package = (PACKAGE / target).is_dir() or (PACKAGE / f"{target}.py").exists()
                found.append((node.lineno, target if is_package else CORE))
    return found


def _package(path: Path) -> str:
    module = _module(path)
    return module[1] if len(module) > 1 else CORE


def test_every_package_has_a_layer() -> None:
    table = layer_table()
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    packages |= {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    missing = sorted(packages - set(table))
    assert not missing, f"add {missing} to the layer table of {relative(ARCHITECTURE)}"


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda path: path.relative_to(PACKAGE).as_posix()
)
def test_imports_follow_the_layers(path: Path) -> None:
    table = layer_table()
    importer = _package(path)
    layer, allowed = table.get(importer, ("?", frozenset()))
    wrong = []
    where = path.relative_to(PACKAGE).as_posix()
    for line, target in imports(path):
        target_layer = table.get(target, ("?", frozenset()))[0]
        if target == importer or target_layer in allowed or (where, target) == LAZY_EXCEPTION:
            continue
        wrong.append(f"{relative(path)}:{line} imports tasktracker.{target} ({target_layer})")
    assert not wrong, (
        f"a {layer} module may import only {sorted(allowed) or 'its own package'} "
        f"(layer table of {relative(ARCHITECTURE)}):\n" + "\n".join(wrong)
    )

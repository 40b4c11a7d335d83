"""docs/architecture.md's layer table says what the import-linter contract enforces.

The rule is the `layers` contract in pyproject.toml, checked by `lint-imports` (.ci/run).
These tests keep the doc from drifting away from it, and the contract from missing a
package: import-linter ignores a package that no layer names.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from tests.docs.blocks import ROOT, relative

ARCHITECTURE = ROOT / "docs" / "architecture.md"
PYPROJECT = ROOT / "pyproject.toml"
PACKAGE = ROOT / "src" / "tasktracker"

Layers = list[frozenset[str]]
"""The layers, highest first, each as the package names under `tasktracker.` it holds."""


def contract_layers() -> Layers:
    """The `layers` contract of pyproject.toml's `[tool.importlinter]`."""
    config: dict[str, Any] = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = (contract["layers"] for contract in contracts if contract["type"] == "layers")
    return [
        frozenset(name.strip().removeprefix("tasktracker.") for name in layer.split("|"))
        for layer in layers
    ]


def doc_layers() -> Layers:
    """The packages column of the table between `<!-- layers:start/end -->`, top row first."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    match = re.search(r"<!-- layers:start -->\n(.*?)<!-- layers:end -->", text, re.S)
    assert match, f"{relative(ARCHITECTURE)} has no <!-- layers:start/end --> table"
    rows = [row.strip("|").split("|") for row in match[1].strip().splitlines()[2:]]
    return [frozenset(re.findall(r"`([a-z_]+)`", packages)) for _, packages in rows]


def test_the_doc_table_is_the_contract() -> None:
    assert doc_layers() == contract_layers(), (
        f"the layer table of {relative(ARCHITECTURE)} differs from the import-linter "
        f"contract in {relative(PYPROJECT)}: change both"
    )


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    packages |= {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    missing = sorted(packages - set().union(*contract_layers()))
    assert not missing, f"add {missing} to the layers contract in {relative(PYPROJECT)}"

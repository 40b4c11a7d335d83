"""The ER diagram: the committed docs/schema.md must be what the generator makes now."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import ForeignKeyConstraint

from tasktracker.admin import catalog, diagram
from tests.cli.conftest import Invoke

SCHEMA_MD = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


def test_committed_diagram_is_up_to_date() -> None:
    assert SCHEMA_MD.read_text(encoding="utf-8") == diagram.markdown(), (
        "docs/schema.md is out of date: run `tasktracker db diagram --output docs/schema.md`"
    )


def test_one_edge_per_foreign_key_with_all_its_columns() -> None:
    source = diagram.mermaid()
    edges = re.findall(r"^  (\w+) (\|\||\|o)--(o\{|o\|) (\w+) : \"([^\"]+)\"$", source, re.M)
    expected = {
        (fk.referred_table.name, table.name, ", ".join(c.name for c in fk.columns))
        for table in catalog.tables()
        for fk in table.constraints
        if isinstance(fk, ForeignKeyConstraint)
    }
    assert {
        (parent, child, label.split(" (")[0]) for parent, _, _, child, label in edges
    } == expected
    assert len(edges) == len(expected)
    assert ("categories", "|o", "o{", "tasks", "user_id, category_id") in edges  # optional parent
    assert ("conversations", "||", "o{", "messages", "user_id, conversation_id (cascade)") in edges


def test_every_table_and_composite_key_is_drawn() -> None:
    source = diagram.mermaid()
    assert source.startswith("erDiagram\n")
    for table in catalog.tables():
        block = re.search(rf"^  {table.name} \{{\n(.*?)^  \}}", source, re.M | re.S)
        assert block, table.name
        keys = re.findall(r"^    \S+ (\w+) PK", block.group(1), re.M)
        assert keys == [c.name for c in table.c if c.primary_key]
    assert '    varchar(320) email UK "unique, case-insensitive"' in source


def test_cli_prints_and_writes_the_diagram(sqlite_cli: Invoke, tmp_path: Path) -> None:
    printed = sqlite_cli("db", "diagram")
    assert printed.exit_code == 0
    assert printed.stdout == diagram.mermaid()
    target = tmp_path / "schema.md"
    assert sqlite_cli("db", "diagram", "--output", str(target)).exit_code == 0
    assert target.read_text(encoding="utf-8") == diagram.markdown()
    unwritable = sqlite_cli("db", "diagram", "--output", str(tmp_path / "no" / "such" / "x.mmd"))
    assert unwritable.exit_code == 1
    assert unwritable.stderr.startswith("error: cannot write")


def test_readme_embeds_the_current_diagram() -> None:
    readme = (SCHEMA_MD.parents[1] / "README.md").read_text(encoding="utf-8")
    embedded = readme.split("<!-- schema:start", 1)[1].split("<!-- schema:end -->", 1)[0]
    block = embedded.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block.strip() == diagram.mermaid().strip(), "README's diagram is out of date"

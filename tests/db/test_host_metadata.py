"""Importing tasktracker leaves a host application's SQLModel models alone.

Each scenario runs in a fresh interpreter, so the import order is real: the host's model is
defined on `SQLModel.metadata` before or after `tasktracker` (and every model of it) is
imported, and nothing of the package may show on the host's metadata or table.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

# A host model named like one of ours (`User`), with a relationship resolved by that name.
HOST_MODEL = """
from sqlmodel import Field, Relationship, SQLModel

class User(SQLModel, table=True):
    __tablename__ = "host_users"
    id: int | None = Field(default=None, primary_key=True)
    items: list["HostItem"] = Relationship(back_populates="owner")

class HostItem(SQLModel, table=True):
    __tablename__ = "host_items"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)
    owner_id: int | None = Field(default=None, foreign_key="host_users.id")
    owner: "User" = Relationship(back_populates="items")
"""

IMPORT_TASKTRACKER = """
import tasktracker
import tasktracker.models
"""

REPORT = """
import json
from sqlalchemy import CheckConstraint
from sqlalchemy.orm import configure_mappers
from sqlalchemy.schema import CreateTable
from sqlalchemy.dialects import postgresql
from tasktracker.db.base import metadata as tasktracker_metadata

configure_mappers()  # both registries: "User" resolves to the host's own class
assert HostItem.owner.property.mapper.class_ is User
table = SQLModel.metadata.tables["host_items"]
print(json.dumps({
    "tables": sorted(SQLModel.metadata.tables),
    "naming_convention": dict(SQLModel.metadata.naming_convention),
    "checks": sorted(str(c.name) for c in table.constraints if isinstance(c, CheckConstraint)),
    "ddl": str(CreateTable(table).compile(dialect=postgresql.dialect())),
    "tasktracker_tables": sorted(tasktracker_metadata.tables),
    "tasktracker_convention": sorted(tasktracker_metadata.naming_convention),
}))
"""


def _run(source: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("order", ["host first", "tasktracker first"])
def test_a_host_model_is_untouched(order: str) -> None:
    parts = [HOST_MODEL, IMPORT_TASKTRACKER]
    if order == "tasktracker first":
        parts.reverse()
    report = _run("\n".join([*parts, REPORT]))

    assert report["tables"] == ["host_items", "host_users"]
    assert report["naming_convention"] == {"ix": "ix_%(column_0_label)s"}  # SQLAlchemy's default
    assert report["checks"] == []
    assert "CHECK" not in str(report["ddl"])
    assert "CONSTRAINT" not in str(report["ddl"])  # the default convention names no PK
    # The package's own metadata has its tables and its convention.
    assert {"users", "tasks", "messages"} <= set(report["tasktracker_tables"])  # type: ignore[arg-type]
    assert "host_items" not in report["tasktracker_tables"]  # type: ignore[operator]
    assert report["tasktracker_convention"] == ["ck", "fk", "ix", "pk", "uq"]

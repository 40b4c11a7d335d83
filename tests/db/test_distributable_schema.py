"""The schema can be distributed by `user_id` on Citus (spec: "Citus" and "Keys are tenant-scoped").

Checked on the models' metadata (every registered table: `tasktracker.models` imports them
all) and on the schema the migrations actually build on PostgreSQL (reflected), with one
checker, which is itself tested on a schema that breaks each rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    create_engine,
)

import tasktracker.models
from tasktracker.admin import catalog
from tasktracker.db.base import metadata
from tasktracker.migrations import citus
from tests import databases

KEY = "user_id"
REFERENCE_TABLES = frozenset({"users"})  # replicated to every node: create_reference_table
LOCAL_TABLES = frozenset({"alembic_version"})  # bookkeeping, stays on the coordinator
REFUSED_ACTIONS = ("SET NULL", "SET DEFAULT")


def _refused(action: str | None) -> bool:
    return (action or "").upper().startswith(REFUSED_ACTIONS)


def citus_problems(schema: MetaData) -> list[str]:
    """Every reason the schema could not be distributed by `user_id` (empty: it can)."""
    problems: list[str] = []
    tenant = {
        name: table
        for name, table in schema.tables.items()
        if name not in REFERENCE_TABLES | LOCAL_TABLES
    }
    for name, table in tenant.items():
        if KEY not in table.c:
            problems.append(f"{name}: no {KEY} column (neither tenant nor reference table)")
            continue
        if KEY not in table.primary_key.columns:
            problems.append(f"{name}: primary key lacks {KEY}")
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint) and KEY not in constraint.columns:
                problems.append(f"{name}: unique constraint {constraint.name} lacks {KEY}")
        for index in table.indexes:
            if index.unique and KEY not in {column.name for column in index.columns}:
                problems.append(f"{name}: unique index {index.name} lacks {KEY}")
        for fk in table.foreign_key_constraints:
            pairs = {(element.parent.name, element.column.name) for element in fk.elements}
            referred = fk.referred_table.name
            if referred in tenant and (KEY, "user_id") not in pairs:
                problems.append(
                    f"{name}: foreign key {fk.name} to {referred} lacks {KEY} on both sides"
                )
            if KEY in fk.column_keys and (_refused(fk.ondelete) or _refused(fk.onupdate)):
                problems.append(
                    f"{name}: foreign key {fk.name} includes {KEY} and uses "
                    f"{fk.ondelete or fk.onupdate} (Citus refuses it)"
                )
    for name in REFERENCE_TABLES & set(schema.tables):
        for fk in schema.tables[name].foreign_key_constraints:
            if fk.referred_table.name in tenant:
                problems.append(
                    f"{name}: reference table has a foreign key into {fk.referred_table.name}"
                )
    key_types = {type(table.c[KEY].type).__name__ for table in tenant.values() if KEY in table.c}
    if len(key_types) > 1:
        problems.append(
            f"{KEY} has different types {sorted(key_types)}: tables cannot be co-located"
        )
    return problems


def test_every_registered_table_is_distributable() -> None:
    assert set(tasktracker.models.__all__) - {"metadata"}, "the models were imported"
    assert len(metadata.tables) >= 3
    assert citus_problems(metadata) == []


def test_the_migrated_postgresql_schema_is_distributable(postgres_committed_url: str) -> None:
    engine = create_engine(postgres_committed_url.replace("postgresql://", "postgresql+psycopg://"))
    reflected = MetaData()
    try:
        reflected.reflect(engine)
    finally:
        engine.dispose()
    assert set(metadata.tables) <= set(reflected.tables)
    assert citus_problems(reflected) == []


def test_the_checker_finds_each_violation() -> None:
    bad = MetaData()
    Table("users", bad, Column("id", Uuid, primary_key=True), Column("team_id", Integer))
    Table(
        "teams",
        bad,
        Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE")),
        Column("id", Uuid),
        Column("code", String(10), unique=True),  # unique without user_id
        PrimaryKeyConstraint("id"),  # primary key without user_id
    )
    Table(
        "members",
        bad,
        Column("user_id", Uuid, primary_key=True),
        Column("id", Uuid, primary_key=True),
        Column("team_id", Uuid),
        Column("email", String(50)),
        Column("parent_id", Uuid),
        ForeignKeyConstraint(["team_id"], ["teams.id"]),  # no user_id on either side
        ForeignKeyConstraint(
            ["user_id", "parent_id"], ["members.user_id", "members.id"], ondelete="SET NULL"
        ),
        Index("uq_members_email", "email", unique=True),
    )
    Table("settings", bad, Column("id", Integer, primary_key=True))  # no user_id at all
    Table(
        "notes",
        bad,
        Column("user_id", String(36), primary_key=True),  # another type: no co-location
        Column("id", Uuid, primary_key=True),
    )
    bad.tables["users"].append_constraint(ForeignKeyConstraint(["team_id"], ["members.id"]))
    problems = "\n".join(citus_problems(bad))
    for expected in (
        "teams: primary key lacks user_id",
        "teams: unique constraint",
        "members: unique index uq_members_email lacks user_id",
        "members: foreign key",
        "lacks user_id on both sides",
        "uses SET NULL",
        "settings: no user_id column",
        "users: reference table has a foreign key into members",
        "different types",
    ):
        assert expected in problems, expected


def test_the_revisions_distribute_every_table_once_parents_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every revision that creates a table distributes it (`ddl.distribute_tables`, which
    a database without Citus ignores): recorded on SQLite, where the calls still happen."""
    calls: list[tuple[list[str], list[str]]] = []

    def record(connection: object, *, reference: Any = (), by_user: Any = ()) -> list[str]:
        calls.append((list(reference), list(by_user)))
        return []

    monkeypatch.setattr(citus, "distribute", record)
    databases.migrate_to(f"sqlite:///{tmp_path / 'calls.db'}")
    reference = [name for names, _ in calls for name in names]
    order = [name for _, names in calls for name in names]
    assert reference == sorted(REFERENCE_TABLES)
    assert sorted(order) == sorted(set(metadata.tables) - REFERENCE_TABLES)
    for position, name in enumerate(order):
        for fk in metadata.tables[name].foreign_key_constraints:
            referred = fk.referred_table.name
            assert referred in REFERENCE_TABLES or order.index(referred) <= position, (
                name,
                referred,
            )
    assert [t.name for t in catalog.tenant_tables()] == [  # `db distribute`'s order
        t.name for t in metadata.sorted_tables if t.name not in REFERENCE_TABLES
    ]

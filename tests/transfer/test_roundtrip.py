"""Export a user, import into another, export again: the same data, wired the same way."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import Connection

from tasktracker.accounts.repository import UserRepository
from tasktracker.admin import catalog
from tasktracker.db.errors import ConflictError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.seeding.demo import ADA, seed_demo
from tasktracker.seeding.volume import SeedPlan, first_email, load
from tasktracker.transfer.service import export_user, import_user

TIMESTAMPS = {"created_at", "updated_at"}


def canonical(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The tables with each id replaced by `table#position`, timestamps dropped."""
    labels = {
        row["id"]: f"{table}#{position}"
        for table, rows in document["tables"].items()
        for position, row in enumerate(rows)
        if "id" in row
    }
    return {
        table: [
            {
                k: labels.get(v, v) if isinstance(v, str) else v
                for k, v in row.items()
                if k not in TIMESTAMPS
            }
            for row in rows
        ]
        for table, rows in document["tables"].items()
    }


@pytest.fixture
def seeded_user(db: Database) -> uuid.UUID:
    """A user with rows in every tenant table (the seed data covers every domain)."""
    plan = SeedPlan(users=2, tasks_per_user=40, seed=11)
    assert isinstance(db.bind, Connection)
    load(db.bind, plan, password_hash="x" * 20)
    with db.session() as session:
        user = UserRepository(session).find(first_email(plan) or "")
        assert user is not None
        return user.id


def test_round_trip_into_another_user(db: Database, seeded_user: uuid.UUID, make_user) -> None:  # type: ignore[no-untyped-def]
    original = export_user(db, seeded_user)
    assert all(original["tables"][t.name] for t in catalog.tenant_tables()), "every table has rows"
    text = json.dumps(original)
    assert "password" not in text
    assert str(seeded_user) not in text  # no user id either

    target = make_user()
    counts = import_user(db, target, json.loads(text))
    assert counts == {name: len(rows) for name, rows in original["tables"].items()}

    copied = export_user(db, target)
    assert canonical(copied) == canonical(original)
    original_ids = {
        row["id"] for rows in original["tables"].values() for row in rows if "id" in row
    }
    copied_ids = {row["id"] for rows in copied["tables"].values() for row in rows if "id" in row}
    assert not original_ids & copied_ids  # every row got a new id
    assert canonical(export_user(db, seeded_user)) == canonical(original)  # source untouched


def test_round_trip_of_the_demo_keeps_timestamps(
    db: Database, password_hash: str, make_user
) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(db.bind, Connection)
    demo = seed_demo(db.bind, password_hash=password_hash)
    original = export_user(db, demo.user_ids[ADA.email])
    target = make_user()
    import_user(db, target, original)
    copied = export_user(db, target)
    assert canonical(copied) == canonical(original)
    stamps = [
        [(row.get("created_at"), row.get("updated_at")) for row in rows]
        for rows in original["tables"].values()
    ]
    assert stamps == [
        [(row.get("created_at"), row.get("updated_at")) for row in rows]
        for rows in copied["tables"].values()
    ]


def test_a_failing_import_changes_nothing(db: Database, seeded_user: uuid.UUID, make_user) -> None:  # type: ignore[no-untyped-def]
    document = export_user(db, seeded_user)
    target = make_user()
    import_user(db, target, document)
    before = canonical(export_user(db, target))
    with pytest.raises(ConflictError):
        import_user(db, target, document)  # the same category names again
    assert canonical(export_user(db, target)) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(format="something else"), "format"),
        (lambda d: d.update(version=99), "version"),
        (lambda d: d["tables"].update(secrets=[]), "tables"),
        (lambda d: d["tables"]["tasks"][0].update(user_id=str(uuid.uuid4())), "tables.tasks[0]"),
        (
            lambda d: d["tables"]["tasks"][0].update(category_id=str(uuid.uuid4())),
            "tables.tasks[0].category_id",
        ),
        (lambda d: d["tables"]["tasks"][0].update(title="  "), "tables.tasks[0].title"),
    ],
)
def test_invalid_documents_are_refused_by_field(
    db: Database,
    seeded_user: uuid.UUID,
    make_user,
    change,
    field: str,  # type: ignore[no-untyped-def]
) -> None:
    document = copy.deepcopy(export_user(db, seeded_user))
    change(document)
    target = make_user()
    with pytest.raises(ValidationError) as error:
        import_user(db, target, document)
    assert field in error.value.fields
    assert not any(canonical(export_user(db, target)).values())

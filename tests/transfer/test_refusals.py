"""A refused import says which row and which value, as the document has them, changes
nothing, and is reported once (no second line from the driver)."""

from __future__ import annotations

import copy
import logging
import uuid
from typing import Any

import pytest
from sqlalchemy import Connection

from tasktracker.admin import schema
from tasktracker.db.errors import ConflictError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.seeding.demo import ADA, seed_demo
from tasktracker.tasks.repository import CategoryRepository
from tasktracker.transfer.service import export_user, import_user
from tests.transfer.test_roundtrip import canonical


@pytest.fixture
def document(db: Database, password_hash: str) -> dict[str, Any]:
    """Ada's demo data, exported."""
    assert isinstance(db.bind, Connection)
    demo = seed_demo(db.bind, password_hash=password_hash)
    return copy.deepcopy(export_user(db, demo.user_ids[ADA.email]))


def _refused(db: Database, target: uuid.UUID, document: dict[str, Any]) -> Exception:
    """The error importing `document` into `target` raises; asserts nothing was written."""
    before = canonical(export_user(db, target))
    with pytest.raises((ValidationError, ConflictError)) as error:
        import_user(db, target, document)
    assert canonical(export_user(db, target)) == before
    return error.value


@pytest.mark.parametrize("revision", ["0001", None])
def test_a_document_of_another_schema_revision_is_refused(
    db: Database, document: dict[str, Any], make_user, revision: str | None
) -> None:  # type: ignore[no-untyped-def]
    document["schema_revision"] = revision
    error = _refused(db, make_user(), document)
    assert isinstance(error, ValidationError)
    assert error.fields == {"schema_revision"}
    assert f"exported at schema revision {revision!r}" in str(error)
    assert f"this database is at {schema.head_revision()!r}" in str(error)


def test_an_invalid_row_is_named_by_its_place_in_the_document(
    db: Database, document: dict[str, Any], make_user
) -> None:  # type: ignore[no-untyped-def]
    requirements = document["tables"]["requirements"]
    requirements.reverse()  # children before their parents: the import reorders them
    assert requirements[0]["parent_id"] is None or any(
        row["id"] == requirements[0]["parent_id"] for row in requirements[1:]
    )
    requirements[-1]["title"] = " "
    last = len(requirements) - 1
    error = _refused(db, make_user(), document)
    assert isinstance(error, ValidationError)
    assert error.fields == {f"tables.requirements[{last}].title"}
    assert str(error) == f"invalid input: tables.requirements[{last}].title: must not be blank"


def test_a_name_the_user_already_has_is_named_with_its_row(
    db: Database, document: dict[str, Any], make_user
) -> None:  # type: ignore[no-untyped-def]
    target = make_user()
    with db.user_scope(target) as session:
        CategoryRepository(session).create({"name": "HOME"})  # unique regardless of case
    names = [row["name"] for row in document["tables"]["categories"]]
    error = _refused(db, target, document)
    assert isinstance(error, ConflictError)
    assert str(error) == (
        f"tables.categories[{names.index('Home')}].name: 'Home' is already used by another category"
    )


def test_the_same_key_twice_in_the_document_is_named_at_its_second_row(
    db: Database, document: dict[str, Any], make_user
) -> None:  # type: ignore[no-untyped-def]
    requirements = document["tables"]["requirements"]
    key = requirements[0]["key"]
    requirements[2]["key"] = key
    error = _refused(db, make_user(), document)
    assert isinstance(error, ConflictError)
    assert (
        str(error) == f"tables.requirements[2].key: {key!r} is already used by another requirement"
    )


def test_a_second_default_variant_is_named(
    db: Database, document: dict[str, Any], make_user
) -> None:  # type: ignore[no-untyped-def]
    variants = document["tables"]["parameter_variants"]
    default = next(row for row in variants if row["is_default"])
    second = next(
        number
        for number, row in enumerate(variants)
        if row["parameter_id"] == default["parameter_id"] and not row["is_default"]
    )
    variants[second]["is_default"] = True
    error = _refused(db, make_user(), document)
    assert str(error) == (
        f"tables.parameter_variants[{second}].is_default: True is already set on another variant"
    )


def test_a_refusal_in_a_batched_insert_is_reported_once(
    db: Database, document: dict[str, Any], make_user, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL the rows of a table are sent by psycopg's `executemany`, in a pipeline;
    a refusal there used to come with a second report, psycopg's warning that ending the
    aborted pipeline failed. Only the error remains."""
    links = document["tables"]["generic_command_parameters"]
    assert len(links) >= 4, "rows are still queued behind the refused one"
    links[1].update(command_id=links[0]["command_id"], position=links[0]["position"])
    with caplog.at_level(logging.DEBUG):
        error = _refused(db, make_user(), document)
    assert str(error) == (
        "tables.generic_command_parameters[1].position: "
        f"{links[0]['position']!r} is already taken in this signature"
    )
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text

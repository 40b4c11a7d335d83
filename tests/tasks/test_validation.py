"""Bad input is refused by validation (field named) and, by plain SQL, by the database."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError as SchemaError
from sqlalchemy import func, select, text

from tasktracker.db.errors import ConflictError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.tasks.models import Category, Task
from tasktracker.tasks.repository import CategoryRepository, TaskRepository
from tasktracker.tasks.schemas import CategoryCreate, TaskCreate, TaskUpdate
from tests.tasks.conftest import add_category, add_task

BAD_TASKS = [
    ({"title": ""}, "title"),
    ({"title": "   \t "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": "ok", "description": "d" * 5001}, "description"),
    ({"title": "ok", "status": "done"}, "status"),
    ({"title": "ok", "priority": "urgent"}, "priority"),
    ({"title": "nul\x00byte"}, "title"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_TASKS)
def test_task_model_refuses_bad_fields(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Task(**fields)
    assert field in caught.value.fields


@pytest.mark.parametrize(("fields", "field"), BAD_TASKS)
def test_task_schema_refuses_bad_fields(fields: dict[str, object], field: str) -> None:
    with pytest.raises(SchemaError) as caught:
        TaskCreate(**fields)
    assert field in {error["loc"][0] for error in caught.value.errors()}


def test_update_is_validated_and_changes_nothing(db: Database, make_user) -> None:
    user = make_user()
    task_id = add_task(db, user, title="keep me")
    with pytest.raises(ValidationError) as caught, db.user_scope(user) as session:
        task = TaskRepository(session).get(task_id)
        task.title = "x" * 201
    assert caught.value.fields == {"title"}
    with pytest.raises(SchemaError):
        TaskUpdate(title="")
    with db.user_scope(user) as session:
        assert TaskRepository(session).get(task_id).title == "keep me"


@pytest.mark.parametrize("color", ["red", "#12345", "#1234567", "#GGGGGG", "123456#"])
def test_bad_colors_are_refused(color: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Category(name="x", color=color)
    assert caught.value.fields == {"color"}


@pytest.mark.parametrize(
    ("sql", "field"),
    [
        ("INSERT INTO tasks (user_id, id, title) VALUES (:u, :i, '   ')", "title"),
        ("INSERT INTO tasks (user_id, id, title) VALUES (:u, :i, :long)", "title"),
        ("INSERT INTO tasks (user_id, id, title, status) VALUES (:u, :i, 't', 'done')", "status"),
        (
            "INSERT INTO tasks (user_id, id, title, priority) VALUES (:u, :i, 't', 'urgent')",
            "priority",
        ),
        (
            "INSERT INTO tasks (user_id, id, title, description) VALUES (:u, :i, 't', :huge)",
            "description",
        ),
        (
            "INSERT INTO tasks (user_id, id, title, status) VALUES (:u, :i, 't', 'completed')",
            "completed_at",
        ),
        ("INSERT INTO categories (user_id, id, name, color) VALUES (:u, :i, 'c', 'red')", "color"),
        (
            "INSERT INTO categories (user_id, id, name, color) VALUES (:u, :i, 'c', '#12345G')",
            "color",
        ),
        ("INSERT INTO categories (user_id, id, name) VALUES (:u, :i, '')", "name"),
    ],
)
def test_database_refuses_bad_rows_from_plain_sql(
    db: Database, make_user, backend: str, sql: str, field: str
) -> None:
    user = make_user()
    params = {
        "u": _uuid_param(user, backend),
        "i": _uuid_param(uuid.uuid4(), backend),
        "long": "x" * 201,
        "huge": "d" * 5001,
    }
    with pytest.raises(ValidationError) as caught, db.session() as session:
        session.execute(text(sql), params)
    # PostgreSQL's varchar(n) refuses an overlong value before any CHECK runs, without
    # naming the column; everywhere else the CHECK constraint names the field.
    varchar_overflow = backend == "postgresql" and ":long" in sql
    assert caught.value.fields == ({"value"} if varchar_overflow else {field})


def _uuid_param(value: uuid.UUID, backend: str) -> object:
    """The UUID as each backend stores it (SQLite: 32 hex characters)."""
    return value.hex if backend == "sqlite" else value


def test_category_names_are_unique_per_user_regardless_of_case(db: Database, make_user) -> None:
    alice, bob = make_user(), make_user()
    add_category(db, alice, "Work")
    with pytest.raises(ConflictError, match="name"), db.user_scope(alice) as session:
        CategoryRepository(session).create(CategoryCreate(name="wORK"))
    add_category(db, bob, "work")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Category)) == 2

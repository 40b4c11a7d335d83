"""The bulk path on both backends: defaults filled like the ORM, values converted, errors
translated, and the rows readable through the repositories."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, Table

from tasktracker.db.bulk import bulk_insert
from tasktracker.db.errors import IntegrityError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.tasks.models import Category, Task, TaskPriority, TaskStatus
from tasktracker.tasks.repository import TaskFilter, TaskRepository


def _connection(db: Database) -> Connection:
    assert isinstance(db.bind, Connection)
    return db.bind


def test_fills_ids_timestamps_and_python_defaults(db: Database, make_user) -> None:  # type: ignore[no-untyped-def]
    user_id = make_user()
    rows = [{"user_id": user_id, "title": f"task {n}"} for n in range(12)]
    seen: list[int] = []
    before = datetime.now(UTC)
    assert bulk_insert(_connection(db), Task, rows, chunk_size=5, on_progress=seen.append) == 12
    assert seen == [5, 5, 2]
    assert len({row["id"] for row in rows}) == 12
    assert all(isinstance(row["id"], uuid.UUID) and row["id"].version == 7 for row in rows)
    with db.user_scope(user_id) as session:
        tasks = TaskRepository(session)
        assert tasks.count() == 12
        task = tasks.get(rows[0]["id"])
        assert task.status is TaskStatus.PENDING
        assert task.priority is TaskPriority.MEDIUM
        assert task.created_at is not None
        assert task.created_at >= before - timedelta(seconds=1)
        assert task.updated_at == task.created_at


def test_keeps_given_values_and_converts_them(db: Database, make_user) -> None:  # type: ignore[no-untyped-def]
    user_id = make_user()
    category_id = uuid.uuid4()
    created = datetime(2024, 3, 1, 12, tzinfo=UTC)
    bulk_insert(
        _connection(db),
        Category,
        [{"user_id": user_id, "id": category_id, "name": "Work", "created_at": created}],
    )
    due = datetime(2020, 1, 1, tzinfo=UTC)
    bulk_insert(
        _connection(db),
        Task,
        [
            {
                "user_id": user_id,
                "title": "done",
                "status": TaskStatus.COMPLETED,
                "completed_at": created,
                "due_date": due,
                "category_id": category_id,
            },
            {
                "user_id": user_id,
                "title": "late",
                "status": "in_progress",
                "completed_at": None,
                "due_date": due,
                "category_id": None,
            },
        ],
    )
    with db.user_scope(user_id) as session:
        tasks = TaskRepository(session)
        assert tasks.count(TaskFilter(overdue=True)) == 1
        assert tasks.count(TaskFilter(category_id=category_id)) == 1
        assert tasks.counts_by_status()[TaskStatus.COMPLETED] == 1


def test_accepts_a_core_table_and_an_empty_stream(db: Database, make_user) -> None:  # type: ignore[no-untyped-def]
    table: Table = Category.__table__  # type: ignore[attr-defined]
    assert bulk_insert(_connection(db), table, iter([])) == 0
    user_id = make_user()
    assert bulk_insert(_connection(db), table, [{"user_id": user_id, "name": "Home"}]) == 1


def test_refuses_a_row_with_columns_the_first_row_lacks(db: Database, make_user) -> None:  # type: ignore[no-untyped-def]
    user_id = make_user()
    rows = [
        {"user_id": user_id, "title": "a"},
        {"user_id": user_id, "title": "b", "due_date": None},
    ]
    with pytest.raises(ValidationError, match="due_date: missing from the first row"):
        bulk_insert(_connection(db), Task, rows)


def test_constraint_violations_are_translated(db: Database, make_user) -> None:  # type: ignore[no-untyped-def]
    user_id = make_user()
    connection = _connection(db)
    with pytest.raises(ValidationError), connection.begin_nested():
        bulk_insert(connection, Task, [{"user_id": user_id, "title": "   "}])  # blank title
    with pytest.raises(IntegrityError), connection.begin_nested():
        bulk_insert(
            connection, Task, [{"user_id": user_id, "title": "x", "category_id": uuid.uuid4()}]
        )


def test_text_that_copy_must_escape_round_trips(db: Database, make_user) -> None:  # type: ignore[no-untyped-def]
    user_id = make_user()
    awkward = "tab\there, back\\slash, \\N, quote \" and ' , ünïcødé ✓"
    rows = [{"user_id": user_id, "title": awkward, "description": "line 1\nline 2\r\n"}]
    bulk_insert(_connection(db), Task, rows)
    with db.user_scope(user_id) as session:
        task = TaskRepository(session).get(rows[0]["id"])
    assert task.title == awkward
    assert task.description == "line 1\nline 2\r\n"

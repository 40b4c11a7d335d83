"""Errors on a distributed database name the same field as on PostgreSQL alone, although
Citus forwards no constraint name (`diag.constraint_name` is None), names the shard's copy
of the constraint in its message, turns a violation inside COPY into XX000, and refuses a
row moved to another user in its planner. Each case first shows the raw driver error is
Citus's, so the translation's Citus path is the one tested."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import Engine, text, update

from tasktracker.accounts.models import User
from tasktracker.db.bulk import bulk_insert
from tasktracker.db.errors import (
    ConflictError,
    IntegrityError,
    TaskTrackerError,
    ValidationError,
)
from tasktracker.db.sessions import Database
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import TaskRepository

Users = tuple[Database, uuid.UUID, uuid.UUID]


@pytest.fixture
def users(migrated_citus_engine: Engine) -> tuple[Database, uuid.UUID, uuid.UUID]:
    db = Database(migrated_citus_engine)
    ids = []
    with db.session() as session:
        for name in (f"alice{uuid.uuid4().hex[:8]}", f"bob{uuid.uuid4().hex[:8]}"):
            user = User(email=f"{name}@example.com", username=name, password_hash="x" * 20)
            session.add(user)
            session.flush()
            ids.append(user.id)
    return db, ids[0], ids[1]


def _raw_error(engine: Engine, sql: str) -> psycopg.Error:
    """The driver's own error for `sql` (run outside the translation, rolled back)."""
    raw = engine.raw_connection()
    try:
        with pytest.raises(psycopg.Error) as caught:
            raw.cursor().execute(sql)
        raw.rollback()
        return caught.value
    finally:
        raw.close()


def _translated(engine: Engine, sql: str) -> TaskTrackerError:
    with engine.connect() as connection, pytest.raises(TaskTrackerError) as caught:
        connection.execute(text(sql))
    return caught.value


def test_constraint_violations_name_their_field(
    users: Users, migrated_citus_engine: Engine
) -> None:
    _, alice, _ = users
    blank = f"INSERT INTO tasks (user_id, title) VALUES ('{alice}', '   ')"
    raw = _raw_error(migrated_citus_engine, blank)
    assert raw.diag.constraint_name is None  # Citus forwards none...
    assert 'relation "tasks_1' in str(raw.diag.message_primary)  # ...and names the shard

    check = _translated(migrated_citus_engine, blank)
    assert isinstance(check, ValidationError)
    assert check.fields == {"title"}
    null = _translated(
        migrated_citus_engine, f"INSERT INTO tasks (user_id, title) VALUES ('{alice}', NULL)"
    )
    assert isinstance(null, ValidationError)
    assert null.fields == {"title"}
    category = f"INSERT INTO categories (user_id, name) VALUES ('{alice}', 'Home')"
    with migrated_citus_engine.begin() as connection:
        connection.execute(text(category))
    raw = _raw_error(migrated_citus_engine, category.replace("Home", "HOME"))
    assert raw.diag.constraint_name is None
    assert '"uq_categories_user_id_name_lower_1' in str(raw.diag.message_primary)  # a shard's
    duplicate = _translated(migrated_citus_engine, category.replace("Home", "HOME"))
    assert isinstance(duplicate, ConflictError)
    assert duplicate.field == "name"
    missing = _translated(
        migrated_citus_engine,
        "INSERT INTO tasks (user_id, title, category_id)"
        f" VALUES ('{alice}', 't', '{uuid.uuid4()}')",
    )
    assert isinstance(missing, IntegrityError)
    assert str(missing) == "tasks.category_id: no such row in categories for this user"
    for error in (check, null, duplicate, missing):
        assert "_10" not in str(error)  # no shard named


def test_a_check_violation_inside_copy_names_the_field(
    users: Users, migrated_citus_engine: Engine
) -> None:
    _, alice, _ = users
    raw = migrated_citus_engine.raw_connection()
    try:
        copying = raw.cursor().copy("COPY tasks (user_id, title) FROM STDIN")
        with pytest.raises(psycopg.Error) as caught_raw, copying as copy:
            copy.write_row((alice, "fine"))
            copy.write_row((alice, "   "))
        raw.rollback()
    finally:
        raw.close()
    assert caught_raw.value.sqlstate == "XX000"  # not 23514: Citus's, from the worker
    rows = [{"user_id": alice, "title": "fine"}, {"user_id": alice, "title": "   "}]
    with migrated_citus_engine.connect() as connection, pytest.raises(ValidationError) as caught:
        bulk_insert(connection, Task, rows)
    assert caught.value.fields == {"title"}
    with migrated_citus_engine.connect() as connection:
        written = text("SELECT count(*) FROM tasks WHERE user_id = :user")
        assert connection.scalar(written, {"user": alice}) == 0  # nothing written


def test_moving_a_row_to_another_user_is_an_integrity_error(
    users: Users, migrated_citus_engine: Engine
) -> None:
    db, alice, bob = users
    with db.user_scope(alice) as session:
        TaskRepository(session).create({"title": "mine"})
    with migrated_citus_engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(update(Task).values(user_id=bob))
    with db.user_scope(alice, read_only=True) as session:
        assert [row.title for row in TaskRepository(session).read_page().items] == ["mine"]

"""Read-only units of work: reads without a transaction on PostgreSQL, and no writes at all."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select, text, update

from tasktracker.accounts.models import User
from tasktracker.db.engines import create_engine
from tasktracker.db.errors import ReadOnlyUnitError
from tasktracker.db.sessions import Database
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import TaskRepository
from tests import databases


@pytest.fixture
def committed_db(migrated_url: str) -> Iterator[tuple[Database, uuid.UUID]]:
    """A `Database` on its own engine (read-only units need real connections), with a user."""
    engine: Engine = create_engine(databases.test_settings(migrated_url))
    db = Database(engine)
    name = f"ro_{uuid.uuid4().hex[:8]}"
    with db.session() as session:
        user = User(email=f"{name}@example.com", username=name, password_hash="-")
        session.add(user)
    with db.user_scope(user.id) as session:
        session.add(Task(title="readable"))
    yield db, user.id
    with db.session() as session:
        session.execute(text("DELETE FROM users WHERE username = :n"), {"n": name})
    engine.dispose()


def test_reads_work_and_stay_in_scope(committed_db) -> None:
    db, user_id = committed_db
    with db.user_scope(user_id, read_only=True) as session:
        assert [t.title for t in TaskRepository(session).list()] == ["readable"]
        assert session.scalar(select(func.count()).select_from(Task)) == 1


def test_writes_are_refused(committed_db) -> None:
    db, user_id = committed_db
    with (
        pytest.raises(ReadOnlyUnitError, match="read-only"),
        db.user_scope(user_id, read_only=True) as s,
    ):
        s.add(Task(title="nope"))
        s.flush()
    with (
        pytest.raises(ReadOnlyUnitError, match="read-only"),
        db.user_scope(user_id, read_only=True) as s,
    ):
        s.execute(update(Task).values(title="nope"))
    with db.user_scope(user_id) as session:
        assert session.scalars(select(Task.title)).all() == ["readable"]


def test_postgresql_read_only_units_run_without_a_transaction(committed_db, backend: str) -> None:
    """Each statement is its own transaction: two `now()` calls see different start times."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL functions; SQLite: test_sqlite_concurrency")
    db, user_id = committed_db
    with db.user_scope(user_id, read_only=True) as session:
        first = session.scalar(select(func.now()))
        session.execute(select(func.pg_sleep(0.01)))
        second = session.scalar(select(func.now()))
    assert second > first
    with db.user_scope(user_id) as session:
        first = session.scalar(select(func.now()))
        session.execute(select(func.pg_sleep(0.01)))
        second = session.scalar(select(func.now()))
    assert second == first

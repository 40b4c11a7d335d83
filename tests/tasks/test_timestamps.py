"""Timestamps are aware UTC everywhere; created_at is fixed; updated_at only moves forward."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text, update

from tasktracker.db.sessions import Database
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import TaskRepository
from tasktracker.tasks.schemas import TaskUpdate
from tests.tasks.conftest import add_task


def _stamps(db: Database, user, task_id) -> tuple[datetime, datetime]:
    with db.user_scope(user) as session:
        session.expire_all()
        row = session.execute(
            select(Task.created_at, Task.updated_at).where(Task.id == task_id)
        ).one()
    return row[0], row[1]


def test_timestamps_read_back_aware_utc_and_equal_on_insert(db: Database, make_user) -> None:
    user = make_user()
    task_id = add_task(
        db, user, due_date=datetime(2030, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    )
    created, updated = _stamps(db, user, task_id)
    assert created.tzinfo == UTC
    assert updated.tzinfo == UTC
    assert created == updated
    with db.user_scope(user) as session:
        session.expire_all()
        due = TaskRepository(session).get(task_id).due_date
    assert due == datetime(2030, 1, 1, 10, tzinfo=UTC)
    assert due.tzinfo == UTC


def test_naive_datetimes_are_refused(db: Database, make_user) -> None:
    user = make_user()
    with pytest.raises(Exception, match="naive"), db.user_scope(user) as session:
        session.add(Task(title="t", due_date=datetime(2030, 1, 1)))


def test_orm_update_moves_updated_at_and_keeps_created_at(db: Database, make_user) -> None:
    user = make_user()
    task_id = add_task(db, user)
    created, updated = _stamps(db, user, task_id)
    time.sleep(0.002)
    with db.user_scope(user) as session:
        TaskRepository(session).update(task_id, TaskUpdate(title="renamed"))
    created2, updated2 = _stamps(db, user, task_id)
    assert created2 == created
    assert updated2 > updated


def test_bulk_update_moves_updated_at(db: Database, make_user) -> None:
    user = make_user()
    task_id = add_task(db, user)
    _, updated = _stamps(db, user, task_id)
    time.sleep(0.002)
    with db.user_scope(user) as session:
        session.execute(update(Task).values(priority="high"))
    assert _stamps(db, user, task_id)[1] > updated


def test_plain_sql_update_moves_updated_at_on_postgresql(
    db: Database, make_user, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("the updated_at trigger is PostgreSQL-only (spec)")
    user = make_user()
    task_id = add_task(db, user)
    created, updated = _stamps(db, user, task_id)
    with db.session() as session:
        session.execute(
            text(
                "UPDATE tasks SET title = 'sql', created_at = now() - interval '1 day' "
                "WHERE id = :i"
            ),
            {"i": task_id},
        )
        session.execute(text("UPDATE tasks SET title = 'sql again' WHERE id = :i"), {"i": task_id})
    created2, updated2 = _stamps(db, user, task_id)
    assert created2 == created
    assert updated2 > updated

"""Keyset pagination walks every task once, in order, whatever the sort."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from tasktracker.db.errors import ValidationError
from tasktracker.db.sessions import Database
from tasktracker.db.types import new_id
from tasktracker.tasks.models import Task, TaskPriority, TaskStatus
from tasktracker.tasks.repository import TaskFilter, TaskRepository, TaskSort
from tests.tasks.orders import in_order

N = 10_000


@pytest.fixture
def many_tasks(db: Database, make_user) -> tuple[Database, object]:
    user = make_user()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "id": new_id(),
            "title": f"task {i % 997:04d}",
            "created_at": base + timedelta(seconds=i // 3),
            "updated_at": base + timedelta(seconds=i // 3),
            "due_date": None if i % 5 == 0 else base + timedelta(hours=i % 1000),
            "status": TaskStatus.COMPLETED if i % 4 == 0 else TaskStatus.PENDING,
            "priority": list(TaskPriority)[i % 3],
            "completed_at": base if i % 4 == 0 else None,
        }
        for i in range(N)
    ]
    with db.user_scope(user) as session:
        session.execute(insert(Task), rows)
    return db, user


def _walk(
    db: Database, user, sort: TaskSort, limit: int, filter: TaskFilter | None = None
) -> list[Task]:
    seen: list[Task] = []
    cursor = None
    while True:
        with db.user_scope(user) as session:
            page = TaskRepository(session).list(filter, sort=sort, limit=limit, cursor=cursor)
        seen.extend(page.items)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_walks_ten_thousand_tasks_without_duplicates_or_gaps(many_tasks) -> None:
    db, user = many_tasks
    for sort in TaskSort:
        tasks = _walk(db, user, sort, limit=500)
        assert len(tasks) == N, sort
        assert len({t.id for t in tasks}) == N, sort
        assert [t.id for t in tasks] == [t.id for t in in_order(tasks, sort)], sort

    only_open = TaskFilter(completed=False)
    tasks = _walk(db, user, TaskSort.NEWEST, limit=333, filter=only_open)
    with db.user_scope(user) as session:
        assert len(tasks) == TaskRepository(session).count(only_open) == N - N // 4
    assert all(not t.completed for t in tasks)


@pytest.mark.parametrize("cursor", ["not-base64!", "bm9wZQ", "WyJvdGhlciIsWzFdXQ"])
def test_bad_cursors_are_refused(db: Database, make_user, cursor: str) -> None:
    with pytest.raises(ValidationError, match="cursor"), db.user_scope(make_user()) as session:
        TaskRepository(session).list(cursor=cursor)


@pytest.mark.parametrize("limit", [0, -1, 501])
def test_page_size_is_bounded(db: Database, make_user, limit: int) -> None:
    with pytest.raises(ValidationError, match="limit"), db.user_scope(make_user()) as session:
        TaskRepository(session).list(limit=limit)

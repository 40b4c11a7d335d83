"""Cursors hold the sort keys the database returned, not attributes of loaded objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

from tasktracker.db.sessions import Database
from tasktracker.db.types import new_id
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import TaskRepository, TaskSort

BASE = datetime(2026, 3, 1, tzinfo=UTC)


def test_a_stale_object_in_the_unit_does_not_bend_the_cursor(
    db: Database, make_user, backend: str
) -> None:
    """The ORM hands back objects of the identity map as loaded earlier in the unit; a
    change made behind it (plain SQL, a trigger, another transaction) leaves them stale.
    Their attributes would make a cursor that skips rows; the database's keys do not."""
    user = make_user()
    ids = [new_id() for _ in range(3)]
    rows = [
        {"id": id, "title": f"t{i}", "created_at": BASE, "updated_at": BASE + timedelta(hours=i)}
        for i, id in enumerate(ids)
    ]
    with db.user_scope(user) as session:
        session.execute(insert(Task), rows)
    with db.user_scope(user) as session:
        repository = TaskRepository(session)
        loaded = repository.list(sort=TaskSort.RECENTLY_UPDATED)  # held: the map is weak
        session.connection().execute(  # behind the ORM (and below the scope's check)
            text("UPDATE tasks SET updated_at = :at WHERE id = :id"),
            {
                "at": "2026-03-01 05:00:00.000000" if backend == "sqlite" else BASE.replace(hour=5),
                "id": ids[0].hex if backend == "sqlite" else ids[0],
            },
        )
        seen, cursor = [], None
        for _ in range(4):
            page = repository.list(sort=TaskSort.RECENTLY_UPDATED, limit=1, cursor=cursor)
            seen.extend(task.id for task in page)
            if (cursor := page.next_cursor) is None:
                break
        assert repository.get(ids[0]).updated_at == BASE  # the object is stale indeed
        assert len(loaded) == 3
    assert seen == [ids[0], ids[2], ids[1]]

"""User A can reach none of user B's tasks or categories through any repository method."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from tasktracker.db.errors import IntegrityError, NotFoundError, ValidationError
from tasktracker.db.sessions import Database
from tasktracker.tasks.models import Category, Task, TaskStatus
from tasktracker.tasks.repository import CategoryRepository, TaskFilter, TaskRepository
from tasktracker.tasks.schemas import CategoryUpdate, TaskCreate, TaskUpdate
from tests.tasks.conftest import add_category, add_task


def test_tasks_of_another_user_are_invisible(db: Database, two_users) -> None:
    alice, bob = two_users
    bobs_task = add_task(db, bob, title="bob's secret")
    add_task(db, alice, title="alice's")
    with db.user_scope(alice) as session:
        tasks = TaskRepository(session)
        with pytest.raises(NotFoundError):
            tasks.get(bobs_task)
        with pytest.raises(NotFoundError):
            tasks.update(bobs_task, TaskUpdate(title="hijacked"))
        with pytest.raises(NotFoundError):
            tasks.delete(bobs_task)
        assert [t.title for t in tasks.list()] == ["alice's"]
        assert tasks.count() == 1
        assert tasks.counts_by_status()[TaskStatus.PENDING] == 1
        assert session.get(Task, (bob, bobs_task)) is None
        assert session.execute(update(Task).values(title="bulk")).rowcount == 1
        assert session.scalars(select(Task.title).where(Task.id == bobs_task)).all() == []
    with db.user_scope(bob) as session:
        assert TaskRepository(session).get(bobs_task).title == "bob's secret"


def test_categories_of_another_user_are_invisible(db: Database, two_users) -> None:
    alice, bob = two_users
    bobs = add_category(db, bob, "Bob's")
    with db.user_scope(alice) as session:
        categories = CategoryRepository(session)
        for attempt in (
            lambda: categories.get(bobs),
            lambda: categories.update(bobs, CategoryUpdate(name="mine")),
            lambda: categories.delete(bobs),
        ):
            with pytest.raises(NotFoundError):
                attempt()
        assert categories.list().items == []
        assert categories.count() == 0


def test_task_cannot_point_at_another_users_category(db: Database, two_users, backend: str) -> None:
    alice, bob = two_users
    bobs = add_category(db, bob, "Bob's")
    with pytest.raises(ValidationError, match="category_id"), db.user_scope(alice) as session:
        TaskRepository(session).create(TaskCreate(title="t", category_id=bobs))
    task_id = add_task(db, alice)
    with pytest.raises(ValidationError, match="category_id"), db.user_scope(alice) as session:
        TaskRepository(session).update(task_id, TaskUpdate(category_id=bobs))
    with pytest.raises(IntegrityError), db.session() as session:
        session.execute(
            text("UPDATE tasks SET category_id = :c WHERE id = :t"),
            {
                "c": bobs.hex if backend == "sqlite" else bobs,
                "t": task_id.hex if backend == "sqlite" else task_id,
            },
        )


def test_a_row_claiming_another_user_is_refused(db: Database, two_users) -> None:
    alice, bob = two_users
    with pytest.raises(ValidationError, match="user_id"), db.user_scope(alice) as session:
        session.add(Task(title="sneaky", user_id=bob))
    with pytest.raises(ValidationError, match="user_id"), db.user_scope(alice) as session:
        task = TaskRepository(session).get(add_task(db, alice))
        task.user_id = bob
    with db.user_scope(bob) as session:
        assert TaskRepository(session).count() == 0


def test_filters_cannot_widen_the_scope(db: Database, two_users) -> None:
    alice, bob = two_users
    bobs_category = add_category(db, bob)
    add_task(db, bob, category_id=bobs_category)
    with db.user_scope(alice) as session:
        page = TaskRepository(session).list(TaskFilter(category_id=bobs_category))
        assert page.items == []
        assert session.scalars(select(Category)).all() == []

"""A write the database refuses undoes only itself: the unit of work stays usable.

A caller who catches "name already used" and tries another name expects that to work, with
the unit's earlier writes kept and committed. On PostgreSQL a failed statement aborts the
whole transaction, so each repository write (and each compiled INSERT) runs in a savepoint.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, select

from tasktracker.accounts.models import User
from tasktracker.accounts.repository import UserRepository
from tasktracker.db import run
from tasktracker.db.errors import ConflictError, ValidationError
from tasktracker.db.fastpath.compiled import CompiledQuery
from tasktracker.db.sessions import AsyncDatabase, Database
from tasktracker.db.tenancy import SCOPE_PARAMETER
from tasktracker.db.types import new_id, utc_now
from tasktracker.tasks.models import Category, Task
from tasktracker.tasks.repository import CategoryRepository, TaskRepository
from tasktracker.tasks.schemas import TaskUpdate

NEW_CATEGORY: CompiledQuery[Any] = CompiledQuery(
    insert(Category).values(
        user_id=bindparam(SCOPE_PARAMETER),
        **{name: bindparam(name) for name in ("id", "name", "color", "created_at", "updated_at")},
    )
)
"""A compiled INSERT, as `TaskRepository.create_row` sends (tasks have no unique key but
their id, which create_row makes itself: a category's name can collide)."""


def category(name: str) -> dict[str, Any]:
    now = utc_now()
    return {"id": new_id(), "name": name, "color": "#123456", "created_at": now, "updated_at": now}


def names(db: Database, user: uuid.UUID) -> list[str]:
    with db.user_scope(user) as session:
        return [c.name for c in CategoryRepository(session).list().items]


def test_a_duplicate_name_can_be_retried_in_the_same_unit(db: Database, make_user) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        categories = CategoryRepository(session)
        categories.create({"name": "Work"})
        with pytest.raises(ConflictError) as caught:
            categories.create({"name": "WORK"})
        assert caught.value.field == "name"
        assert "already used" in str(caught.value)
        retried = categories.create({"name": "Work (2)"})
        assert categories.count() == 2
        assert retried in session
    assert names(db, user) == ["Work", "Work (2)"]


def test_a_refused_update_reads_back_as_stored_and_the_unit_goes_on(
    db: Database, make_user
) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        categories = CategoryRepository(session)
        categories.create({"name": "Work"})
        home = categories.create({"name": "Home"})
        with pytest.raises(ConflictError, match="name"):
            categories.update(home.id, {"name": "work", "color": "#000000"})
        assert (home.name, home.color) == ("Home", "#6B7280")  # reloaded, not as attempted
        categories.update(home.id, {"color": "#FF0000"})
    with db.user_scope(user) as session:
        stored = CategoryRepository(session).get(home.id)
        assert (stored.name, stored.color) == ("Home", "#FF0000")


def test_a_duplicate_primary_key_names_the_id_and_leaves_the_unit_usable(
    db: Database, make_user
) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        taken = TaskRepository(session).create({"title": "first"}).id
    with db.user_scope(user) as session:
        tasks = TaskRepository(session)
        tasks.create({"title": "before"})
        with pytest.raises(ConflictError) as caught:
            tasks.add(Task(id=taken, title="same id"))
        assert str(caught.value) == "tasks: id already exists"
        assert caught.value.field == "id"
        tasks.create({"title": "after"})
    with db.user_scope(user) as session:
        titles = sorted(t.title for t in TaskRepository(session).list().items)
    assert titles == ["after", "before", "first"]


def test_a_refused_compiled_insert_leaves_the_unit_usable(db: Database, make_user) -> None:
    """On PostgreSQL, without its savepoint the next statement would fail with "current
    transaction is aborted"."""
    user = make_user()
    with db.user_scope(user) as session:
        row = TaskRepository(session).create_row({"title": "kept"})
        NEW_CATEGORY.execute(session, **category("Work"))
        with pytest.raises(ConflictError) as caught:
            NEW_CATEGORY.execute(session, **category("work"))
        assert caught.value.field == "name"
        NEW_CATEGORY.execute(session, **category("Home"))
        assert TaskRepository(session).read(row.id).title == "kept"
        TaskRepository(session).create_row({"title": "after"})
    assert names(db, user) == ["Home", "Work"]
    with db.user_scope(user) as session:
        assert TaskRepository(session).count() == 2


def test_a_value_refused_on_assignment_undoes_the_whole_write(db: Database, make_user) -> None:
    """The fields assigned before the bad one are undone too: a write is all or nothing."""
    user = make_user()
    naive = datetime(2030, 1, 1)
    unvalidated = TaskUpdate.model_construct(title="changed", due_date=naive)  # as a service's
    with db.user_scope(user) as session:
        tasks = TaskRepository(session)
        task = tasks.create({"title": "kept"})
        with pytest.raises(ValidationError) as caught:
            tasks.update_from(task.id, unvalidated)
        assert caught.value.fields == {"due_date"}
        assert (task.title, task.due_date) == ("kept", None)
        tasks.update(task.id, {"title": "renamed"})
    with db.user_scope(user) as session:
        assert TaskRepository(session).get(task.id).title == "renamed"


def test_earlier_writes_survive_a_failed_one_when_committed(real_db: Database) -> None:
    """The same with a unit that owns its transaction and really commits."""
    name = f"fw_{uuid.uuid4().hex[:8]}"
    with real_db.session() as session:
        user = User(email=f"{name}@example.com", username=name, password_hash="-")
        session.add(user)
    try:
        with real_db.user_scope(user.id) as session:
            categories = CategoryRepository(session)
            categories.create({"name": "Work"})
            with pytest.raises(ConflictError):
                categories.create({"name": "work"})
            categories.create({"name": "Home"})
        assert names(real_db, user.id) == ["Home", "Work"]
    finally:
        with real_db.session() as session:
            UserRepository(session).delete(user.id)


def test_a_refused_first_statement_of_a_unit_is_undone_alone(real_db: Database) -> None:
    """A unit's first compiled write begins its transaction: on PostgreSQL that is rolled
    back (no savepoint was taken), and the unit goes on in a new one, then commits."""
    name = f"fw_{uuid.uuid4().hex[:8]}"
    with real_db.session() as session:
        user = User(email=f"{name}@example.com", username=name, password_hash="-")
        session.add(user)
    try:
        with real_db.user_scope(user.id) as session:
            NEW_CATEGORY.execute(session, **category("Work"))
        with real_db.user_scope(user.id) as session:
            with pytest.raises(ConflictError):
                NEW_CATEGORY.execute(session, **category("work"))  # the unit's first statement
            NEW_CATEGORY.execute(session, **category("Home"))
            TaskRepository(session).create_row({"title": "after"})
        assert names(real_db, user.id) == ["Home", "Work"]
        with real_db.user_scope(user.id) as session:
            assert TaskRepository(session).count() == 1
    finally:
        with real_db.session() as session:
            UserRepository(session).delete(user.id)


async def test_async_callers_can_retry_too(adb: AsyncDatabase) -> None:
    name = f"fw_{uuid.uuid4().hex[:8]}"
    async with adb.session() as session:
        user = User(email=f"{name}@example.com", username=name, password_hash="-")
        session.add(user)
    async with adb.user_scope(user.id) as session:
        await run(session, lambda s: CategoryRepository(s).create({"name": "Work"}))
        with pytest.raises(ConflictError):
            await run(session, lambda s: CategoryRepository(s).create({"name": "work"}))
        await run(session, lambda s: CategoryRepository(s).create({"name": "Home"}))
    async with adb.user_scope(user.id) as session:
        stored = await session.scalars(select(Category.name).order_by(Category.name))
        assert list(stored) == ["Home", "Work"]

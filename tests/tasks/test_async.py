"""The same repositories serve async callers: as the unit's typed attributes
(`await unit.tasks.create(...)`), and, for custom sync code, through `run`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tasktracker.accounts.models import User
from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.sessions import AsyncDatabase, run
from tasktracker.tasks.models import Task, TaskStatus
from tasktracker.tasks.repository import TaskFilter, TaskRepository
from tasktracker.tasks.schemas import CategoryCreate, TaskCreate, TaskUpdate
from tasktracker.units import AsyncDatabase as UnitDatabase


async def _user(adb: AsyncDatabase, name: str, password_hash: str) -> object:
    async with adb.session() as session:
        user = User(email=f"{name}@example.com", username=name, password_hash=password_hash)
        session.add(user)
        await session.flush()
        return user.id


async def test_async_create_list_update_and_isolation(
    adb: AsyncDatabase, password_hash: str
) -> None:
    alice = await _user(adb, "alice_async", password_hash)
    bob = await _user(adb, "bob_async", password_hash)
    units = UnitDatabase(adb.bind)
    async with units.user_scope(alice) as unit:
        category = await unit.categories.create(CategoryCreate(name="Home"))
        task = await unit.tasks.create(TaskCreate(title="async", category_id=category.id))
    async with units.user_scope(alice) as unit:
        await unit.tasks.update(task.id, TaskUpdate(status=TaskStatus.COMPLETED))
        page = await unit.tasks.list(TaskFilter(completed=True))
        assert [t.title for t in page] == ["async"]
        assert page.items[0].completed_at is not None
    async with units.user_scope(bob) as unit:
        with pytest.raises(NotFoundError):
            await unit.tasks.get(task.id)
        assert (await unit.scalars(select(Task))).all() == []


async def test_async_bad_input_rolls_back_the_whole_unit(
    adb: AsyncDatabase, password_hash: str
) -> None:
    """Through `run`, the bridge for custom sync code, on the core's plain `AsyncSession`."""
    alice = await _user(adb, "carol_async", password_hash)
    with pytest.raises(ValidationError):
        async with adb.user_scope(alice) as session:
            await run(session, lambda s: TaskRepository(s).create(TaskCreate(title="first")))
            await run(session, lambda s: TaskRepository(s).create({"title": "x" * 300}))
    async with adb.user_scope(alice) as session:
        assert await run(session, lambda s: TaskRepository(s).count()) == 0


async def test_async_subtasks_and_labels(adb: AsyncDatabase, password_hash: str) -> None:
    """The fast-path create with a parent checks it on the async cursor's unit too (the
    check is an `OnSession` step), and the tree, children and labels are awaited alike."""
    user = await _user(adb, "structure_async", password_hash)
    units = UnitDatabase(adb.bind)
    async with units.user_scope(user) as unit:
        root = await unit.tasks.create_row({"title": "root"})
        child = await unit.tasks.create_row({"title": "child", "parent_id": root.id})
        with pytest.raises(ValidationError) as caught:
            await unit.tasks.move(root.id, child.id)
        assert caught.value.fields == {"parent_id"}
        label = await unit.labels.create({"name": "async"})
        await unit.labels.attach(child.id, [label.id])
    async with units.user_scope(user, read_only=True) as unit:
        assert [node.depth for node in await unit.tasks.tree(root.id)] == [0, 1]
        assert [row.id for row in await unit.tasks.children(root.id)] == [child.id]
        page = await unit.tasks.read_page(TaskFilter(labels_any=[label.id]))
        assert [row.title for row in page] == ["child"]

"""Units of work on both backends, sync and async, with commits that really land.

Commit on success, roll back on any exception, always close (the connection goes back to
the pool); a nested unit is a savepoint of the outer one: its rollback keeps the outer work,
and it sees and is undone with the outer transaction.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.pool import QueuePool

from tasktracker.accounts.models import User
from tasktracker.db.sessions import AsyncDatabase, Database


class BoomError(Exception):
    pass


def new_user(tag: str) -> User:
    name = f"{tag}_{uuid.uuid4().hex[:10]}"
    return User(email=f"{name}@example.com", username=name, password_hash="not-a-real-hash")


def count(db: Database, *names: str) -> int:
    with db.session() as session:
        return (
            session.scalar(
                select(func.count()).select_from(User).where(User.username.in_(names))  # type: ignore[attr-defined]
            )
            or 0
        )


async def acount(adb: AsyncDatabase, *names: str) -> int:
    async with adb.session() as session:
        statement = select(func.count()).select_from(User).where(User.username.in_(names))  # type: ignore[attr-defined]
        return await session.scalar(statement) or 0


def checked_out(pool: object) -> int:
    return pool.checkedout() if isinstance(pool, QueuePool) else 0


def test_success_commits_and_returns_the_connection(real_db: Database) -> None:
    user = new_user("ok")
    with real_db.session() as session:
        session.add(user)
    assert count(real_db, user.username) == 1
    assert checked_out(real_db.engine.pool) == 0


def test_exception_leaves_nothing_written(real_db: Database) -> None:
    user = new_user("boom")
    with pytest.raises(BoomError), real_db.session() as session:
        session.add(user)
        session.flush()  # the INSERT was sent: only the rollback can undo it
        raise BoomError
    assert count(real_db, user.username) == 0
    assert checked_out(real_db.engine.pool) == 0


def test_savepoint_rollback_keeps_the_outer_work(real_db: Database) -> None:
    outer, inner = new_user("outer"), new_user("inner")
    with real_db.session() as session:
        session.add(outer)
        session.flush()
        with pytest.raises(BoomError), real_db.session() as nested:
            assert nested is session
            nested.add(inner)
            nested.flush()
            raise BoomError
        assert (
            session.scalar(select(func.count()).select_from(User).where(User.id == inner.id)) == 0
        )
    assert count(real_db, outer.username) == 1
    assert count(real_db, inner.username) == 0


def test_nested_unit_is_undone_with_the_outer_one(real_db: Database) -> None:
    outer, inner = new_user("outer"), new_user("inner")
    with pytest.raises(BoomError), real_db.session() as session:
        session.add(outer)
        with real_db.session() as nested:
            nested.add(inner)
        raise BoomError
    assert count(real_db, outer.username, inner.username) == 0


async def test_async_success_commits(real_adb: AsyncDatabase) -> None:
    user = new_user("aok")
    async with real_adb.session() as session:
        session.add(user)
    assert await acount(real_adb, user.username) == 1
    assert checked_out(real_adb.engine.pool) == 0


async def test_async_exception_leaves_nothing_written(real_adb: AsyncDatabase) -> None:
    user = new_user("aboom")
    with pytest.raises(BoomError):
        async with real_adb.session() as session:
            session.add(user)
            await session.flush()
            raise BoomError
    assert await acount(real_adb, user.username) == 0
    assert checked_out(real_adb.engine.pool) == 0


async def test_async_savepoint_rollback_keeps_the_outer_work(real_adb: AsyncDatabase) -> None:
    outer, inner = new_user("aouter"), new_user("ainner")
    async with real_adb.session() as session:
        session.add(outer)
        await session.flush()
        with pytest.raises(BoomError):
            async with real_adb.session() as nested:
                assert nested is session
                nested.add(inner)
                await nested.flush()
                raise BoomError
    assert await acount(real_adb, outer.username) == 1
    assert await acount(real_adb, inner.username) == 0


async def test_async_nested_unit_sees_and_is_undone_with_the_outer_one(
    real_adb: AsyncDatabase,
) -> None:
    outer, inner = new_user("aouter"), new_user("ainner")
    with pytest.raises(BoomError):
        async with real_adb.session() as session:
            session.add(outer)
            await session.flush()
            async with real_adb.session() as nested:
                seen = await nested.scalar(select(User.id).where(User.id == outer.id))
                assert seen == outer.id  # same transaction: the outer's row is visible
                nested.add(inner)
            raise BoomError
    assert await acount(real_adb, outer.username, inner.username) == 0


async def test_async_tasks_started_inside_a_unit_get_their_own(real_adb: AsyncDatabase) -> None:
    """A task spawned inside a unit of work does not share the outer session concurrently."""
    async with real_adb.session() as outer:

        async def child() -> int:
            async with real_adb.session() as session:
                assert session is not outer
                return await session.scalar(select(func.count()).select_from(User)) or 0

        # Started inside the unit; awaited after it, since on SQLite the children's units
        # wait for the outer unit's write lock.
        children = [asyncio.create_task(child()) for _ in range(2)]
        await asyncio.sleep(0)
    counts = await asyncio.gather(*children)
    assert all(number >= 0 for number in counts)

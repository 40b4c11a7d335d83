"""The async fast path (`read`, `read_page`, `create_row`, `read_latest_messages`,
`read_resolved`) on aiosqlite, psycopg async and asyncpg (`DRIVERS`), on real databases.

On psycopg and aiosqlite the facades await the compiled statements on the driver's own
async cursor (`db.fastpath.asynchronous`); asyncpg keeps the adapted path (`run_sync`).
Either way they answer as the sync fast path does, in the unit's transaction and scope.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.engines import create_async_engine
from tasktracker.db.errors import (
    NotFoundError,
    ReadOnlyUnitError,
    TaskTrackerError,
    ValidationError,
)
from tasktracker.db.fastpath.compiled import CompiledQuery
from tasktracker.db.fastpath.steps import Steps, run_steps, run_steps_async
from tasktracker.db.gate import async_gate_for
from tasktracker.db.sessions import run
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import TaskFilter, TaskRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.units import AsyncDatabase
from tests import databases
from tests.connectivity.helpers import with_driver
from tests.db.test_compiled import NEW_CATEGORY, NEW_TASK, category, task
from tests.units.conftest import DRIVERS, add_user

pytestmark = DRIVERS

DIRECT = {"aiosqlite", "psycopg"}
"""The drivers whose async cursor the fast path awaits directly."""


@pytest.fixture
def bridged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions run through `AsyncSession.run_sync` while it is active."""
    calls: list[str] = []
    original = AsyncSession.run_sync

    async def counted(self: AsyncSession, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__qualname__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(AsyncSession, "run_sync", counted)
    return calls


@pytest.fixture
async def edb(driver_engine: AsyncEngine) -> AsyncDatabase:
    """Units on the engine itself (each commits; read-only units borrow pooled connections
    behind the pool's fair gate), unlike `udb`'s, which are savepoints of one connection."""
    return AsyncDatabase(driver_engine)


@pytest.fixture
async def owner(edb: AsyncDatabase, password_hash: str) -> AsyncIterator[uuid.UUID]:
    """A user of `edb`, deleted with everything it owns at the end."""
    user = await add_user(edb, password_hash)
    yield user
    async with edb.session() as unit:
        await unit.users.delete(user)


async def test_the_fast_path_reads_what_the_sync_fast_path_reads(
    udb: AsyncDatabase, password_hash: str
) -> None:
    user = await add_user(udb, password_hash)
    async with udb.user_scope(user) as unit:
        home = await unit.categories.create({"name": "Home"})
        made = [
            await unit.tasks.create_row({"title": f"t{i}", "category_id": home.id})
            for i in range(5)
        ]
        conversation = await unit.conversations.start({"title": "c"})
        for i in range(3):
            await unit.conversations.append(conversation.id, {"role": "user", "content": f"m{i}"})
    open_tasks = TaskFilter(category_id=home.id, completed=False)
    async with udb.user_scope(user, read_only=True) as unit:
        assert [await unit.tasks.read(row.id) for row in made] == made
        page = await unit.tasks.read_page(open_tasks, limit=2)
        rest = await unit.tasks.read_page(open_tasks, limit=10, cursor=page.next_cursor)
        latest = await unit.conversations.read_latest_messages(conversation.id, limit=2)
        sync_page, sync_rest, sync_latest = await run(
            unit,
            lambda s: (
                TaskRepository(s).read_page(open_tasks, limit=2),
                TaskRepository(s).read_page(open_tasks, limit=10, cursor=page.next_cursor),
                ConversationRepository(s).read_latest_messages(conversation.id, limit=2),
            ),
        )
    assert (page, rest, latest) == (sync_page, sync_rest, sync_latest)
    assert [row.id for row in [*page, *rest]] == [row.id for row in reversed(made)]
    assert [message.content for message in latest] == ["m1", "m2"]


async def test_read_resolved_matches_the_sync_read(udb: AsyncDatabase, password_hash: str) -> None:
    user = await add_user(udb, password_hash)
    async with udb.user_scope(user) as unit:
        channel = await unit.parameters.create({"name": "channel", "data_type": "integer"})
        command = await unit.commands.create(
            {
                "name": "SELECT",
                "syntax": "SELECT {channel}",
                "signature": [{"parameter_id": channel.id}],
            }
        )
        spec = await unit.specifications.create({"key": "TS-001", "title": "Power up"})
        step = {"action": "select", "command_id": command.id}
        await unit.steps.insert(
            spec.id, step | {"arguments": [{"parameter_id": channel.id, "value": "2"}]}
        )
        await unit.steps.insert(spec.id, {"action": "look"})
    async with udb.user_scope(user, read_only=True) as unit:
        resolved = await unit.specifications.read_resolved(spec.id)
        expected = await run(unit, lambda s: TestSpecificationRepository(s).read_resolved(spec.id))
        with pytest.raises(NotFoundError):
            await unit.specifications.read_resolved(uuid.uuid4())
    assert resolved == expected
    assert [s.invocation for s in resolved.steps] == ["SELECT 2", None]


async def test_the_facades_await_the_driver_not_the_bridge(
    udb: AsyncDatabase, password_hash: str, driver: str, bridged: list[str]
) -> None:
    """On psycopg and aiosqlite a fast-path call goes through no `run_sync` (asyncpg's does:
    its adapted path); an ORM call always does."""
    user = await add_user(udb, password_hash)
    async with udb.user_scope(user) as unit:
        bridged.clear()
        row = await unit.tasks.create_row({"title": "direct"})
        assert await unit.tasks.read(row.id) == row
        assert [r.id for r in await unit.tasks.read_page()] == [row.id]
        assert bridged == ([] if driver in DIRECT else ["run_steps"] * 3)
        await unit.tasks.get(row.id)
        assert len(bridged) == (1 if driver in DIRECT else 4)


async def test_another_users_rows_are_out_of_reach(udb: AsyncDatabase, password_hash: str) -> None:
    alice, bob = await add_user(udb, password_hash), await add_user(udb, password_hash)
    async with udb.user_scope(alice) as unit:
        category = await unit.categories.create({"name": "alice's"})
        task = await unit.tasks.create_row({"title": "alice's", "category_id": category.id})
        conversation = await unit.conversations.start({"title": "alice's"})
        await unit.conversations.append(conversation.id, {"role": "user", "content": "secret"})
    async with udb.user_scope(bob) as unit:
        with pytest.raises(NotFoundError):
            await unit.tasks.read(task.id)
        assert (await unit.tasks.read_page()).items == []
        with pytest.raises(NotFoundError):
            await unit.conversations.read_latest_messages(conversation.id)
        with pytest.raises(ValidationError) as refused:
            await unit.tasks.create_row({"title": "into alice's", "category_id": category.id})
        assert refused.value.fields == {"category_id"}
    async with udb.user_scope(alice, read_only=True) as unit:
        assert [row.id for row in await unit.tasks.read_page()] == [task.id]


def _write(query: CompiledQuery[Any], values: dict[str, Any]) -> Steps[int]:
    count: int = yield query.changing(**values)
    return count


def _answer(exc: TaskTrackerError) -> tuple[object, ...]:
    """What a caller is told: the error's class, message and field(s)."""
    return type(exc), str(exc), getattr(exc, "fields", None), getattr(exc, "field", None)


def _refusals() -> list[tuple[CompiledQuery[Any], dict[str, Any]]]:
    """Compiled writes the database refuses: a duplicate name (any case), a blank title
    (CHECK), a category that does not exist (foreign key)."""
    return [
        (NEW_CATEGORY, category("WORK")),
        (NEW_TASK, task("   ")),
        (NEW_TASK, task("t", category_id=uuid.uuid4())),
    ]


async def test_a_refused_write_is_the_sync_paths_error_and_the_unit_goes_on(
    udb: AsyncDatabase, password_hash: str
) -> None:
    user = await add_user(udb, password_hash)
    async with udb.user_scope(user) as unit:
        await run_steps_async(unit, _write(NEW_CATEGORY, category("work")))
        for query, values in _refusals():
            with pytest.raises(TaskTrackerError) as on_async:
                await run_steps_async(unit, _write(query, values))
            with pytest.raises(TaskTrackerError) as on_sync:
                await run(unit, lambda s, q=query, v=values: run_steps(s, _write(q, v)))
            assert _answer(on_async.value) == _answer(on_sync.value), values
            assert not isinstance(on_async.value.__cause__, TaskTrackerError)
        kept = await unit.tasks.create_row({"title": "kept"})
    async with udb.user_scope(user, read_only=True) as unit:
        assert [row.id for row in await unit.tasks.read_page()] == [kept.id]
        assert [c.name for c in await unit.categories.list()] == ["work"]


async def test_a_refused_create_row_names_the_field_as_on_sync(
    udb: AsyncDatabase, password_hash: str
) -> None:
    user = await add_user(udb, password_hash)
    refused = [
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "category_id": uuid.uuid4()}, "category_id"),
    ]
    async with udb.user_scope(user) as unit:
        for fields, field in refused:
            with pytest.raises(ValidationError) as on_async:
                await unit.tasks.create_row(fields)
            with pytest.raises(ValidationError) as on_sync:
                await run(unit, lambda s, f=fields: TaskRepository(s).create_row(f))
            assert _answer(on_async.value) == _answer(on_sync.value)
            assert on_async.value.fields == {field}
        with pytest.raises(ValidationError) as wrong_type:
            await unit.tasks.read("not a uuid")  # type: ignore[arg-type]
        assert wrong_type.value.fields == {"id"}
    async with udb.user_scope(user, read_only=True) as unit:
        assert (await unit.tasks.read_page()).items == []
        with pytest.raises(ReadOnlyUnitError):
            await unit.tasks.create_row({"title": "refused"})


async def test_the_units_rollback_undoes_a_create_row(edb: AsyncDatabase, owner: uuid.UUID) -> None:
    with pytest.raises(RuntimeError):
        async with edb.user_scope(owner) as unit:
            await unit.tasks.create_row({"title": "undone"})
            raise RuntimeError("the block fails after the write")
    async with edb.user_scope(owner) as unit:
        outer = await unit.tasks.create_row({"title": "outer"})
        with pytest.raises(RuntimeError):
            async with edb.user_scope(owner) as nested:  # a savepoint of the outer unit
                await nested.tasks.create_row({"title": "nested, undone"})
                raise RuntimeError("the nested block fails")
        after = await unit.tasks.create_row({"title": "after"})
    async with edb.user_scope(owner, read_only=True) as unit:
        assert {row.id for row in await unit.tasks.read_page()} == {outer.id, after.id}


async def test_a_read_only_unit_on_the_engine(edb: AsyncDatabase, owner: uuid.UUID) -> None:
    """Its compiled reads borrow a pooled connection each; after an ORM query they share
    the connection the session took for it."""
    async with edb.user_scope(owner) as unit:
        row = await unit.tasks.create_row({"title": "committed"})
    async with edb.user_scope(owner, read_only=True) as unit:
        assert await unit.tasks.read(row.id) == row
        assert (await unit.tasks.get(row.id)).title == "committed"
        assert [r.id for r in await unit.tasks.read_page()] == [row.id]
        with pytest.raises(ReadOnlyUnitError):
            await unit.tasks.create_row({"title": "refused"})
        with pytest.raises(NotFoundError):
            await unit.tasks.read(uuid.uuid4())


async def test_pending_orm_changes_are_flushed_first(
    udb: AsyncDatabase, password_hash: str
) -> None:
    user = await add_user(udb, password_hash)
    async with udb.user_scope(user) as unit:
        pending = Task(title="pending")  # type: ignore[call-arg]
        unit.add(pending)
        assert [row.title for row in await unit.tasks.read_page()] == ["pending"]
        created = await unit.tasks.create_row({"title": "compiled"})
        assert {row.title for row in await unit.tasks.read_page()} == {"pending", "compiled"}
        assert (await unit.tasks.get(created.id)).title == "compiled"


async def test_a_read_only_units_compiled_reads_wait_at_the_fair_gate(
    edb: AsyncDatabase, owner: uuid.UUID
) -> None:
    """With every permit of the pool's gate held, a compiled read waits, and runs when
    one is given back."""
    gate = async_gate_for(edb.engine.sync_engine)
    if gate is None:
        pytest.skip("async units on SQLite take no permit")
    async with edb.user_scope(owner) as unit:
        row = await unit.tasks.create_row({"title": "gated"})

    async def read() -> object:
        async with edb.user_scope(owner, read_only=True) as unit:
            return await unit.tasks.read(row.id)

    free = gate._free
    async with AsyncExitStack() as held:
        for _ in range(free):
            await held.enter_async_context(gate.apermit())
        waiting = asyncio.create_task(read())
        await asyncio.sleep(0.05)
        assert not waiting.done()
    assert await asyncio.wait_for(waiting, 5) == row
    assert gate._free == free


async def test_slow_statements_are_logged_and_cursor_events_fire(
    migrated_url: str, driver: str, password_hash: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The engine's slow-query log sees the compiled statements, and a listener of the
    cursor events (tracing, statement counting) is given them."""
    url = with_driver(migrated_url, driver)
    engine = create_async_engine(databases.test_settings(url, database_slow_query_ms=0.000_001))
    seen: list[str] = []
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            logged = AsyncDatabase(connection)
            user = await add_user(logged, password_hash)
            caplog.clear()
            with caplog.at_level(logging.WARNING, "tasktracker.sql"):
                async with logged.user_scope(user, read_only=True) as unit:
                    await unit.tasks.read_page()
            event.listen(engine.sync_engine, "before_cursor_execute", _recorder(seen))
            async with logged.user_scope(user) as unit:
                await unit.tasks.create_row({"title": "observed"})
            await transaction.rollback()
    finally:
        await engine.dispose()
    slow = [r.getMessage() for r in caplog.records if r.name == "tasktracker.sql"]
    assert any("slow query" in m and "tasks.user_id" in m for m in slow), slow
    assert [s for s in seen if s.startswith("INSERT INTO tasks")], seen


def _recorder(seen: list[str]) -> Any:
    def record(connection: object, cursor: object, statement: str, *rest: object) -> None:
        seen.append(statement)

    return record


async def test_a_refused_first_write_leaves_the_unit_usable(
    edb: AsyncDatabase, owner: uuid.UUID
) -> None:
    """A write refused as the unit's first statement (on PostgreSQL it began the
    transaction, and is undone by rolling that back) leaves the unit to go on and commit."""
    async with edb.user_scope(owner) as unit:
        with pytest.raises(ValidationError):
            await run_steps_async(unit, _write(NEW_TASK, task("   ")))
        kept = await unit.tasks.create_row({"title": "kept"})
        with pytest.raises(ValidationError):
            await run_steps_async(unit, _write(NEW_TASK, task("   ")))
        also = await unit.tasks.create_row({"title": "also kept"})
    async with edb.user_scope(owner, read_only=True) as unit:
        assert {row.id for row in await unit.tasks.read_page()} == {kept.id, also.id}

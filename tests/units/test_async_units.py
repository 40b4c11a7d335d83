"""Async units carry typed repositories: the sync units' semantics, on every async driver.

Each test runs on aiosqlite, psycopg async and asyncpg (`DRIVERS`), on real databases.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select

from tasktracker.chat.models import Conversation
from tasktracker.db.errors import (
    ConflictError,
    NotFoundError,
    ReadOnlyUnitError,
    ScopeError,
    TaskTrackerError,
    ValidationError,
)
from tasktracker.db.settings import get_settings
from tasktracker.db.types import utc_now
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import TaskFilter, TaskRepository
from tasktracker.units import AsyncDatabase, AsyncUnit
from tests.connectivity.helpers import with_driver
from tests.units.conftest import DRIVERS, add_user

pytestmark = DRIVERS


@pytest.fixture
def settings_url(monkeypatch: pytest.MonkeyPatch, migrated_url: str, driver: str) -> Iterator[str]:
    """The driver's URL of the migrated database as `DATABASE_URL`, for `from_settings()`."""
    url = with_driver(migrated_url, driver)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def test_the_issue_snippet_runs_as_written(settings_url: str, password_hash: str) -> None:
    """The example of issue 17, verbatim between the setup and the checks. It commits, so
    the user it creates is deleted (with everything it owns) at the end."""
    setup = AsyncDatabase.from_settings()
    user_id = await add_user(setup, password_hash)
    try:
        async with setup.user_scope(user_id) as unit:
            late = await unit.tasks.create({"title": "late", "due_date": utc_now() - timedelta(1)})
            await unit.tasks.create({"title": "in time", "due_date": utc_now() + timedelta(1)})

        adb = AsyncDatabase.from_settings()
        async with adb.user_scope(user_id) as unit:  # same semantics as the sync unit
            page = await unit.tasks.read_page(TaskFilter(overdue=True), limit=50)
            conv = await unit.conversations.start({"title": "Plan my week"})
            await unit.conversations.append(conv.id, {"role": "user", "content": "hi"})

        assert [row.id for row in page] == [late.id]
        async with adb.user_scope(user_id, read_only=True) as unit:
            messages = await unit.conversations.read_latest_messages(conv.id)
        assert [(m.role, m.content) for m in messages] == [("user", "hi")]
        await adb.dispose()
    finally:
        async with setup.session() as unit:
            await unit.users.delete(user_id)
        await setup.dispose()


async def test_another_users_rows_are_not_found(udb: AsyncDatabase, password_hash: str) -> None:
    alice, bob = await add_user(udb, password_hash), await add_user(udb, password_hash)
    async with udb.user_scope(alice) as unit:
        task = await unit.tasks.create({"title": "alice's"})
        conversation = await unit.conversations.start({"title": "alice's"})
    async with udb.user_scope(bob) as unit:
        with pytest.raises(NotFoundError):
            await unit.tasks.get(task.id)
        with pytest.raises(NotFoundError):
            await unit.tasks.read(task.id)
        with pytest.raises(NotFoundError):
            await unit.conversations.append(conversation.id, {"role": "user", "content": "x"})
        assert (await unit.tasks.read_page()).items == []
        assert await unit.tasks.count() == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({"title": ""}, "title"),
        ({"title": "nul\x00byte"}, "title"),
        ({"title": "ok", "category_id": uuid.uuid4()}, "category_id"),
    ],
    ids=["too-long", "empty", "nul", "no-such-category"],
)
async def test_bad_input_names_the_field_and_the_unit_goes_on(
    udb: AsyncDatabase, password_hash: str, fields: dict[str, object], field: str
) -> None:
    user = await add_user(udb, password_hash)
    async with udb.user_scope(user) as unit:
        with pytest.raises(ValidationError) as caught:
            await unit.tasks.create(fields)
        assert caught.value.fields == {field}
        assert isinstance(caught.value, TaskTrackerError)
        with pytest.raises(ValidationError) as wrong_type:
            await unit.tasks.get("not a uuid")  # type: ignore[arg-type]
        assert wrong_type.value.fields == {"id"}
        kept = await unit.tasks.create({"title": "kept"})
    async with udb.user_scope(user) as unit:
        assert [task.id for task in await unit.tasks.list()] == [kept.id]


async def test_a_refused_write_undoes_only_itself(udb: AsyncDatabase, password_hash: str) -> None:
    user = await add_user(udb, password_hash)
    async with udb.user_scope(user) as unit:
        await unit.categories.create({"name": "Home"})
        with pytest.raises(ConflictError):
            await unit.categories.create({"name": "HOME"})  # the same name, regardless of case
        await unit.categories.create({"name": "Work"})
        assert [c.name for c in await unit.categories.list()] == ["Home", "Work"]


async def test_a_read_only_unit_refuses_writes(udb: AsyncDatabase, password_hash: str) -> None:
    user = await add_user(udb, password_hash)
    async with udb.user_scope(user) as unit:
        task = await unit.tasks.create({"title": "read me"})
    async with udb.user_scope(user, read_only=True) as unit:
        assert isinstance(unit, AsyncUnit)
        assert (await unit.tasks.read(task.id)).title == "read me"
        with pytest.raises(ReadOnlyUnitError):
            await unit.tasks.create({"title": "refused"})
        with pytest.raises(ReadOnlyUnitError):
            await unit.conversations.start({"title": "refused"})
        with pytest.raises(ReadOnlyUnitError):
            await unit.tasks.update(task.id, {"title": "refused"})
    async with udb.user_scope(user) as unit:
        assert [row.title for row in await unit.tasks.read_page()] == ["read me"]


async def test_a_nested_unit_is_a_savepoint(udb: AsyncDatabase, password_hash: str) -> None:
    user = await add_user(udb, password_hash)
    async with udb.user_scope(user) as unit:
        await unit.tasks.create({"title": "outer"})
        with pytest.raises(ConflictError):
            async with udb.user_scope(user) as inner:
                assert inner is unit
                await inner.tasks.create({"title": "inner"})
                await inner.categories.create({"name": "Home"})
                await inner.categories.create({"name": "home"})
        await unit.tasks.create({"title": "after"})
    async with udb.user_scope(user) as unit:
        assert sorted(task.title for task in await unit.tasks.list()) == ["after", "outer"]
        assert await unit.categories.count() == 0


async def test_returned_objects_outlive_the_unit(udb: AsyncDatabase, password_hash: str) -> None:
    user = await add_user(udb, password_hash)
    async with udb.user_scope(user) as unit:
        task = await unit.tasks.create({"title": "kept", "priority": "high"})
        started = await unit.conversations.start(
            {"title": "chat", "first_message": {"role": "user", "content": "hello"}}
        )
    async with udb.user_scope(user) as unit:
        loaded = await unit.conversations.get(started.id)
    async with udb.user_scope(user) as unit:
        with_messages = await unit.conversations.get_with_messages(started.id)
    # The unit is closed: attributes read as they were (expire_on_commit=False), and what
    # was loaded stays loaded...
    assert (task.title, task.priority, task.updated_at is not None) == ("kept", "high", True)
    assert [m.content for m in started.messages] == ["hello"]
    assert [m.content for m in with_messages.messages] == ["hello"]
    # ...but a relationship that was not loaded is never loaded behind the caller's back.
    with pytest.raises(sa_exc.InvalidRequestError, match="lazy='raise'"):
        _ = loaded.messages


async def test_the_unit_is_still_an_async_session(udb: AsyncDatabase, password_hash: str) -> None:
    """`execute`, `add` and `run` (custom sync code) work on it as on a plain session."""
    from tasktracker.db.sessions import run

    user = await add_user(udb, password_hash)
    async with udb.user_scope(user) as unit:
        unit.add(Task(title="added"))  # type: ignore[call-arg]
        await unit.flush()
        assert await run(unit, lambda s: TaskRepository(s).count()) == 1
        assert await unit.scalar(select(func.count()).select_from(Conversation)) == 0
        assert unit.tasks is unit.tasks


async def test_an_unscoped_unit_refuses_tenant_repositories(
    udb: AsyncDatabase, password_hash: str
) -> None:
    user = await add_user(udb, password_hash)
    async with udb.session() as unit:
        assert (await unit.users.get(user)).id == user
        with pytest.raises(ScopeError):
            await unit.tasks.count()


async def test_test_engineering_through_the_unit(udb: AsyncDatabase, password_hash: str) -> None:
    """The testspec repositories and services, awaited on one unit: a specification with a
    step bound to a command, traced to a requirement, read resolved and exported."""
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
        requirement = await unit.requirements.create(
            {"key": "REQ-001", "title": "Power", "statement": "The unit shall power up."}
        )
        step = await unit.steps.insert(
            spec.id,
            {
                "action": "select",
                "command_id": command.id,
                "arguments": [{"parameter_id": channel.id, "value": "2"}],
            },
        )
        await unit.traceability.link(requirement.id, spec.id)
        with pytest.raises(ValidationError):
            await unit.steps.move(step.id, 5)
    async with udb.user_scope(user, read_only=True) as unit:
        resolved = await unit.specifications.read_resolved(spec.id)
        uncovered = await unit.traceability.uncovered_requirements()
        exported = await unit.exchange.export(spec.id)
        users = await unit.usage.steps_using_command(command.id)
    assert [s.invocation for s in resolved.steps] == ["SELECT 2"]
    assert uncovered == []
    assert [s.action for s in exported.steps] == ["select"]
    assert [s.id for s in users] == [step.id]

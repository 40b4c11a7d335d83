"""Every error raised on purpose is a `TaskTrackerError`, naming the field when there is one.

Misuse of scopes and units, naive datetimes, bad filters and unreadable stored values: each
gets a named class of the package's own family, never a `RuntimeError`, a `ValueError` or
pydantic's `ValidationError`, and changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pydantic
import pytest
from sqlalchemy import select, text

import tasktracker
from tasktracker.accounts.models import User
from tasktracker.db import driver_errors, run
from tasktracker.db.errors import (
    NestedScopeError,
    ReadOnlyUnitError,
    ScopeError,
    StoredValueError,
    TaskTrackerError,
    ValidationError,
)
from tasktracker.db.fastpath.decoding import uuid_from_hex
from tasktracker.db.sessions import AsyncDatabase, Database
from tasktracker.tasks.models import Category, Task
from tasktracker.tasks.repository import CategoryRepository, TaskFilter, TaskRepository

NAIVE = datetime(2030, 1, 1, 12)
AWARE = datetime(2030, 1, 1, 12, tzinfo=UTC)


def test_the_family_is_importable_from_the_package() -> None:
    for name in (
        "ScopeError",
        "NestedScopeError",
        "ReadOnlyUnitError",
        "StorageFullError",
        "StoredValueError",
    ):
        assert issubclass(getattr(tasktracker, name), tasktracker.TaskTrackerError), name
    assert issubclass(NestedScopeError, ScopeError)


# --- scopes and units ---------------------------------------------------------------------


def test_a_tenant_repository_refuses_an_unscoped_session(db: Database) -> None:
    with db.session() as session:
        for repository in (TaskRepository, CategoryRepository):
            with pytest.raises(ScopeError, match="user scope"):
                repository(session)


def test_every_write_in_a_read_only_unit_is_refused_and_nothing_is_written(
    db: Database, make_user
) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        task_id = TaskRepository(session).create({"title": "kept"}).id
    writes = {
        "create": lambda tasks: tasks.create({"title": "no"}),
        "create_row": lambda tasks: tasks.create_row({"title": "no"}),
        "update": lambda tasks: tasks.update(task_id, {"title": "no"}),
        "delete": lambda tasks: tasks.delete(task_id),
    }
    for name, attempt in writes.items():
        with pytest.raises(ReadOnlyUnitError), db.user_scope(user, read_only=True) as session:
            attempt(TaskRepository(session))
        with db.user_scope(user) as session:
            assert [t.title for t in TaskRepository(session).list().items] == ["kept"], name


def test_a_unit_for_another_scope_inside_one_is_refused_and_the_outer_goes_on(
    db: Database, make_user
) -> None:
    alice, bob = make_user(), make_user()
    with db.user_scope(alice) as session:
        TaskRepository(session).create({"title": "alice's"})
        for other in (lambda: db.user_scope(bob), db.session):
            with pytest.raises(NestedScopeError), other():
                pytest.fail("the inner unit must not open")
        TaskRepository(session).create({"title": "still alice's"})
    with db.user_scope(alice) as session:
        assert TaskRepository(session).count() == 2


async def test_async_units_refuse_another_scope_inside_one(adb: AsyncDatabase) -> None:
    name = f"ef_{uuid.uuid4().hex[:8]}"
    user = User(email=f"{name}@example.com", username=name, password_hash="-")
    async with adb.session() as session:
        session.add(user)
    async with adb.user_scope(user.id) as session:
        with pytest.raises(NestedScopeError):
            async with adb.user_scope(uuid.uuid4()):
                pytest.fail("the inner unit must not open")
        await run(session, lambda s: TaskRepository(s).create({"title": "goes on"}))


# --- naive datetimes ------------------------------------------------------------------------


def test_a_naive_datetime_is_refused_at_assignment_on_its_field(db: Database, make_user) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        task = TaskRepository(session).create({"title": "due", "due_date": AWARE})
        for field in ("due_date", "completed_at", "created_at", "updated_at"):
            with pytest.raises(ValidationError) as caught:
                setattr(task, field, NAIVE)
            assert caught.value.fields == {field}
            assert "timezone" in str(caught.value)
        assert task.due_date == AWARE  # unchanged, and nothing pending for the flush
        task.due_date = AWARE.astimezone(timezone(timedelta(hours=2)))  # aware: accepted
    with pytest.raises(ValidationError) as caught:
        Category(name="c", created_at=NAIVE)
    assert caught.value.fields == {"created_at"}


def test_a_naive_due_date_is_refused_on_its_field_through_every_write_path(
    db: Database, make_user
) -> None:
    user = make_user()
    for create in ("create", "create_row"):
        with pytest.raises(ValidationError) as caught, db.user_scope(user) as session:
            getattr(TaskRepository(session), create)({"title": "when?", "due_date": NAIVE})
        assert caught.value.fields == {"due_date"}, create
    with db.user_scope(user) as session:
        task_id = TaskRepository(session).create({"title": "t"}).id
        with pytest.raises(ValidationError) as caught:
            TaskRepository(session).update(task_id, {"due_date": NAIVE})
        assert caught.value.fields == {"due_date"}
        assert TaskRepository(session).count() == 1


def test_a_naive_datetime_in_a_callers_own_statement_is_our_error(db: Database, make_user) -> None:
    """Bound by the column type, which does not know the column: field `value`. The
    statement was never sent, and the unit goes on."""
    user = make_user()
    with db.user_scope(user) as session:
        with pytest.raises(ValidationError) as caught:
            session.scalars(select(Task).where(Task.due_date < NAIVE)).all()  # type: ignore[operator]
        assert caught.value.fields == {"value"}
        with pytest.raises(ValidationError, match="datetime"):
            session.scalars(select(Task).where(Task.due_date < "tomorrow")).all()  # type: ignore[operator]
        assert TaskRepository(session).count() == 0


# --- filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"status": ["bogus"]}, "status.0"),
        ({"priority": ["urgent"]}, "priority.0"),
        ({"category_id": "not-a-uuid"}, "category_id"),
        ({"due_before": NAIVE}, "due_before"),
        ({"due_after": NAIVE}, "due_after"),
        ({"overdue": "sometimes"}, "overdue"),
        ({"stauts": ["pending"]}, "stauts"),  # a misspelt criterion is not silently ignored
    ],
)
def test_a_bad_filter_is_our_validation_error_on_its_field(
    values: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        TaskFilter(**values)  # type: ignore[arg-type]
    assert caught.value.fields == {field}
    assert caught.value.model == "TaskFilter"
    assert not isinstance(caught.value, pydantic.ValidationError)
    assert caught.value.__cause__ is None  # no pydantic traceback chained in


def test_a_filter_changed_to_a_bad_value_is_refused_and_keeps_its_value() -> None:
    query = TaskFilter(status=["pending"], due_after=AWARE)
    with pytest.raises(ValidationError) as caught:
        query.due_after = NAIVE
    assert caught.value.fields == {"due_after"}
    assert query.due_after == AWARE


def test_a_bad_sort_or_id_is_our_validation_error_on_its_field(db: Database, make_user) -> None:
    with db.user_scope(make_user()) as session:
        tasks = TaskRepository(session)
        for listing in (tasks.list, tasks.read_page):
            with pytest.raises(ValidationError) as caught:
                listing(sort="cheapest")  # type: ignore[arg-type]
            assert caught.value.fields == {"sort"}
        for lookup in (tasks.get, tasks.read, tasks.delete):
            with pytest.raises(ValidationError) as caught:
                lookup("not-a-uuid")  # type: ignore[arg-type]
            assert caught.value.fields == {"id"}
        assert [t.title for t in tasks.list(sort="title").items] == []  # type: ignore[arg-type]


# --- stored values that cannot be read ------------------------------------------------------


@pytest.mark.parametrize(
    "stored",
    [
        "-1",
        "0x1f",
        "-" + "1" * 31,  # int() would make it negative
        "0x" + "1" * 30,  # or read the prefix
        "f" * 40,  # or make a 160-bit UUID
        "1_" + "1" * 30,
        " " + "1" * 31,
        "Ⅰ" * 32,  # noqa: RUF001  (a non-ASCII numeral)
        "",
    ],
)
def test_only_32_hex_digits_decode_as_a_uuid(stored: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  (bytes.fromhex's, or ours)
        uuid_from_hex(stored)


def test_32_hex_digits_decode_as_that_uuid() -> None:
    value = uuid.uuid4()
    for stored in (value.hex, value.hex.upper()):
        decoded = uuid_from_hex(stored)
        assert decoded == value
        assert str(decoded) == str(value)
    assert uuid_from_hex(None) is None


def test_an_unreadable_stored_uuid_is_our_error_naming_the_column(
    db: Database, make_user, backend: str
) -> None:
    """SQLite columns take any text: a row written around the models by plain SQL."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL's uuid columns hold only UUIDs")
    user = make_user()
    with db.user_scope(user) as session:
        task = TaskRepository(session).create_row({"title": "mangled"})
    with db.session() as unscoped:  # plain SQL is refused in a user scope
        unscoped.execute(
            text("UPDATE tasks SET id = :bad WHERE id = :id"),
            {"bad": "-" + "1" * 31, "id": task.id.hex},
        )
    with db.user_scope(user) as session:
        with pytest.raises(StoredValueError) as caught:
            TaskRepository(session).read_page()
        assert caught.value.field == "id"
        assert "1111" not in str(caught.value)  # the stored value is not shown
        assert isinstance(caught.value, TaskTrackerError)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("uq_categories_user_id_name_lower", "name"),
        ("uq_categories_user_id_name_lower_102010", "name"),
        ("uq_message_tool_calls_user_id_conversation_id_t_628316f7_102069", "tool_call_id"),
    ],
)
def test_a_constraint_is_found_by_its_shards_names_on_citus(name: str, field: str) -> None:
    """Citus reports a violated constraint by its shard's copy: the shard's id appended, or
    for a long name the name cut, a hash and the id (PostgreSQL's names end at 63 bytes)."""
    error = driver_errors._violation(name, "unique", "duplicate key")
    assert error.field == field

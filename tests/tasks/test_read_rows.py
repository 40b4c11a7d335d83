"""The fast path (`read`, `read_page`, `create_row`) gives exactly what the ORM path gives."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlmodel import col

from tasktracker.accounts.models import User
from tasktracker.db.errors import (
    NotFoundError,
    ReadOnlyUnitError,
    TaskTrackerError,
    ValidationError,
)
from tasktracker.db.pagination import Ordering, Page, encode_cursor
from tasktracker.db.sessions import AsyncDatabase, Database, run
from tasktracker.db.types import new_id, utc_now
from tasktracker.tasks.models import Task, TaskPriority, TaskStatus
from tasktracker.tasks.repository import (
    CategoryRepository,
    TaskFilter,
    TaskRepository,
    TaskSort,
)
from tasktracker.tasks.schemas import CategoryCreate, TaskCreate, TaskRow
from tests.tasks.conftest import add_category, add_task

BASE = datetime(2026, 1, 1, tzinfo=UTC)
N = 25
LIMIT = 7


def as_row(task: Task) -> TaskRow:
    """The ORM object's values, as the read row the fast path should build."""
    return TaskRow(*(getattr(task, name) for name in TaskRow._fields))


def assert_typed(row: TaskRow) -> None:
    """Values are decoded as the ORM decodes them, not left as the driver's strings."""
    assert type(row) is TaskRow
    assert type(row.id) is uuid.UUID
    assert type(row.status) is TaskStatus
    assert type(row.priority) is TaskPriority
    for value in (row.created_at, row.updated_at, row.due_date, row.completed_at):
        assert value is None or value.tzinfo is UTC, value
    assert row.category_id is None or type(row.category_id) is uuid.UUID


# --- read ------------------------------------------------------------------------------


def test_read_equals_get_field_by_field(db: Database, make_user) -> None:
    user = make_user()
    category = add_category(db, user)
    full = add_task(
        db,
        user,
        title="every field",
        description="described",
        status=TaskStatus.COMPLETED,
        priority=TaskPriority.HIGH,
        due_date=BASE + timedelta(days=3, microseconds=123456),
        category_id=category,
    )
    bare = add_task(db, user, title="defaults only")
    for task_id in (full, bare):
        with db.user_scope(user) as session:
            row = TaskRepository(session).read(task_id)
        with db.user_scope(user) as session:
            task = TaskRepository(session).get(task_id)
        assert_typed(row)
        assert row == as_row(task)
        assert row._asdict() == {name: getattr(task, name) for name in TaskRow._fields}
    with db.user_scope(user) as session:
        row = TaskRepository(session).read(full)
    assert (row.status, row.priority, row.category_id) == (
        TaskStatus.COMPLETED,
        TaskPriority.HIGH,
        category,
    )
    assert row.due_date == BASE + timedelta(days=3, microseconds=123456)
    assert row.completed_at is not None
    assert row.completed
    assert not row.is_overdue


def test_read_of_another_users_task_or_a_random_id_is_not_found(db: Database, two_users) -> None:
    alice, bob = two_users
    bobs = add_task(db, bob, title="bob's secret")
    with db.user_scope(alice) as session:
        tasks = TaskRepository(session)
        for task_id in (bobs, new_id(), uuid.uuid4()):
            with pytest.raises(NotFoundError):
                tasks.read(task_id)
    with db.user_scope(bob) as session:
        assert TaskRepository(session).read(bobs).title == "bob's secret"


@pytest.mark.parametrize("bad_id", ["1 OR 1=1", "' OR ''='", 42, None, b"0" * 16])
def test_read_refuses_an_id_that_is_not_a_uuid(db: Database, make_user, bad_id: Any) -> None:
    user = make_user()
    add_task(db, user)
    with pytest.raises(ValidationError) as caught, db.user_scope(user) as session:
        TaskRepository(session).read(bad_id)
    assert caught.value.fields == {"id"}


def test_read_decodes_values_written_by_plain_sql(db: Database, make_user, backend: str) -> None:
    """Server defaults (SQLite's CURRENT_TIMESTAMP has no fraction of a second) and values
    written outside the ORM decode as the ORM decodes them."""
    user = make_user()
    task_id = new_id()
    with db.session() as session:
        session.execute(
            text("INSERT INTO tasks (user_id, id, title, due_date) VALUES (:u, :i, 'sql', :d)"),
            {
                "u": user.hex if backend == "sqlite" else user,
                "i": task_id.hex if backend == "sqlite" else task_id,
                "d": "2026-03-04 05:06:07" if backend == "sqlite" else BASE,
            },
        )
    with db.user_scope(user) as session:
        row = TaskRepository(session).read(task_id)
    with db.user_scope(user) as session:
        task = TaskRepository(session).get(task_id)
    assert_typed(row)
    assert row == as_row(task)
    assert (row.status, row.priority) == (TaskStatus.PENDING, TaskPriority.MEDIUM)


def test_read_works_in_a_read_only_unit(db: Database, make_user) -> None:
    user = make_user()
    task_id = add_task(db, user, title="read only")
    with db.user_scope(user, read_only=True) as session:
        assert TaskRepository(session).read(task_id).title == "read only"


# --- read_page -------------------------------------------------------------------------


def _seed(db: Database, user: uuid.UUID, category: uuid.UUID, count: int = N) -> list[uuid.UUID]:
    """`count` tasks with many ties (creation, update, title) and every kind of value."""
    statuses = list(TaskStatus)
    priorities = list(TaskPriority)
    now = utc_now()
    rows = []
    for i in range(count):
        status = statuses[i % 3]
        rows.append(
            {
                "id": new_id(),
                "title": f"task {i % 4}",
                "description": None if i % 2 else f"about {i}",
                "status": status,
                "priority": priorities[i % 3 if i % 5 else 2],
                "created_at": BASE + timedelta(seconds=i // 3),
                "updated_at": BASE + timedelta(seconds=(count - i) // 4),
                # None, long past (overdue unless completed), soon past, future.
                "due_date": [None, BASE, now - timedelta(hours=1), now + timedelta(days=i)][i % 4],
                "completed_at": BASE if status == TaskStatus.COMPLETED else None,
                "category_id": category if i % 3 == 1 else None,
            }
        )
    with db.user_scope(user) as session:
        session.execute(insert(Task), rows)
    return [row["id"] for row in rows]


@pytest.fixture
def dataset(db: Database, two_users) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID, set[uuid.UUID]]:
    """Alice's 25 tasks, and Bob's 25 at the same timestamps (interleaved in every index)."""
    alice, bob = two_users
    alices_category = add_category(db, alice, "Alice's")
    bobs_category = add_category(db, bob, "Bob's")
    ids = _seed(db, alice, alices_category)
    _seed(db, bob, bobs_category)
    return alice, alices_category, bobs_category, set(ids)


def _filters(category: uuid.UUID, others_category: uuid.UUID) -> dict[str, TaskFilter | None]:
    middle = BASE + timedelta(days=1)
    return {
        "none": None,
        "empty": TaskFilter(),
        "pending": TaskFilter(status=[TaskStatus.PENDING]),
        "open": TaskFilter(status=[TaskStatus.PENDING, TaskStatus.IN_PROGRESS]),
        "priority_duplicates": TaskFilter(
            priority=[TaskPriority.HIGH, TaskPriority.HIGH, TaskPriority.LOW]
        ),
        "category": TaskFilter(category_id=category),
        "others_category": TaskFilter(category_id=others_category),
        "due_before": TaskFilter(due_before=middle),
        "due_after": TaskFilter(due_after=middle),
        "due_between": TaskFilter(due_after=BASE, due_before=utc_now()),
        "overdue": TaskFilter(overdue=True),
        "not_overdue": TaskFilter(overdue=False),
        "completed": TaskFilter(completed=True),
        "not_completed": TaskFilter(completed=False),
        "combined": TaskFilter(
            status=[TaskStatus.IN_PROGRESS, TaskStatus.PENDING, TaskStatus.IN_PROGRESS],
            priority=[TaskPriority.LOW, TaskPriority.MEDIUM, TaskPriority.HIGH],
            category_id=category,
            completed=False,
        ),
    }


def _walk_both(
    db: Database, user: uuid.UUID, filter: TaskFilter | None, sort: TaskSort
) -> list[uuid.UUID]:
    """Follow both paths' cursors page by page, asserting each page and cursor agree."""
    seen: list[uuid.UUID] = []
    cursor = None
    for _ in range(N + 1):
        with db.user_scope(user) as session:
            tasks = TaskRepository(session)
            orm = tasks.list(filter, sort=sort, limit=LIMIT, cursor=cursor)
            fast = tasks.read_page(filter, sort=sort, limit=LIMIT, cursor=cursor)
        assert isinstance(fast, Page)
        assert [row.id for row in fast] == [task.id for task in orm]
        assert fast.items == [as_row(task) for task in orm]
        assert fast.next_cursor == orm.next_cursor
        seen.extend(row.id for row in fast)
        if fast.next_cursor is None:
            return seen
        cursor = fast.next_cursor
    raise AssertionError("the cursors never reached the end")


@pytest.mark.parametrize("sort", list(TaskSort))
def test_read_page_matches_list_page_by_page(db: Database, dataset, sort: TaskSort) -> None:
    alice, category, bobs_category, alices = dataset
    for name, filter in _filters(category, bobs_category).items():
        seen = _walk_both(db, alice, filter, sort)
        assert len(seen) == len(set(seen)), f"{name}: duplicates"
        assert set(seen) <= alices, f"{name}: another user's task"
        with db.user_scope(alice) as session:
            assert len(seen) == TaskRepository(session).count(filter), f"{name}: gaps"
    assert set(_walk_both(db, alice, None, sort)) == alices


def test_filters_select_what_they_say(db: Database, dataset) -> None:
    """The walks above compare the two paths; this checks the rows they agree on."""
    alice, category, bobs_category, _ = dataset
    filters = _filters(category, bobs_category)
    now = utc_now()

    def rows(name: str) -> list[TaskRow]:
        with db.user_scope(alice) as session:
            return TaskRepository(session).read_page(filters[name], limit=100).items

    assert len(rows("none")) == N
    assert rows("others_category") == []
    assert {r.status for r in rows("pending")} == {TaskStatus.PENDING}
    assert {r.priority for r in rows("priority_duplicates")} == {
        TaskPriority.HIGH,
        TaskPriority.LOW,
    }
    assert {r.category_id for r in rows("category")} == {category}
    assert all(
        r.due_date is not None and r.due_date < BASE + timedelta(days=1) for r in rows("due_before")
    )
    assert all(
        r.due_date is not None and r.due_date >= BASE + timedelta(days=1) for r in rows("due_after")
    )
    overdue = rows("overdue")
    assert overdue
    assert all(r.is_overdue for r in overdue)
    assert not any(r.is_overdue for r in rows("not_overdue"))
    assert len(overdue) + len(rows("not_overdue")) == N
    assert all(r.completed for r in rows("completed"))
    assert not any(r.completed for r in rows("not_completed"))
    assert all(r.due_date is None or r.due_date >= now or r.completed for r in rows("not_overdue"))


def test_read_page_never_shows_another_users_tasks(db: Database, dataset, two_users) -> None:
    """The compiled page is shared by every user: its scope is a parameter, not baked in."""
    alice, _, bobs_category, alices = dataset
    _, bob = two_users
    for _ in range(2):
        with db.user_scope(alice) as session:
            mine = {row.id for row in TaskRepository(session).read_page(limit=100)}
        with db.user_scope(bob) as session:
            bobs = {row.id for row in TaskRepository(session).read_page(limit=100)}
            by_category = TaskRepository(session).read_page(TaskFilter(category_id=bobs_category))
        assert mine == alices
        assert len(bobs) == N
        assert not mine & bobs
        assert by_category.items
        assert not {row.id for row in by_category} & alices


def test_a_cursor_from_another_listing_is_refused(db: Database, dataset) -> None:
    alice, *_ = dataset
    with db.user_scope(alice) as session:
        tasks = TaskRepository(session)
        newest = tasks.read_page(limit=3).next_cursor
        categories = CategoryRepository(session)
        categories.create(CategoryCreate(name="another"))
        category_cursor = categories.list(limit=1).next_cursor
    assert newest is not None
    assert category_cursor is not None
    for sort in set(TaskSort) - {TaskSort.NEWEST}:
        with pytest.raises(ValidationError, match="cursor"), db.user_scope(alice) as session:
            TaskRepository(session).read_page(sort=sort, cursor=newest)
    for cursor in (category_cursor, "not-base64!", "bm9wZQ", "WyJvdGhlciIsWzFdXQ"):
        with pytest.raises(ValidationError, match="cursor"), db.user_scope(alice) as session:
            TaskRepository(session).read_page(cursor=cursor)


def test_a_forged_cursor_with_a_naive_timestamp_is_the_packages_error(
    db: Database, dataset
) -> None:
    """Cursors come back from clients: a hand-made one must not surface as a driver-level or
    Python error (`list()` gives a TaskTrackerError)."""
    alice, *_ = dataset
    forged = encode_cursor(Ordering("newest", ()), [BASE.replace(tzinfo=None), str(new_id())])
    with pytest.raises(TaskTrackerError), db.user_scope(alice) as session:
        TaskRepository(session).list(cursor=forged)
    with pytest.raises(TaskTrackerError), db.user_scope(alice) as session:
        TaskRepository(session).read_page(cursor=forged)


def test_a_naive_filter_timestamp_is_the_packages_error() -> None:
    """Refused when the filter is built, on its field, before any listing runs."""
    with pytest.raises(ValidationError) as caught:
        TaskFilter(due_before=BASE.replace(tzinfo=None))
    assert caught.value.fields == {"due_before"}


@pytest.mark.parametrize("limit", [0, -1, 501])
def test_read_page_size_is_bounded(db: Database, make_user, limit: int) -> None:
    with pytest.raises(ValidationError, match="limit"), db.user_scope(make_user()) as session:
        TaskRepository(session).read_page(limit=limit)


def test_read_page_works_in_a_read_only_unit(db: Database, dataset) -> None:
    alice, _, _, alices = dataset
    with db.user_scope(alice, read_only=True) as session:
        page = TaskRepository(session).read_page(limit=100)
    assert {row.id for row in page} == alices


# --- create_row ------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(TaskStatus))
def test_create_row_is_read_back_the_same_everywhere(
    db: Database, make_user, status: TaskStatus
) -> None:
    user = make_user()
    category = add_category(db, user)
    data = TaskCreate(
        title="fast",
        description="made by one INSERT",
        status=status,
        priority=TaskPriority.LOW,
        due_date=BASE + timedelta(microseconds=7),
        category_id=category,
    )
    before = utc_now()
    with db.user_scope(user) as session:
        tasks = TaskRepository(session)
        row = tasks.create_row(data)
        assert_typed(row)
        assert tasks.read(row.id) == row
        assert as_row(tasks.get(row.id)) == row
    assert (row.completed_at is not None) == (status == TaskStatus.COMPLETED)
    assert before <= row.created_at == row.updated_at <= utc_now()
    assert row.completed_at in (None, row.created_at)
    assert {name: getattr(row, name) for name in TaskCreate.model_fields} == data.model_dump()
    with db.user_scope(user) as session:
        tasks = TaskRepository(session)
        assert tasks.read(row.id) == row
        assert as_row(tasks.get(row.id)) == row
        assert tasks.count() == 1


def test_create_row_accepts_a_plain_mapping_with_defaults(db: Database, make_user) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        row = TaskRepository(session).create_row({"title": "from a dict"})
    assert (row.status, row.priority) == (TaskStatus.PENDING, TaskPriority.MEDIUM)
    assert (row.description, row.due_date, row.category_id, row.completed_at) == (None,) * 4
    with db.user_scope(user) as session:
        assert TaskRepository(session).read(row.id) == row


VERBATIM = [
    "Robert'); DROP TABLE tasks;--",
    "%(scope_user_id)s %s ? :id $1 {0}",
    "' OR 1=1 --",
    'quotes "double" and `back` and \\ backslash',
    "naïve café — 日本語 🚀 \u200b zero-width",
    "  leading and trailing  ",
]


@pytest.mark.parametrize("value", VERBATIM)
def test_create_row_stores_text_verbatim(db: Database, make_user, value: str) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        row = TaskRepository(session).create_row({"title": value, "description": value * 3})
    with db.user_scope(user) as session:
        tasks = TaskRepository(session)
        stored = tasks.read(row.id)
        assert tasks.count() == 1
        assert tasks.get(row.id).title == value
    assert (stored.title, stored.description) == (value, value * 3)


def _bad_inputs(others_category: uuid.UUID) -> list[tuple[dict[str, Any], str]]:
    return [
        ({"title": ""}, "title"),
        ({"title": " \t\n "}, "title"),
        ({"title": "nul\x00byte"}, "title"),
        ({"title": "ok", "description": "nul\x00"}, "description"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "description": "d" * 5001}, "description"),
        ({"title": 42}, "title"),
        ({"title": ["a list"]}, "title"),
        ({"title": "ok", "status": "done"}, "status"),
        ({"title": "ok", "priority": "urgent"}, "priority"),
        ({"title": "ok", "due_date": "not a date"}, "due_date"),
        ({"title": "ok", "category_id": "not-a-uuid"}, "category_id"),
        ({"title": "ok", "owner": "me"}, "owner"),
        ({"title": "ok", "user_id": str(uuid.uuid4())}, "user_id"),
        ({"title": "ok", "completed_at": BASE.isoformat()}, "completed_at"),
        ({"title": "ok", "category_id": others_category}, "category_id"),
        ({"title": "ok", "category_id": uuid.uuid4()}, "category_id"),
    ]


def test_create_row_refuses_bad_input_and_leaves_no_row(db: Database, two_users) -> None:
    alice, bob = two_users
    bobs_category = add_category(db, bob)
    for fields, field in _bad_inputs(bobs_category):
        with pytest.raises(ValidationError) as caught, db.user_scope(alice) as session:
            TaskRepository(session).create_row(fields)
        assert field in caught.value.fields, (fields, caught.value)
    with db.user_scope(alice) as session:
        assert TaskRepository(session).count() == 0
        assert session.scalars(select(col(Task.id))).all() == []
    with db.user_scope(bob) as session:
        assert TaskRepository(session).count() == 0


def test_a_later_failure_rolls_the_created_row_back(db: Database, make_user) -> None:
    class LaterError(Exception):
        pass

    user = make_user()
    with pytest.raises(LaterError), db.user_scope(user) as session:
        row = TaskRepository(session).create_row({"title": "doomed"})
        assert TaskRepository(session).read(row.id).title == "doomed"
        raise LaterError
    with db.user_scope(user) as session:
        tasks = TaskRepository(session)
        assert tasks.count() == 0
        with pytest.raises(NotFoundError):
            tasks.read(row.id)
    with pytest.raises(ValidationError), db.user_scope(user) as session:
        TaskRepository(session).create_row({"title": "also doomed"})
        TaskRepository(session).create_row({"title": ""})
    with db.user_scope(user) as session:
        assert TaskRepository(session).count() == 0


def test_create_row_with_a_naive_due_date_is_the_packages_error(db: Database, make_user) -> None:
    """`TaskCreate` lets a naive datetime through; the column type refuses it, through
    either path, as the package's error."""
    user = make_user()
    naive = {"title": "when?", "due_date": BASE.replace(tzinfo=None)}
    with pytest.raises(TaskTrackerError), db.user_scope(user) as session:
        TaskRepository(session).create(naive)
    with pytest.raises(TaskTrackerError), db.user_scope(user) as session:
        TaskRepository(session).create_row(naive)
    with db.user_scope(user) as session:
        assert TaskRepository(session).count() == 0


class _ServiceError(Exception):
    pass


@pytest.mark.parametrize("create", ["create_row", "create"])
def test_a_create_in_a_failed_nested_unit_is_undone(db: Database, make_user, create: str) -> None:
    """A service's own unit inside the caller's is a savepoint: its failure undoes its rows
    and keeps the caller's, whether they were inserted by the fast path or the ORM."""
    user = make_user()
    with db.user_scope(user) as session:
        getattr(TaskRepository(session), create)({"title": "caller's"})
        with pytest.raises(_ServiceError), db.user_scope(user) as nested:
            getattr(TaskRepository(nested), create)({"title": "service's"})
            raise _ServiceError
        assert [row.title for row in TaskRepository(session).read_page()] == ["caller's"]
        assert [task.title for task in TaskRepository(session).list()] == ["caller's"]
    with db.user_scope(user) as session:
        assert [task.title for task in TaskRepository(session).list()] == ["caller's"]


def test_create_row_is_refused_in_a_read_only_unit(db: Database, make_user) -> None:
    """A read-only unit refuses every ORM write; the compiled INSERT must not slip past."""
    user = make_user()
    with (
        pytest.raises(ReadOnlyUnitError, match="read-only"),
        db.user_scope(user, read_only=True) as session,
    ):
        TaskRepository(session).create_row({"title": "should not be written"})
    with db.user_scope(user) as session:
        assert TaskRepository(session).count() == 0


# --- read-your-writes ------------------------------------------------------------------


def test_read_page_and_read_see_unflushed_orm_changes(db: Database, make_user) -> None:
    """The fast path flushes pending ORM changes first, as an ORM query would (autoflush)."""
    user = make_user()
    kept = add_task(db, user, title="before")
    doomed = add_task(db, user, title="doomed")
    with db.user_scope(user) as session:
        tasks = TaskRepository(session)
        created = tasks.create(TaskCreate(title="through create"))
        renamed, deleted = tasks.get(kept), tasks.get(doomed)  # (a load would flush)
        pending = Task(title="pending, not flushed")
        session.add(pending)
        renamed.title = "renamed, not flushed"
        session.delete(deleted)
        assert session.new
        assert session.dirty
        assert session.deleted
        page = tasks.read_page(limit=10)
        assert {row.id for row in page} == {kept, created.id, pending.id}
        assert tasks.read(kept).title == "renamed, not flushed"
        assert tasks.read(pending.id) == as_row(pending)
        with pytest.raises(NotFoundError):
            tasks.read(doomed)


def test_orm_sees_create_row(db: Database, make_user) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        tasks = TaskRepository(session)
        orm = tasks.create(TaskCreate(title="orm"))
        row = tasks.create_row(TaskCreate(title="fast", status=TaskStatus.COMPLETED))
        listed = tasks.list()
        assert [task.id for task in listed] == [row.id, orm.id]
        assert as_row(listed.items[0]) == row
        assert tasks.count(TaskFilter(completed=True)) == 1
        assert tasks.counts_by_status()[TaskStatus.COMPLETED] == 1
        assert [r.id for r in tasks.read_page()] == [row.id, orm.id]


def test_read_rows_are_not_tracked_by_the_session(db: Database, make_user) -> None:
    user = make_user()
    task_id = add_task(db, user)
    with db.user_scope(user) as session:
        tasks = TaskRepository(session)
        tasks.read(task_id)
        tasks.read_page()
        tasks.create_row({"title": "untracked"})
        assert len(session.identity_map) == 0
        assert not session.new


# --- async -----------------------------------------------------------------------------


async def test_async_read_page_read_and_create_row(adb: AsyncDatabase, password_hash: str) -> None:
    users = []
    async with adb.session() as session:
        for name in ("alice_rows", "bob_rows"):
            user = User(email=f"{name}@example.com", username=name, password_hash=password_hash)
            session.add(user)
            await session.flush()
            users.append(user.id)
    alice, bob = users
    async with adb.user_scope(alice) as session:
        made = [
            await run(session, lambda s, i=i: TaskRepository(s).create_row({"title": f"a{i}"}))
            for i in range(5)
        ]
        orm = await run(session, lambda s: TaskRepository(s).create(TaskCreate(title="orm")))
    async with adb.user_scope(bob) as session:
        await run(session, lambda s: TaskRepository(s).create_row({"title": "bob's"}))
    async with adb.user_scope(alice, read_only=True) as session:
        first = await run(session, lambda s: TaskRepository(s).read_page(limit=4))
        rest = await run(
            session, lambda s: TaskRepository(s).read_page(limit=4, cursor=first.next_cursor)
        )
        listed = await run(session, lambda s: TaskRepository(s).list(limit=10))
        read = await run(session, lambda s: TaskRepository(s).read(made[2].id))
        with pytest.raises(NotFoundError):
            await run(session, lambda s: TaskRepository(s).read(uuid.uuid4()))
    assert rest.next_cursor is None
    assert [r.id for r in first.items + rest.items] == [t.id for t in listed]
    assert {r.id for r in first.items + rest.items} == {orm.id, *(r.id for r in made)}
    assert read == made[2]
    assert_typed(read)

"""Every sort with every common filter, paged a few rows at a time on both read paths, gives
exactly the filtered tasks in the order the sort promises, on both backends.

The tasks are generated (hypothesis) with few distinct values, so ties broken by the id are
frequent, with and without due dates (the NULL boundary of the due-date order falls inside
pages and between them), some due at `NO_DUE_DATE` itself. The expected listing is
computed from the generated values alone, not read back; the same values on the other
backend must give the same listing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert

from tasktracker.db.pagination import MAX_PAGE_SIZE
from tasktracker.db.sessions import Database
from tasktracker.db.types import new_id, utc_now
from tasktracker.tasks.models import NO_DUE_DATE, Task, TaskPriority, TaskStatus
from tasktracker.tasks.repository import TaskFilter, TaskRepository, TaskSort
from tests.paging import ids, page_sizes, pages_needed, paging, walk
from tests.tasks.conftest import add_category
from tests.tasks.orders import in_order

# Whole seconds, days away from the moment a test runs: "overdue" does not change under it.
ANCHOR = utc_now().replace(microsecond=0)
OPEN = {TaskStatus.PENDING, TaskStatus.IN_PROGRESS}

Keep = Callable[[Any, uuid.UUID], bool]
# The common filters, with what each keeps (given the category used as "one category").
FILTERS: dict[str, tuple[Callable[[uuid.UUID], TaskFilter | None], Keep]] = {
    "none": (lambda _: None, lambda t, _: True),
    "open": (lambda _: TaskFilter(status=sorted(OPEN)), lambda t, _: t.status in OPEN),
    "category": (lambda c: TaskFilter(category_id=c), lambda t, c: t.category_id == c),
    "overdue": (
        lambda _: TaskFilter(overdue=True),
        lambda t, _: (
            t.due_date is not None and t.due_date < ANCHOR and t.status != TaskStatus.COMPLETED
        ),
    ),
    "open_in_category": (
        lambda c: TaskFilter(status=sorted(OPEN), category_id=c),
        lambda t, c: t.status in OPEN and t.category_id == c,
    ),
}

_days = st.integers(min_value=-2, max_value=2).map(lambda d: ANCHOR + timedelta(days=d, hours=1))
_stamps = st.integers(min_value=0, max_value=2).map(lambda s: ANCHOR + timedelta(seconds=s))
_tasks = st.lists(
    st.fixed_dictionaries(
        {
            "title": st.sampled_from(["Zoo", "ol", "Öl"]),
            "status": st.sampled_from(TaskStatus),
            "priority": st.sampled_from(TaskPriority),
            "due_date": st.none() | _days | st.just(NO_DUE_DATE),
            "in_category": st.booleans(),
            "created_at": _stamps,
            "updated_at": _stamps,
        }
    ),
    min_size=1,
    max_size=9,
)


def _insert(
    db: Database, user: uuid.UUID, category: uuid.UUID, tasks: list[dict[str, Any]]
) -> list[Any]:
    rows = []
    for task in tasks:
        fields = {key: value for key, value in task.items() if key != "in_category"}
        done = task["status"] == TaskStatus.COMPLETED
        fields |= {
            "id": new_id(),
            "category_id": category if task["in_category"] else None,
            "completed_at": ANCHOR if done else None,
        }
        rows.append(fields)
    with db.user_scope(user) as session:
        session.execute(insert(Task), rows)
    return [SimpleNamespace(**row) for row in rows]


@paging
@given(tasks=_tasks, size=page_sizes)
def test_every_sort_and_filter_pages_in_the_promised_order(
    db: Database, make_user, tasks: list[dict[str, Any]], size: int
) -> None:
    user = make_user()
    category = add_category(db, user)
    stored = _insert(db, user, category, tasks)
    for sort in TaskSort:
        for name, (make_filter, keeps) in FILTERS.items():
            expected = ids(in_order([t for t in stored if keeps(t, category)], sort))
            task_filter = make_filter(category)

            def orm(cursor: str | None, sort: TaskSort = sort, f: Any = task_filter) -> Any:
                with db.user_scope(user) as session:
                    return TaskRepository(session).list(f, sort=sort, limit=size, cursor=cursor)

            def fast(cursor: str | None, sort: TaskSort = sort, f: Any = task_filter) -> Any:
                with db.user_scope(user, read_only=True) as session:
                    repository = TaskRepository(session)
                    return repository.read_page(f, sort=sort, limit=size, cursor=cursor)

            at_most = pages_needed(len(expected), size)
            assert ids(walk(orm, at_most=at_most)) == expected, (sort, name)
            assert ids(walk(fast, at_most=at_most)) == expected, (sort, name)


def test_priority_sorts_highest_first_and_pages_through(db: Database, make_user) -> None:
    """Not the alphabetical order of the stored text (high, low, medium)."""
    user = make_user()
    with db.user_scope(user) as session:
        repository = TaskRepository(session)
        for priority in ("low", "high", "medium", "low", "high"):
            repository.create({"title": priority, "priority": priority})

    def fetch(cursor: str | None) -> Any:
        with db.user_scope(user, read_only=True) as session:
            return TaskRepository(session).read_page(sort=TaskSort.PRIORITY, limit=2, cursor=cursor)

    titles = [row.title for row in walk(fetch, at_most=4)]
    assert titles == ["high", "high", "medium", "low", "low"]
    with db.user_scope(user) as session:
        whole = TaskRepository(session).list(sort=TaskSort.PRIORITY, limit=MAX_PAGE_SIZE)
    assert [task.title for task in whole] == titles

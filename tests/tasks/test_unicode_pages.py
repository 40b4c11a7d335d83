"""Paging categories and tasks through Unicode names loses and repeats nothing, and the
order is the same on both backends (code-point order of the sort keys; case-insensitive
by the Unicode lowercase for category names).

Every listing is walked with pages of 1 to 3 rows; the pages concatenated must equal the
whole listing in one page and the order computed here from the stored values.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert

from tasktracker.db.caseless import simple_lower
from tasktracker.db.pagination import MAX_PAGE_SIZE
from tasktracker.db.sessions import Database
from tasktracker.db.types import new_id
from tasktracker.tasks.models import Task, TaskPriority
from tasktracker.tasks.repository import CategoryRepository, TaskRepository, TaskSort
from tests.paging import ids, page_sizes, pages_needed, paging, unicode_names, walk
from tests.tasks.orders import in_order

BASE = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _add_categories(db: Database, user: uuid.UUID, names: list[str]) -> None:
    with db.user_scope(user) as session:
        repository = CategoryRepository(session)
        for name in names:
            repository.create({"name": name})


def _category_names(db: Database, user: uuid.UUID, size: int, count: int) -> list[str]:
    def fetch(cursor: str | None) -> Any:
        with db.user_scope(user, read_only=True) as session:
            return CategoryRepository(session).list(limit=size, cursor=cursor)

    return [category.name for category in walk(fetch, at_most=pages_needed(count, size))]


def test_the_reported_names_all_come_back(db: Database, make_user) -> None:
    """Issue 15: one at a time, SQLite returned 4 of these 6 (never `Éclair` nor `Öl`).

    By code point of the lowercase, on both backends: `é` and `ö` come after `z`."""
    user = make_user()
    _add_categories(db, user, ["Öl", "Reise", "Éclair", "zoo", "Garten", "Arbeit"])
    expected = ["Arbeit", "Garten", "Reise", "zoo", "Éclair", "Öl"]
    assert _category_names(db, user, size=1, count=6) == expected


@paging
@given(
    names=st.lists(unicode_names, min_size=1, max_size=8, unique_by=simple_lower),
    size=page_sizes,
)
def test_categories_page_through_unicode_names(
    db: Database, make_user, names: list[str], size: int
) -> None:
    user = make_user()
    _add_categories(db, user, names)
    with db.user_scope(user) as session:
        whole = CategoryRepository(session).list(limit=MAX_PAGE_SIZE)
    expected = sorted(whole.items, key=lambda c: (simple_lower(c.name), c.id))
    assert [c.name for c in whole] == [c.name for c in expected]
    assert sorted(c.name for c in whole) == sorted(names)
    assert _category_names(db, user, size, len(names)) == [c.name for c in expected]


_stamps = st.integers(min_value=0, max_value=3).map(lambda s: BASE + timedelta(seconds=s))
_tasks = st.lists(
    st.fixed_dictionaries(
        {
            # Few distinct values, so that ties (broken by the id) are frequent.
            "title": st.sampled_from(["Éclair", "éclair", "Öl", "ol", "Zoo"]) | unicode_names,
            "created_at": _stamps,
            "updated_at": _stamps,
            "due_date": st.none() | _stamps,
            "priority": st.sampled_from(TaskPriority),
        }
    ),
    min_size=1,
    max_size=9,
)


@paging
@given(tasks=_tasks, size=page_sizes)
def test_tasks_page_through_every_sort_on_both_read_paths(
    db: Database, make_user, tasks: list[dict[str, Any]], size: int
) -> None:
    user = make_user()
    with db.user_scope(user) as session:
        session.execute(insert(Task), [{"id": new_id(), **task} for task in tasks])
    at_most = pages_needed(len(tasks), size)
    for sort in TaskSort:
        with db.user_scope(user, read_only=True) as session:
            whole = TaskRepository(session).read_page(sort=sort, limit=MAX_PAGE_SIZE)
        expected = ids(in_order(whole.items, sort))
        assert ids(whole.items) == expected, sort

        def orm(cursor: str | None, sort: TaskSort = sort) -> Any:
            with db.user_scope(user) as session:
                return TaskRepository(session).list(sort=sort, limit=size, cursor=cursor)

        def fast(cursor: str | None, sort: TaskSort = sort) -> Any:
            with db.user_scope(user, read_only=True) as session:
                return TaskRepository(session).read_page(sort=sort, limit=size, cursor=cursor)

        assert ids(walk(orm, at_most=at_most)) == expected, sort
        assert ids(walk(fast, at_most=at_most)) == expected, sort


@pytest.mark.parametrize("size", [1, 2])
def test_a_cursor_from_the_orm_path_continues_on_the_fast_path(
    db: Database, make_user, size: int
) -> None:
    """Both paths encode the same cursor (the database's sort keys), so they can mix."""
    user = make_user()
    titles = ["Öl", "éclair", "Éclair", "ol", "Zoo"]
    with db.user_scope(user) as session:
        repository = TaskRepository(session)
        for title in titles:
            repository.create({"title": title})
    with db.user_scope(user) as session:
        repository = TaskRepository(session)
        first = repository.list(sort=TaskSort.TITLE, limit=size)
        rest = repository.read_page(sort=TaskSort.TITLE, limit=10, cursor=first.next_cursor)
    assert [t.title for t in first] + [t.title for t in rest] == sorted(titles)

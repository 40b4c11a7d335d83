"""One declaration per listing (`db.listing`) gives both paths the same criteria, orderings
and cursors; a new filter field or sort is one edit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import pytest
from sqlalchemy import Integer, func

from tasktracker.chat.schemas import MessageRead, MessageRow
from tasktracker.db.errors import ValidationError
from tasktracker.db.listing import Equals, Flag, Listing, ListingFilter, OneOf
from tasktracker.db.pagination import Ordering, SortKey
from tasktracker.db.sessions import Database
from tasktracker.tasks.models import Task, TaskPriority, TaskStatus
from tasktracker.tasks.repository import TaskFilter
from tasktracker.tasks.schemas import TaskRead, TaskRow
from tests.tasks.conftest import add_task


class TitleFilter(ListingFilter):
    """A filter this test adds: one annotated field each."""

    title: Annotated[str | None, Equals(Task.title)] = None
    priority: Annotated[list[TaskPriority] | None, OneOf(Task.priority)] = None
    completed: Annotated[bool | None, Flag(Task.completed)] = None


_LENGTH = func.length(Task.title, type_=Integer)
BY_LENGTH = Ordering("title-length", (SortKey(_LENGTH), SortKey(Task.id)))  # type: ignore[arg-type]
LISTING = Listing(Task, TitleFilter, {"length": BY_LENGTH}, TaskRow)


def test_a_filter_field_must_say_its_sql() -> None:
    with pytest.raises(TypeError, match=r"Loose\.title must declare one Criterion"):

        class Loose(ListingFilter):
            title: str | None = None


def test_a_sort_key_must_have_a_type_to_decode_its_cursor_by() -> None:
    with pytest.raises(TypeError, match="no SQL type"):
        SortKey(func.length(Task.title))


def test_shape_and_parameters_follow_the_declaration() -> None:
    one = TaskFilter(status=[TaskStatus.PENDING, TaskStatus.PENDING], overdue=False)
    other = TaskFilter(status=[TaskStatus.COMPLETED], overdue=False)
    assert one.shape() == other.shape()
    assert one.parameters() == {"status_in_0": TaskStatus.PENDING}
    assert TaskFilter(overdue=True).shape() != TaskFilter(overdue=False).shape()
    assert TaskFilter(status=[]).shape() == TaskFilter().shape()
    assert TaskFilter(status=[]).criteria() == []


def test_an_unknown_sort_names_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        LISTING.ordering("nope")
    assert caught.value.errors[0].field == "sort"


def test_a_listing_without_a_read_row_has_no_fast_path(db: Database, make_user) -> None:
    without_rows = Listing(Task, TitleFilter, {"length": BY_LENGTH})
    with db.user_scope(make_user()) as session, pytest.raises(TypeError):
        without_rows.rows(session, sort="length", limit=5)


@pytest.mark.parametrize(
    "filter",
    [
        None,
        TitleFilter(title="same"),
        TitleFilter(priority=[TaskPriority.HIGH, TaskPriority.LOW]),
        TitleFilter(completed=False, title="same"),
    ],
    ids=["none", "equals", "one-of", "flag-and-equals"],
)
def test_a_new_listing_pages_alike_on_both_paths(
    db: Database, make_user, filter: TitleFilter | None
) -> None:
    user, other = make_user(), make_user()
    titles = ["same", "x" * 7, "same", "ab", "same", "a", "sameish", "ab"]
    for i, title in enumerate(titles):
        priority = [TaskPriority.HIGH, TaskPriority.LOW, TaskPriority.MEDIUM][i % 3]
        add_task(db, user, title=title, priority=priority)
    add_task(db, other, title="same")
    seen: list[uuid.UUID] = []
    cursor = None
    while True:
        with db.user_scope(user) as session:
            orm = LISTING.entities(session, filter, sort="length", limit=2, cursor=cursor)
            fast = LISTING.rows(session, filter, sort="length", limit=2, cursor=cursor)
        assert [row.id for row in fast] == [task.id for task in orm]
        assert fast.next_cursor == orm.next_cursor
        seen += [row.id for row in fast]
        if fast.next_cursor is None:
            break
        cursor = fast.next_cursor
    with db.user_scope(user) as session:
        expected = LISTING.count(session, filter)
        everything = LISTING.entities(session, filter, sort="length", limit=100)
    assert len(seen) == len(set(seen)) == expected
    assert seen == [task.id for task in everything]
    lengths = [len(task.title) for task in everything]
    assert lengths == sorted(lengths)


@pytest.mark.parametrize(("row", "read"), [(TaskRow, TaskRead), (MessageRow, MessageRead)])
def test_read_rows_and_read_schemas_name_the_same_columns(row: type, read: type) -> None:
    """The fast path's rows and the API's read schemas are two views of one column list."""
    assert set(row._fields) == set(read.model_fields)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"status": ["pending", "nope"]}, "status"),
        ({"due_before": datetime(2026, 1, 1)}, "due_before"),
        ({"categry_id": uuid.uuid4()}, "categry_id"),
        ({"overdue": "\x00"}, "overdue"),
    ],
)
def test_a_bad_filter_is_refused_when_built_naming_the_field(
    fields: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        TaskFilter(**fields)  # type: ignore[arg-type]
    # A value inside a list is named by its position too: `status.0`.
    assert [error.field.split(".")[0] for error in caught.value.errors] == [field]

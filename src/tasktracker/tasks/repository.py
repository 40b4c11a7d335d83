"""Queries for categories and tasks, inside a user's scope (isolation is automatic)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, NamedTuple

from sqlalchemy import ColumnElement, Select, bindparam, func, insert, literal, select
from sqlmodel import col

from tasktracker.db.base import Input
from tasktracker.db.caseless import caseless
from tasktracker.db.errors import NotFoundError, ValidationError
from tasktracker.db.fastpath.compiled import CompiledQuery, QueryCache
from tasktracker.db.pagination import (
    Ordering,
    Page,
    SortKey,
    entity,
    make_page,
    page_parameters,
    paginate,
)
from tasktracker.db.repository import TenantRepository, validated
from tasktracker.db.tenancy import SCOPE_PARAMETER
from tasktracker.db.types import AWARE, UTCDateTime, new_id, utc_now
from tasktracker.tasks.models import (
    Category,
    Task,
    TaskPriority,
    TaskStatus,
    completed_at_for,
)
from tasktracker.tasks.schemas import (
    CategoryCreate,
    CategoryUpdate,
    TaskCreate,
    TaskRow,
    TaskUpdate,
)

_NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)


class CategoryRepository(TenantRepository[Category]):
    model = Category
    _by_name = Ordering(
        "category-name",
        (SortKey(caseless(Category.name)), SortKey(Category.id, kind=uuid.UUID)),  # type: ignore[arg-type]
    )

    def create(self, data: CategoryCreate | Mapping[str, Any]) -> Category:
        return self.create_from(validated(CategoryCreate, data))

    def update(
        self,
        id: uuid.UUID,
        changes: CategoryUpdate | Mapping[str, Any],
        *,
        expected_updated_at: datetime | None = None,
    ) -> Category:
        changes = validated(CategoryUpdate, changes)
        return self.update_from(id, changes, expected_updated_at=expected_updated_at)

    def list(self, *, limit: int = 100, cursor: str | None = None) -> Page[Category]:
        """Categories by name, case-insensitively."""
        statement = paginate(select(Category), self._by_name, limit, cursor)
        rows = self.session.execute(statement).all()
        return make_page(rows, statement, limit, entity)


class TaskSort(enum.StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    DUE_SOONEST = "due_soonest"
    RECENTLY_UPDATED = "recently_updated"
    TITLE = "title"


_due_or_never = func.coalesce(Task.due_date, literal(_NO_DUE_DATE, UTCDateTime))
_task_id = SortKey(Task.id, kind=uuid.UUID)  # type: ignore[arg-type]
_ORDERINGS: dict[TaskSort, Ordering] = {
    TaskSort.NEWEST: Ordering(
        "newest",
        (SortKey(Task.created_at, True, datetime), SortKey(Task.id, True, uuid.UUID)),  # type: ignore[arg-type]
    ),
    TaskSort.OLDEST: Ordering("oldest", (SortKey(Task.created_at, kind=datetime), _task_id)),  # type: ignore[arg-type]
    TaskSort.DUE_SOONEST: Ordering("due", (SortKey(_due_or_never, kind=datetime), _task_id)),
    TaskSort.RECENTLY_UPDATED: Ordering(
        "updated",
        (SortKey(Task.updated_at, True, datetime), SortKey(Task.id, True, uuid.UUID)),  # type: ignore[arg-type]
    ),
    TaskSort.TITLE: Ordering("title", (SortKey(Task.title), _task_id)),  # type: ignore[arg-type]
}


def _ordering(sort: TaskSort) -> Ordering:
    ordering = _ORDERINGS.get(sort)
    if ordering is None:
        allowed = ", ".join(TaskSort)
        raise ValidationError.single("sort", f"must be one of {allowed}", model="Task")
    return ordering


def _distinct(values: Sequence[Any] | None) -> list[Any]:
    return list(dict.fromkeys(values or ()))


class TaskFilter(Input):
    """Which tasks to list; every criterion is optional and they combine with AND.

    A bad value (an unknown status, a naive datetime, an unknown criterion) raises our
    `ValidationError` naming the field, when the filter is built or changed."""

    status: Sequence[TaskStatus] | None = None
    priority: Sequence[TaskPriority] | None = None
    category_id: uuid.UUID | None = None
    due_before: Annotated[datetime | None, AWARE] = None
    due_after: Annotated[datetime | None, AWARE] = None
    overdue: bool | None = None
    completed: bool | None = None

    def shape(self) -> tuple[Any, ...]:
        """Which criteria are set and with how many values: filters of the same shape share
        one statement (and one compiled query), differing only in `parameters()`."""
        return (
            len(_distinct(self.status)),
            len(_distinct(self.priority)),
            self.category_id is not None,
            self.due_before is not None,
            self.due_after is not None,
            self.overdue,
            self.completed,
        )

    def parameters(self) -> dict[str, Any]:
        """The filter's values, named as the bound parameters of `criteria()`."""
        values: dict[str, Any] = {}
        for i, status in enumerate(_distinct(self.status)):
            values[f"status_in_{i}"] = status
        for i, priority in enumerate(_distinct(self.priority)):
            values[f"priority_in_{i}"] = priority
        for name in ("category_id", "due_before", "due_after"):
            if (value := getattr(self, name)) is not None:
                values[name] = value
        return values

    def criteria(self) -> list[ColumnElement[bool]]:
        """The WHERE criteria, with `parameters()` bound by name."""
        values = self.parameters()

        def bound(name: str, column: Any) -> Any:
            return bindparam(name, values[name], type_=column.type)

        status, priority, due_date = col(Task.status), col(Task.priority), col(Task.due_date)
        criteria: list[ColumnElement[bool]] = []
        if self.status:
            count = len(_distinct(self.status))
            statuses = [bound(f"status_in_{i}", status) for i in range(count)]
            criteria.append(status.in_(statuses))
        if self.priority:
            names = [f"priority_in_{i}" for i in range(len(_distinct(self.priority)))]
            criteria.append(priority.in_([bound(name, priority) for name in names]))
        if self.category_id is not None:
            category_id = col(Task.category_id)
            criteria.append(category_id == bound("category_id", category_id))
        if self.due_before is not None:
            criteria.append(due_date < bound("due_before", due_date))
        if self.due_after is not None:
            criteria.append(due_date >= bound("due_after", due_date))
        if self.overdue is not None:
            criteria.append(Task.is_overdue if self.overdue else ~Task.is_overdue)  # type: ignore[arg-type]
        if self.completed is not None:
            criteria.append(_COMPLETED if self.completed else _NOT_COMPLETED)
        return criteria


# Built once: a hybrid's expression costs a fresh SQL construction on every access.
_COMPLETED: ColumnElement[bool] = Task.completed  # type: ignore[assignment]
_NOT_COMPLETED: ColumnElement[bool] = ~_COMPLETED


_NO_FILTER = TaskFilter()
_ROW_COLUMNS = [getattr(Task, name) for name in TaskRow._fields]
_BY_ID = CompiledQuery(select(*_ROW_COLUMNS).where(col(Task.id) == bindparam("id")), TaskRow)
_PAGES: QueryCache[tuple[Any, ...]] = QueryCache()
_INSERT: CompiledQuery[Any] = CompiledQuery(
    insert(Task).values(
        user_id=bindparam(SCOPE_PARAMETER), **{name: bindparam(name) for name in TaskRow._fields}
    )
)


class _Found(NamedTuple):
    id: uuid.UUID


_CATEGORY = CompiledQuery(
    select(col(Category.id)).where(col(Category.id) == bindparam("id")), _Found
)


class TaskRepository(TenantRepository[Task]):
    model = Task

    def create(self, data: TaskCreate | Mapping[str, Any]) -> Task:
        data = validated(TaskCreate, data)
        self._check_category(data.category_id)
        return self.create_from(data)

    def create_row(self, data: TaskCreate | Mapping[str, Any]) -> TaskRow:
        """A new task, inserted by one compiled INSERT and returned as a read row: the fast
        path for callers that do not go on to change the task in the same unit."""
        data = validated(TaskCreate, data)
        self._check_category(data.category_id)
        now = utc_now()
        row = TaskRow(
            id=new_id(),
            title=data.title,
            description=data.description,
            status=data.status,
            priority=data.priority,
            due_date=data.due_date,
            category_id=data.category_id,
            completed_at=completed_at_for(data.status, None, now),
            created_at=now,
            updated_at=now,
        )
        _INSERT.execute(self.session, **row._asdict())
        return row

    def update(
        self,
        id: uuid.UUID,
        changes: TaskUpdate | Mapping[str, Any],
        *,
        expected_updated_at: datetime | None = None,
    ) -> Task:
        changes = validated(TaskUpdate, changes)
        if "category_id" in changes.model_fields_set:
            self._check_category(changes.category_id)
        return self.update_from(id, changes, expected_updated_at=expected_updated_at)

    def list(
        self,
        filter: TaskFilter | None = None,
        *,
        sort: TaskSort = TaskSort.NEWEST,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Task]:
        """A page of tasks, keyset-paginated: pass the returned `next_cursor` to continue."""
        ordering = _ordering(sort)
        statement = paginate(self._filtered(filter), ordering, limit, cursor)
        rows = self.session.execute(statement).all()
        return make_page(rows, statement, limit, entity)

    def read(self, id: uuid.UUID) -> TaskRow:
        """One task as a read row (the fast path: no identity map), or `NotFoundError`."""
        row = _BY_ID.one_or_none(self.session, id=self.checked_id(id))
        if row is None:
            raise NotFoundError(f"Task {id} not found")
        return row

    def read_page(
        self,
        filter: TaskFilter | None = None,
        *,
        sort: TaskSort = TaskSort.NEWEST,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[TaskRow]:
        """As `list`, as read rows: the fast path for callers that only read."""
        filter = filter or _NO_FILTER
        ordering = _ordering(sort)
        parameters = page_parameters(ordering, limit, cursor) | filter.parameters()

        def build() -> CompiledQuery[tuple[Any, ...]]:
            statement = select(*_ROW_COLUMNS).where(*filter.criteria())
            page = paginate(statement, ordering, limit, cursor, columns_only=True)
            return CompiledQuery(page, tuple)

        query = _PAGES.get((filter.shape(), sort, bool(cursor)), build)
        rows = query.all(self.session, **parameters)
        return make_page(rows, query.statement, limit, TaskRow._make)

    def count(self, filter: TaskFilter | None = None) -> int:
        statement = select(func.count()).select_from(Task)
        if filter is not None:
            statement = statement.where(*filter.criteria())
        return self.session.scalar(statement) or 0

    def counts_by_status(self) -> dict[TaskStatus, int]:
        """Every status with its number of tasks (zero included)."""
        statement = select(col(Task.status), func.count()).group_by(col(Task.status))
        rows = self.session.execute(statement).all()
        counts = dict.fromkeys(TaskStatus, 0)
        counts.update({TaskStatus(status): number for status, number in rows})
        return counts

    def _filtered(self, filter: TaskFilter | None) -> Select[Task]:
        statement = select(Task)
        return statement.where(*filter.criteria()) if filter is not None else statement

    def _check_category(self, category_id: uuid.UUID | None) -> None:
        """A friendly error before the database's composite foreign key would refuse it."""
        if category_id is not None and _CATEGORY.one_or_none(self.session, id=category_id) is None:
            raise ValidationError.single("category_id", "no such category", model="Task")

"""Queries for categories and tasks, inside a user's scope (isolation is automatic)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, func, literal, select
from sqlmodel import col

from tasktracker.db.errors import ValidationError
from tasktracker.db.pagination import Ordering, Page, SortKey, make_page, paginate
from tasktracker.db.repository import TenantRepository, validated
from tasktracker.db.types import UTCDateTime
from tasktracker.tasks.models import Category, Task, TaskPriority, TaskStatus
from tasktracker.tasks.schemas import CategoryCreate, CategoryUpdate, TaskCreate, TaskUpdate

_NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)


class CategoryRepository(TenantRepository[Category]):
    model = Category
    _by_name = Ordering(
        "category-name",
        (SortKey(func.lower(Category.name)), SortKey(Category.id, kind=uuid.UUID)),  # type: ignore[arg-type]
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
        rows = self.session.scalars(statement).all()
        return make_page(rows, self._by_name, limit, lambda c: (c.name.lower(), c.id))


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


def _sort_values(sort: TaskSort, task: Task) -> tuple[Any, ...]:
    first = {
        TaskSort.NEWEST: task.created_at,
        TaskSort.OLDEST: task.created_at,
        TaskSort.DUE_SOONEST: task.due_date or _NO_DUE_DATE,
        TaskSort.RECENTLY_UPDATED: task.updated_at,
        TaskSort.TITLE: task.title,
    }[sort]
    return (first, task.id)


class TaskFilter(BaseModel):
    """Which tasks to list; every criterion is optional and they combine with AND."""

    status: Sequence[TaskStatus] | None = None
    priority: Sequence[TaskPriority] | None = None
    category_id: uuid.UUID | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    overdue: bool | None = None
    completed: bool | None = None

    def criteria(self) -> list[ColumnElement[bool]]:
        criteria: list[ColumnElement[bool]] = []
        if self.status:
            criteria.append(Task.status.in_(self.status))  # type: ignore[attr-defined]
        if self.priority:
            criteria.append(Task.priority.in_(self.priority))  # type: ignore[attr-defined]
        if self.category_id is not None:
            criteria.append(Task.category_id == self.category_id)  # type: ignore[arg-type]
        if self.due_before is not None:
            criteria.append(Task.due_date < self.due_before)  # type: ignore[arg-type,operator]
        if self.due_after is not None:
            criteria.append(Task.due_date >= self.due_after)  # type: ignore[arg-type,operator]
        if self.overdue is not None:
            criteria.append(Task.is_overdue if self.overdue else ~Task.is_overdue)  # type: ignore[arg-type]
        if self.completed is not None:
            criteria.append(_COMPLETED if self.completed else _NOT_COMPLETED)
        return criteria


# Built once: a hybrid's expression costs a fresh SQL construction on every access.
_COMPLETED: ColumnElement[bool] = Task.completed  # type: ignore[assignment]
_NOT_COMPLETED: ColumnElement[bool] = ~_COMPLETED


class TaskRepository(TenantRepository[Task]):
    model = Task

    def create(self, data: TaskCreate | Mapping[str, Any]) -> Task:
        data = validated(TaskCreate, data)
        self._check_category(data.category_id)
        return self.create_from(data)

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
        ordering = _ORDERINGS[sort]
        statement = paginate(self._filtered(filter), ordering, limit, cursor)
        rows = self.session.scalars(statement).all()
        return make_page(rows, ordering, limit, lambda task: _sort_values(sort, task))

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
        if (
            category_id is not None
            and self.session.get(Category, (self.user_id, category_id)) is None
        ):
            raise ValidationError.single("category_id", "no such category", model="Task")

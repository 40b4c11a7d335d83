"""Create, update and read schemas for categories and tasks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple

from pydantic import computed_field

from tasktracker.db.base import Schema, field_of
from tasktracker.db.text import OptionalText, RequiredText
from tasktracker.tasks.models import (
    CategoryFields,
    Color,
    TaskFields,
    TaskPriority,
    TaskStatus,
    overdue,
)


class CategoryCreate(CategoryFields, Schema):
    """A new category."""


class CategoryUpdate(Schema):
    name: RequiredText | None = field_of(CategoryFields, "name", default=None)
    color: Color | None = field_of(CategoryFields, "color", default=None)


class CategoryRead(CategoryFields):
    id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class TaskCreate(TaskFields, Schema):
    """A new task."""


class TaskUpdate(Schema):
    """Only the fields that are set are changed; `None` clears an optional field."""

    title: RequiredText | None = field_of(TaskFields, "title", default=None)
    description: OptionalText | None = field_of(TaskFields, "description", default=None)
    status: TaskStatus | None = None
    priority: TaskPriority | None = None
    due_date: datetime | None = None
    category_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None


class TaskRow(NamedTuple):
    """A task as read by the fast read path (`TaskRepository.read`, `read_page`):
    immutable, built straight from the row, not tracked by the session. `_asdict()` gives
    a dict; `TaskRead.model_validate(row._asdict())` a validated schema."""

    id: uuid.UUID
    title: str
    description: str | None
    status: TaskStatus
    priority: TaskPriority
    due_date: datetime | None
    category_id: uuid.UUID | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    parent_id: uuid.UUID | None

    @property
    def completed(self) -> bool:
        return self.status == TaskStatus.COMPLETED

    @property
    def is_overdue(self) -> bool:
        return overdue(self.status, self.due_date)


class TaskRead(TaskFields):
    id: uuid.UUID
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def completed(self) -> bool:
        return self.status == TaskStatus.COMPLETED

    @computed_field  # type: ignore[prop-decorator]
    @property
    def is_overdue(self) -> bool:
        return overdue(self.status, self.due_date)

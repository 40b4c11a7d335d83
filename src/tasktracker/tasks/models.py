"""`categories` and `tasks`."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import StringConstraints
from sqlalchemy import (
    ColumnElement,
    ForeignKeyConstraint,
    Index,
    Text,
    and_,
    bindparam,
    event,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlmodel import Field, SQLModel, col

import tasktracker.accounts.models  # noqa: F401  (`users`, which every tenant table references)
from tasktracker.db.base import TenantModel, Timestamped
from tasktracker.db.caseless import caseless
from tasktracker.db.constraints import field_check
from tasktracker.db.text import OptionalText, RequiredText
from tasktracker.db.types import StrEnumType, UTCDateTime, utc_now

DEFAULT_COLOR = "#6B7280"
COLOR_PATTERN = r"^#[0-9A-Fa-f]{6}$"
Color = Annotated[str, StringConstraints(pattern=COLOR_PATTERN)]


class TaskStatus(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class TaskPriority(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class CategoryFields(SQLModel):
    """The fields a caller provides, shared by the table model and its schemas."""

    name: RequiredText = Field(max_length=100)
    color: Color = Field(
        default=DEFAULT_COLOR, max_length=7, sa_column_kwargs={"server_default": DEFAULT_COLOR}
    )


class Category(CategoryFields, Timestamped, TenantModel, table=True):
    __tablename__ = "categories"
    __table_args__ = (
        Index(
            "uq_categories_user_id_name_lower",
            "user_id",
            caseless(text("name")),
            unique=True,
            info={"field": "name", "message": "is already used by another category"},
        ),
        field_check(
            "color",
            text(
                "length(color) = 7 AND substr(color, 1, 1) = '#' "
                "AND ltrim(substr(color, 2), '0123456789abcdefABCDEF') = ''"
            ),
            "format",
            "must be a #RRGGBB hex color",
        ),
    )


def completed_at_for(
    status: TaskStatus, completed_at: datetime | None, now: datetime
) -> datetime | None:
    """`completed_at` is set when the status becomes completed, cleared when it leaves."""
    if status != TaskStatus.COMPLETED:
        return None
    return completed_at or now


def overdue(status: TaskStatus, due_date: datetime | None) -> bool:
    """Due date passed and not completed (the model, its read schema and its read row)."""
    return due_date is not None and due_date < utc_now() and status != TaskStatus.COMPLETED


class TaskFields(SQLModel):
    """The fields a caller provides, shared by the table model and its schemas."""

    title: RequiredText = Field(max_length=200)
    description: OptionalText | None = Field(default=None, max_length=5000, sa_type=Text)
    status: TaskStatus = Field(
        default=TaskStatus.PENDING,
        sa_type=StrEnumType(TaskStatus),
        sa_column_kwargs={"server_default": TaskStatus.PENDING.value},
    )
    priority: TaskPriority = Field(
        default=TaskPriority.MEDIUM,
        sa_type=StrEnumType(TaskPriority),
        sa_column_kwargs={"server_default": TaskPriority.MEDIUM.value},
    )
    due_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    category_id: uuid.UUID | None = Field(default=None)


class Task(TaskFields, Timestamped, TenantModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        ForeignKeyConstraint(["user_id", "category_id"], ["categories.user_id", "categories.id"]),
        field_check(
            "completed_at",
            text(
                "(status = 'completed' AND completed_at IS NOT NULL) "
                "OR (status <> 'completed' AND completed_at IS NULL)"
            ),
            "matches_status",
            "is set exactly when the status is completed",
        ),
        Index("ix_tasks_user_id_status", "user_id", "status"),
        Index("ix_tasks_user_id_due_date", "user_id", "due_date"),
        Index("ix_tasks_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_tasks_user_id_category_id", "user_id", "category_id"),
    )

    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        self._sync_completed_at(self.status)

    def _sync_completed_at(self, status: TaskStatus) -> None:
        new = completed_at_for(status, self.completed_at, utc_now())
        if new is not self.completed_at:
            self.completed_at = new

    @hybrid_property
    def completed(self) -> bool:
        """True exactly when the status is `completed`; settable; usable in queries."""
        return self.status == TaskStatus.COMPLETED

    @completed.inplace.setter
    def completed_setter(self, value: bool) -> None:
        self.status = TaskStatus.COMPLETED if value else TaskStatus.PENDING

    @completed.inplace.expression
    @classmethod
    def completed_expression(cls) -> ColumnElement[bool]:
        return col(cls.status) == TaskStatus.COMPLETED

    @hybrid_property
    def is_overdue(self) -> bool:
        """Due date passed and not completed; usable in queries."""
        return overdue(self.status, self.due_date)

    @is_overdue.inplace.expression
    @classmethod
    def is_overdue_expression(cls) -> ColumnElement[bool]:
        return and_(
            col(cls.due_date).is_not(None),
            # Evaluated at execution, so a compiled or cached statement compares with "now".
            col(cls.due_date) < bindparam("now", callable_=utc_now, type_=UTCDateTime, unique=True),
            col(cls.status) != TaskStatus.COMPLETED,
        )


@event.listens_for(Task.status, "set")
def _status_set(task: Task, value: TaskStatus, old: object, initiator: object) -> None:
    task._sync_completed_at(TaskStatus(value))

"""`categories` and `tasks`."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import StringConstraints
from sqlalchemy import (
    ColumnElement,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    event,
    func,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Field, SQLModel, col

import tasktracker.accounts.models  # noqa: F401  (`users`, which every tenant table references)
from tasktracker.db.base import TenantModel, Timestamped
from tasktracker.db.caseless import caseless
from tasktracker.db.constraints import field_check
from tasktracker.db.search import SearchIndex
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
    parent_id: uuid.UUID | None = Field(default=None)


class Task(TaskFields, Timestamped, TenantModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        ForeignKeyConstraint(["user_id", "category_id"], ["categories.user_id", "categories.id"]),
        # A subtask goes with its parent (docs/tasks.md#subtasks): the database deletes the
        # whole subtree, for plain SQL too.
        ForeignKeyConstraint(
            ["user_id", "parent_id"], ["tasks.user_id", "tasks.id"], ondelete="CASCADE"
        ),
        field_check(
            "parent_id",
            text("parent_id IS NULL OR parent_id <> id"),
            "not_self",
            "a task cannot be its own parent",
        ),
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
        # The listings' orders (`TaskSort`), each ending with the id, and each again after
        # `category_id` for the listings of one category. The expression indexes are
        # declared below, after their expressions.
        Index("ix_tasks_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_tasks_user_id_updated_at_id", "user_id", "updated_at", "id"),
        Index("ix_tasks_user_id_title_id", "user_id", "title", "id"),
        Index(
            "ix_tasks_user_id_category_id_created_at_id",
            "user_id",
            "category_id",
            "created_at",
            "id",
        ),
        Index(
            "ix_tasks_user_id_category_id_updated_at_id",
            "user_id",
            "category_id",
            "updated_at",
            "id",
        ),
        Index("ix_tasks_user_id_category_id_title_id", "user_id", "category_id", "title", "id"),
        # A task's children in order, and each level of its tree (`tasks.tree`).
        Index(
            "ix_tasks_user_id_parent_id_created_at_id", "user_id", "parent_id", "created_at", "id"
        ),
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
        # On the due-date sort key (a task without a due date is due after any "now"), so
        # the listing by due date seeks its index to the overdue tasks and the others walk
        # their own, where SQLite would search `ix_tasks_user_id_due_date` and sort what it
        # finds. "now" is evaluated at execution, so a compiled or cached statement compares
        # with the current time.
        now = bindparam("now", callable_=utc_now, type_=UTCDateTime, unique=True)
        return and_(now > DUE_DATE_OR_NEVER, col(cls.status) != TaskStatus.COMPLETED)


NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)
"""Where a task without a due date sorts: after every real one (`DUE_DATE_OR_NEVER`)."""


class _no_due_date(FunctionElement[datetime]):  # noqa: N801 (a SQL constant, named like a function)
    """`NO_DUE_DATE` spelled as a literal of the column's type, never a bound parameter.

    An index on an expression serves only a query that spells the same expression: SQLite
    compares the two expression trees, and PostgreSQL cannot match a parameter to the
    index's constant in a generic plan (a prepared statement after five executions)."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(_no_due_date)
def _compile_no_due_date(element: _no_due_date, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite: the type's own literal, the stored text `'9999-12-31 00:00:00.000000'`.
    return str(compiler.render_literal_value(NO_DUE_DATE, element.type))


@compiles(_no_due_date, "postgresql")
def _compile_no_due_date_postgresql(element: _no_due_date, compiler: SQLCompiler, **kw: Any) -> str:
    # As PostgreSQL prints the index's constant back, so the drift check finds them equal.
    return f"'{NO_DUE_DATE:%Y-%m-%d %H:%M:%S}+00'"


DUE_DATE_OR_NEVER: ColumnElement[datetime] = func.coalesce(col(Task.due_date), _no_due_date())
"""The due-date sort key: the due date, or `NO_DUE_DATE` for a task without one, so tasks
without a due date come last, in the same order on both backends (ascending order puts
NULLs last on PostgreSQL, first on SQLite), and a keyset cursor never holds a NULL (a
row-value comparison with a NULL is NULL, which would lose rows). A task due at or after
`NO_DUE_DATE` sorts with those without a due date, by id."""


PRIORITIES_HIGHEST_FIRST = " ".join(
    priority.value for priority in (TaskPriority.HIGH, TaskPriority.MEDIUM, TaskPriority.LOW)
)
"""`'high medium low'`: the priorities are stored as text, whose order (high, low, medium)
is no order of priority."""


class _priority_rank(FunctionElement[int]):  # noqa: N801 (a SQL function)
    """Where a priority starts in `PRIORITIES_HIGHEST_FIRST`, the list spelled into the SQL
    (see `_no_due_date`): `strpos(list, priority)` on PostgreSQL, `instr(...)` on SQLite."""

    type = Integer()
    inherit_cache = True


def _rank_arguments(element: _priority_rank, compiler: SQLCompiler, **kw: Any) -> str:
    priorities = compiler.render_literal_value(PRIORITIES_HIGHEST_FIRST, String())
    return f"{priorities}, {compiler.process(element.clauses, **kw)}"


@compiles(_priority_rank)
def _compile_priority_rank(element: _priority_rank, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({_rank_arguments(element, compiler, **kw)})"


@compiles(_priority_rank, "postgresql")
def _compile_priority_rank_postgresql(
    element: _priority_rank, compiler: SQLCompiler, **kw: Any
) -> str:
    return f"strpos({_rank_arguments(element, compiler, **kw)})"


PRIORITY_RANK: ColumnElement[int] = _priority_rank(col(Task.priority))
"""The priority sort key, highest first: high 1, medium 6, low 13 (the CHECK on `priority`
allows no other value). Not a `CASE`: PostgreSQL prints a `CASE` index expression back on
several lines, which the drift check cannot compare."""

_user_id, _category_id, _id = col(Task.user_id), col(Task.category_id), col(Task.id)
Index("ix_tasks_user_id_due_date_coalesce_id", _user_id, DUE_DATE_OR_NEVER, _id)
Index("ix_tasks_user_id_priority_rank_id", _user_id, PRIORITY_RANK, _id)
Index(
    "ix_tasks_user_id_category_id_due_date_coalesce_id",
    _user_id,
    _category_id,
    DUE_DATE_OR_NEVER,
    _id,
)
Index("ix_tasks_user_id_category_id_priority_rank_id", _user_id, _category_id, PRIORITY_RANK, _id)

TASK_SEARCH = SearchIndex("task", Task, {"title": "A", "description": "B"}, title="title")
"""Tasks are searched by title, above their description."""


@event.listens_for(Task.status, "set")
def _status_set(task: Task, value: TaskStatus, old: object, initiator: object) -> None:
    task._sync_completed_at(TaskStatus(value))

"""Reminders of a task: at a time (`remind_at`), or a number of minutes before the task is
due (`minutes_before_due`), several per task.

Each reminder stores when it fires (`fires_at`, UTC), so that the scheduler's read of every
user's reminders due in a window (`tasks.scheduler`) walks one index. A relative reminder
follows its task's due date: whenever a flush writes a new due date, by any ORM path
(`TaskRepository.update`, or a tracked task's attribute changed and committed), the
reminders of that task fire at the new date minus their minutes, and those already sent
fire again (a postponed task reminds again); without a due date they do not fire. An
absolute reminder keeps its time. Reminders go with their task (the foreign key cascades).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, event, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, UOWTransaction
from sqlmodel import Field, SQLModel, col

from tasktracker.db.base import Created, Schema, TenantModel
from tasktracker.db.constraints import field_check
from tasktracker.db.errors import ValidationError
from tasktracker.db.repository import TenantRepository, validated
from tasktracker.db.tenancy import TaskTrackerSession
from tasktracker.db.types import UTCDateTime
from tasktracker.tasks.models import Task

MAX_MINUTES_BEFORE_DUE = 366 * 24 * 60
"""A relative reminder is at most a year (a leap year) before the due date."""

MAX_REMINDERS_PER_TASK = 20
"""Reminders one task may have: a bound on what following a due date rewrites."""


class ReminderFields(SQLModel):
    """The fields a caller provides: exactly one of the two."""

    remind_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    minutes_before_due: int | None = Field(default=None, ge=0, le=MAX_MINUTES_BEFORE_DUE)


class TaskReminder(ReminderFields, Created, TenantModel, table=True):
    __tablename__ = "task_reminders"
    __table_args__ = (
        ForeignKeyConstraint(
            ["user_id", "task_id"], ["tasks.user_id", "tasks.id"], ondelete="CASCADE"
        ),
        field_check(
            "remind_at",
            text("(remind_at IS NULL) <> (minutes_before_due IS NULL)"),
            "one_kind",
            "give either remind_at or minutes_before_due",
        ),
        Index("ix_task_reminders_user_id_task_id", "user_id", "task_id"),
        # The scheduler's read (`tasks.scheduler.reminders_due`): unsent reminders in firing
        # order, across users; a sent one leaves the index.
        Index(
            "ix_task_reminders_fires_at_user_id_id",
            "fires_at",
            "user_id",
            "id",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
    )

    task_id: uuid.UUID
    fires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When it fires: `remind_at`, or the task's due date minus `minutes_before_due` (None
    while the task has no due date)."""
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When a scheduler marked it sent (`tasks.scheduler.mark_sent`); None until then."""


class ReminderCreate(ReminderFields, Schema):
    """A new reminder: `remind_at` (an aware time) or `minutes_before_due`."""


def fires_at(reminder: ReminderFields, due_date: datetime | None) -> datetime | None:
    """When a reminder fires for a task due at `due_date`."""
    if reminder.remind_at is not None:
        return reminder.remind_at
    if due_date is None or reminder.minutes_before_due is None:
        return None
    return due_date - timedelta(minutes=reminder.minutes_before_due)


class ReminderRepository(TenantRepository[TaskReminder]):
    model = TaskReminder

    def create(self, task_id: uuid.UUID, data: ReminderCreate | Mapping[str, Any]) -> TaskReminder:
        """A new reminder of one of the user's tasks."""
        data = validated(ReminderCreate, data)
        if (data.remind_at is None) == (data.minutes_before_due is None):
            raise ValidationError.single(
                "remind_at", "give either remind_at or minutes_before_due", model="TaskReminder"
            )
        task = self._task(task_id)
        if len(self.for_task(task.id)) >= MAX_REMINDERS_PER_TASK:
            raise ValidationError.single(
                "task_id", f"has {MAX_REMINDERS_PER_TASK} reminders already", model="TaskReminder"
            )
        reminder = TaskReminder(
            **data.model_dump(), task_id=task.id, fires_at=fires_at(data, task.due_date)
        )
        return self.add(reminder)

    def for_task(self, task_id: uuid.UUID) -> list[TaskReminder]:
        """A task's reminders, the first to fire first (those that cannot fire last)."""
        statement = (
            select(TaskReminder)
            .where(col(TaskReminder.task_id) == self.checked_id(task_id))
            .order_by(col(TaskReminder.fires_at).is_(None), col(TaskReminder.fires_at))
            .order_by(col(TaskReminder.id))
        )
        return list(self.session.scalars(statement))

    def _task(self, task_id: object) -> Task:
        if not isinstance(task_id, uuid.UUID):
            raise ValidationError.single("task_id", "must be a UUID", model="TaskReminder")
        task = self.session.get(Task, (self.user_id, task_id))
        if task is None:
            raise ValidationError.single("task_id", "no such task", model="TaskReminder")
        return task


def _due_date_changed(task: Task) -> bool:
    history = sa_inspect(task).attrs["due_date"].history
    return bool(history.added) and list(history.added) != list(history.deleted)


@event.listens_for(TaskTrackerSession, "before_flush")
def _follow_due_dates(session: Session, flush: UOWTransaction, instances: Any) -> None:
    """The relative reminders of every task whose due date this flush writes fire at the
    new date; loaded in the flush, so they are written with it (one transaction)."""
    moved = {
        (task.user_id, task.id): task.due_date
        for task in session.dirty
        if isinstance(task, Task) and _due_date_changed(task)
    }
    if not moved:
        return
    keys = list(moved)
    statement = select(TaskReminder).where(
        col(TaskReminder.minutes_before_due).is_not(None),
        col(TaskReminder.user_id).in_({user for user, _ in keys}),
        col(TaskReminder.task_id).in_({task for _, task in keys}),
    )
    for reminder in session.scalars(statement):
        key = (reminder.user_id, reminder.task_id)
        if key in moved:  # the IN lists allow other pairs of the same users and tasks
            reminder.fires_at = fires_at(reminder, moved[key])
            reminder.sent_at = None

"""What a reminder scheduler reads and writes: the one deliberately cross-user read of the
package, run unscoped, on purpose, in `db.session()`.

    with db.session() as session:
        due = reminders_due(session, start, end)
        for sent in mark_sent(session, due, utc_now()):
            ...  # send the reminder `sent` names
    # commit, then deliver

`reminders_due` walks the partial index of unsent reminders in firing order
(`ix_task_reminders_fires_at_user_id_id`), keyset-paged by `after`, joined with each
reminder's task by its key (co-located on Citus: one user's rows share a node, so every
shard answers for its own users). `mark_sent` is the exactly-once step: one UPDATE of
the given reminders that are still unsent, returning those it marked. Two schedulers
marking the same reminder at once both run it; the second waits for the first's row lock
(PostgreSQL), or for its write lock (SQLite), then finds the reminder sent and marks
nothing, so exactly one of them sends it. Deliver after the commit: a scheduler that dies
between the commit and the delivery loses that reminder (at most once); one that delivers
before committing may send twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, select, tuple_, update
from sqlalchemy.orm import Session
from sqlmodel import col

from tasktracker.db.errors import ScopeError, ValidationError
from tasktracker.db.tenancy import USER_ID
from tasktracker.db.types import StrEnumType
from tasktracker.tasks.models import Task, TaskStatus
from tasktracker.tasks.reminders import TaskReminder

MAX_BATCH = 10_000

_COMPLETED = bindparam(
    "completed", TaskStatus.COMPLETED, type_=StrEnumType(TaskStatus), literal_execute=True
)
"""Spelled into the SQL, not sent as a parameter: in PostgreSQL's generic plan of the
prepared statement (after five executions) a `status <> $1` of unknown selectivity made
the planner read every task first, 0.9 s over a million reminders instead of 2 ms."""


class DueReminder(NamedTuple):
    """A reminder to send, with what the notification says."""

    fires_at: datetime
    user_id: uuid.UUID
    id: uuid.UUID
    task_id: uuid.UUID
    title: str
    due_date: datetime | None

    @property
    def key(self) -> tuple[datetime, uuid.UUID, uuid.UUID]:
        """Where the next page starts (`reminders_due(..., after=...)`)."""
        return (self.fires_at, self.user_id, self.id)


def _unscoped(session: Session) -> None:
    if session.info.get(USER_ID) is not None:
        raise ScopeError("session", "reads every user's reminders: run it in db.session()")


def _aware(name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValidationError.single(name, "must be a datetime with a time zone")
    return value


def reminders_due(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    limit: int = 500,
    after: tuple[datetime, uuid.UUID, uuid.UUID] | None = None,
) -> list[DueReminder]:
    """Every user's unsent reminders firing in [start, end), of tasks not completed, in
    firing order; at most `limit`, from after the `key` of the last one read."""
    _unscoped(session)
    start, end = _aware("start", start), _aware("end", end)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_BATCH:
        raise ValidationError.single("limit", f"must be an integer from 1 to {MAX_BATCH}")
    fires = col(TaskReminder.fires_at)
    order = (fires, col(TaskReminder.user_id), col(TaskReminder.id))
    statement = (
        select(*order, col(Task.id), col(Task.title), col(Task.due_date))
        .join(
            Task,
            and_(
                col(Task.user_id) == col(TaskReminder.user_id),
                col(Task.id) == col(TaskReminder.task_id),
            ),
        )
        .where(col(TaskReminder.sent_at).is_(None), fires >= start, fires < end)
        .where(col(Task.status) != _COMPLETED)
        .order_by(*order)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(tuple_(*order) > tuple_(*after))
    return [DueReminder._make(row) for row in session.execute(statement)]


def mark_sent(
    session: Session, reminders: Iterable[DueReminder], now: datetime
) -> list[DueReminder]:
    """The given reminders this call marked sent at `now`: those no one marked before."""
    _unscoped(session)
    now = _aware("now", now)
    given = {(reminder.user_id, reminder.id): reminder for reminder in reminders}
    if not given:
        return []
    key = tuple_(col(TaskReminder.user_id), col(TaskReminder.id))
    statement = (
        update(TaskReminder)
        .where(key.in_(list(given)), col(TaskReminder.sent_at).is_(None))
        .values(sent_at=now)
        .returning(col(TaskReminder.user_id), col(TaskReminder.id))
        .execution_options(synchronize_session=False)
    )
    marked = {tuple(row) for row in session.execute(statement)}
    return [reminder for key_, reminder in given.items() if key_ in marked]

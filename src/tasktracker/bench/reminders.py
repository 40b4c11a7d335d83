"""The reminder scheduler's numbers: reading the reminders due in a window, and marking a
batch sent, over a table of a million reminders (by default) of many users.

    tasktracker bench-reminders --reminders 1000000

Users of their own (`reminders-bench-<n>@example.com`), ten reminders on each of their
tasks, firing every few seconds over 30 days, half of them sent, are loaded through the
bulk path and deleted at the end. Each timed call is one unscoped unit of work, as a
scheduler makes it; `mark_sent` marks reminders no earlier round marked.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete
from sqlmodel import col

from tasktracker.accounts.models import User
from tasktracker.bench.dataset import analyze
from tasktracker.bench.timing import Stats
from tasktracker.db.bulk import bulk_insert
from tasktracker.db.sessions import Database
from tasktracker.db.types import new_id
from tasktracker.tasks.models import Task
from tasktracker.tasks.reminders import TaskReminder
from tasktracker.tasks.scheduler import mark_sent, reminders_due

EMAIL = "reminders-bench-{}@example.com"
PER_TASK = 10
SPAN = timedelta(days=30)
START = datetime(2027, 1, 1, tzinfo=UTC)
WINDOW = timedelta(hours=1)
BATCH = 500


def _load(db: Database, users: int, reminders: int) -> list[uuid.UUID]:
    user_ids = [new_id() for _ in range(users)]
    per_user = max(PER_TASK, reminders // users)
    step = SPAN / (per_user * users)
    with db.session() as session:
        emails = [EMAIL.format(n) for n in range(users)]
        session.execute(delete(User).where(col(User.email).in_(emails)))
        connection = session.connection()
        bulk_insert(
            connection,
            User,
            (
                {"id": u, "email": e, "username": f"rbench_{n}", "password_hash": "x" * 20}
                for n, (u, e) in enumerate(zip(user_ids, emails, strict=True))
            ),
        )
        tasks = {u: [new_id() for _ in range(per_user // PER_TASK)] for u in user_ids}
        bulk_insert(
            connection,
            Task,
            ({"user_id": u, "id": t, "title": "remind me"} for u in user_ids for t in tasks[u]),
        )

        def rows() -> Iterator[dict[str, Any]]:
            for n in range(per_user * users):
                user = user_ids[n % users]
                fires = START + step * n
                yield {
                    "user_id": user,
                    "task_id": tasks[user][(n // users) % len(tasks[user])],
                    "remind_at": fires,
                    "fires_at": fires,
                    "sent_at": fires if n % 2 else None,
                }

        bulk_insert(connection, TaskReminder, rows())
    return user_ids


def run(engine: Engine, reminders: int, users: int, rounds: int) -> list[dict[str, Any]]:
    """The rows of the reminders benchmark (medians and p95 in ms)."""
    db = Database(engine)
    began = time.perf_counter()
    user_ids = _load(db, users, reminders)
    loaded = time.perf_counter() - began
    analyze(engine)

    def window(i: int) -> tuple[datetime, datetime]:
        start = START + (SPAN - WINDOW) * ((i * 7919) % rounds) / rounds
        return start, start + WINDOW

    found = {"due": 0, "marked": 0}

    def due(i: int) -> None:
        with db.session() as session:
            found["due"] += len(reminders_due(session, *window(i), limit=BATCH))

    def mark(i: int) -> None:
        with db.session() as session:
            batch = reminders_due(session, *window(i), limit=50)
            found["marked"] += len(mark_sent(session, batch, START))

    try:
        timed_due, timed_mark = Stats.timed(due, rounds), Stats.timed(mark, rounds)
        return [
            _row("load", reminders, loaded, rows_per_second=round(reminders / loaded)),
            _row("reminders_due_500", reminders, timed_due, rows=found["due"] / rounds),
            _row("read_and_mark_sent_50", reminders, timed_mark, rows=found["marked"] / rounds),
        ]
    finally:
        with db.session() as session:
            session.execute(delete(User).where(col(User.id).in_(user_ids)))


def _row(key: str, reminders: int, stats: Stats | float, **extra: Any) -> dict[str, Any]:
    if isinstance(stats, float):
        return {"key": key, "reminders": reminders, "seconds": round(stats, 2), **extra}
    return {
        "key": key,
        "reminders": reminders,
        "median_ms": round(stats.median * 1000, 3),
        "p95_ms": round(stats.p95 * 1000, 3),
        **extra,
    }

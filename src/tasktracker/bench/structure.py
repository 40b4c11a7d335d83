"""Subtasks' and labels' numbers: the tree of a task with 1,000 subtasks (one recursive
query), its progress roll-up and a page of its children; a page of tasks filtered by labels
(any of two, all of two, none) and the counts per label, over 10,000 tasks.

    tasktracker bench-structure --subtasks 1000 --tasks 10000

A user of its own (`structure-bench@example.com`) gets `tasks` tasks through the bulk path,
a tree of `subtasks` tasks below one of them (10 children, 10 below each, the rest below
those: four levels, within the default depth limit), five labels on a fifth,
a tenth ... of the tasks, and is deleted at the end. Each timed call is one unit of work,
as an application makes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete

from tasktracker.accounts.models import User
from tasktracker.bench.dataset import analyze
from tasktracker.bench.timing import Stats
from tasktracker.db.bulk import bulk_insert
from tasktracker.db.sessions import Database
from tasktracker.db.types import new_id
from tasktracker.tasks.label_repository import LabelRepository
from tasktracker.tasks.labels import Label, TaskLabel
from tasktracker.tasks.models import Task
from tasktracker.tasks.repository import TaskFilter, TaskRepository

BENCH_EMAIL = "structure-bench@example.com"
PAGE = 50
LABELS = 5


def _tree(user: uuid.UUID, root: uuid.UUID, size: int) -> Iterator[dict[str, Any]]:
    """`size` tasks below `root` in three levels: 10 children, 10 below each, and the rest
    spread over those 100 (four levels with the root, within the default limit of 5)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    links: list[tuple[uuid.UUID, uuid.UUID]] = []
    parents = [root]
    for fanout in (10, 10):
        level = [(new_id(), parent) for parent in parents for _ in range(fanout)]
        links += level[: size - len(links)]
        parents = [child for child, _ in level]
    links += [(new_id(), parents[n % len(parents)]) for n in range(size - len(links))]
    for n, (id, parent) in enumerate(links):
        status = "completed" if n % 3 == 0 else "pending"
        yield {
            "user_id": user,
            "id": id,
            "parent_id": parent,
            "title": f"subtask {n}",
            "status": status,
            "completed_at": start if status == "completed" else None,
            "created_at": start + timedelta(seconds=n),
        }


def _load(db: Database, tasks: int, subtasks: int) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    with db.session() as session:
        session.execute(delete(User).where(User.email == BENCH_EMAIL))  # type: ignore[arg-type]
        user = User(email=BENCH_EMAIL, username="structure_bench", password_hash="x" * 20)
        session.add(user)
        session.flush()
        start = datetime(2025, 1, 1, tzinfo=UTC)
        ids = [new_id() for _ in range(tasks)]
        connection = session.connection()
        bulk_insert(
            connection,
            Task,
            (
                {"user_id": user.id, "id": id, "title": f"task {n}", "created_at": start}
                for n, id in enumerate(ids)
            ),
        )
        root = ids[0]
        bulk_insert(connection, Task, _tree(user.id, root, subtasks))
        labels = [new_id() for _ in range(LABELS)]
        bulk_insert(
            connection,
            Label,
            ({"user_id": user.id, "id": id, "name": f"label {n}"} for n, id in enumerate(labels)),
        )
        # Label k is on every (k + 5)th task: a fifth, a sixth, ... of them.
        bulk_insert(
            connection,
            TaskLabel,
            (
                {"user_id": user.id, "task_id": task, "label_id": label}
                for k, label in enumerate(labels)
                for task in ids[:: k + 5]
            ),
        )
    return user.id, root, labels


def run(engine: Engine, tasks: int, subtasks: int, rounds: int = 50) -> list[dict[str, Any]]:
    """The rows of the structure benchmark (medians and p95 in ms)."""
    db = Database(engine)
    user, root, labels = _load(db, tasks, subtasks)
    analyze(engine)  # planner statistics of the loaded rows, as the main benchmark does
    backend = engine.dialect.name

    # Each call takes the round number, as `Stats.timed` gives it (unused here).
    def unit(call: Callable[[TaskRepository], object]) -> Callable[[int], object]:
        def timed(_: int) -> object:
            with db.user_scope(user, read_only=True) as session:
                return call(TaskRepository(session))

        return timed

    def counts(_: int) -> object:
        with db.user_scope(user, read_only=True) as session:
            return LabelRepository(session).counts()

    calls: dict[str, Callable[[int], object]] = {
        "tree": unit(lambda t: t.tree(root)),
        "progress": unit(lambda t: t.progress([root])[root].total),
        "children_page": unit(lambda t: t.children(root, limit=PAGE)),
        "labels_any_page": unit(
            lambda t: t.read_page(TaskFilter(labels_any=labels[:2]), limit=PAGE)
        ),
        "labels_all_page": unit(
            lambda t: t.read_page(TaskFilter(labels_all=labels[:2]), limit=PAGE)
        ),
        "unlabelled_page": unit(lambda t: t.read_page(TaskFilter(labelled=False), limit=PAGE)),
        "labels_any_count": unit(lambda t: t.count(TaskFilter(labels_any=labels[:2]))),
        "label_counts": counts,
    }
    rows = []
    try:
        for key, call in calls.items():
            result = call(0)
            # How many rows the call returns (a count: its value; progress: the subtasks).
            found = result if isinstance(result, int) else len(result)  # type: ignore[arg-type]
            stats = Stats.timed(call, rounds)
            rows.append(
                {
                    "key": key,
                    "backend": backend,
                    "tasks": tasks,
                    "subtasks": subtasks,
                    "median_ms": round(stats.median * 1000, 3),
                    "p95_ms": round(stats.p95 * 1000, 3),
                    "rows": found,
                }
            )
    finally:
        with db.session() as session:
            session.execute(delete(User).where(User.id == user))  # type: ignore[arg-type]
    return rows

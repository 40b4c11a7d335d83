"""What each `TaskSort` promises, computed here from a task's stored values.

Written independently of the repository's orderings (plain Python keys), so a walk through
a listing can be compared with it: ids break every tie, tasks without a due date come
after every due date (with the tasks due at `NO_DUE_DATE` itself, by id), and priorities
go high, medium, low.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tasktracker.tasks.models import NO_DUE_DATE, TaskPriority
from tasktracker.tasks.repository import TaskSort

_RANK = {TaskPriority.HIGH: 0, TaskPriority.MEDIUM: 1, TaskPriority.LOW: 2}

EXPECTED_ORDER: dict[TaskSort, tuple[Callable[[Any], tuple[Any, ...]], bool]] = {
    TaskSort.NEWEST: (lambda t: (t.created_at, t.id), True),
    TaskSort.OLDEST: (lambda t: (t.created_at, t.id), False),
    TaskSort.RECENTLY_UPDATED: (lambda t: (t.updated_at, t.id), True),
    TaskSort.DUE_SOONEST: (lambda t: (t.due_date or NO_DUE_DATE, t.id), False),
    TaskSort.TITLE: (lambda t: (t.title, t.id), False),
    TaskSort.PRIORITY: (lambda t: (_RANK[t.priority], t.id), False),
}
"""Per sort: the key of a task (anything with the task's attributes) and whether the order
is descending."""
assert set(EXPECTED_ORDER) == set(TaskSort), "every sort states its order here"


def in_order(tasks: list[Any], sort: TaskSort) -> list[Any]:
    key, descending = EXPECTED_ORDER[sort]
    return sorted(tasks, key=key, reverse=descending)

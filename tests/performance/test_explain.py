"""Every benchmarked read uses an index: no table is read in full.

The statements are the ones the public API really sends (captured from the connection while
the repository call runs in a user scope), explained on the same connection with the same
parameters, on an analysed data set in which each user owns a small part of every table.
The planner keeps its defaults (`enable_seqscan` stays on). Keyset pages must also come
straight out of an index in order: no sort step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tasktracker.chat.repository import ConversationRepository
from tasktracker.tasks.models import TaskStatus
from tasktracker.tasks.repository import TaskFilter, TaskRepository
from tasktracker.testspec.repositories.specifications import (
    LOAD_STATEMENTS,
    TestSpecificationRepository,
)
from tasktracker.testspec.services.resolution import READ_RESOLVED_STATEMENTS
from tests.performance.conftest import Plan, Workload, captured, explain, queries

OPEN = TaskFilter(status=[TaskStatus.PENDING, TaskStatus.IN_PROGRESS])


@dataclass(frozen=True)
class Case:
    call: Callable[[Workload], object]
    statements: int
    """How many statements the call sends (a change here is a change of access path)."""
    unsorted: bool = False
    """The rows must come in index order, with no sort step (keyset pages)."""


def _page_of_open_tasks(w: Workload) -> object:
    with w.db.user_scope(w.user_ids[3]) as session:
        return TaskRepository(session).list(OPEN, limit=50)


def _get_task(w: Workload) -> object:
    user = w.user_ids[3]
    with w.db.user_scope(user) as session:
        return TaskRepository(session).get(w.task_ids[user][0])


def _keyset_page(w: Workload) -> object:
    with w.db.user_scope(w.user_ids[3]) as session:
        tasks = TaskRepository(session)
        cursor = tasks.list(limit=30).next_cursor
        return tasks.list(limit=20, cursor=cursor)


def _counts_by_status(w: Workload) -> object:
    with w.db.user_scope(w.user_ids[3]) as session:
        return TaskRepository(session).counts_by_status()


def _latest_messages(w: Workload) -> object:
    user = w.user_ids[3]
    with w.db.user_scope(user) as session:
        return ConversationRepository(session).latest_messages(w.long_conversation[user])


def _read_page_of_open_tasks(w: Workload) -> object:
    with w.db.user_scope(w.user_ids[3], read_only=True) as session:
        return TaskRepository(session).read_page(OPEN, limit=50)


def _read_task(w: Workload) -> object:
    user = w.user_ids[3]
    with w.db.user_scope(user, read_only=True) as session:
        return TaskRepository(session).read(w.task_ids[user][0])


def _read_keyset_page(w: Workload) -> object:
    with w.db.user_scope(w.user_ids[3], read_only=True) as session:
        tasks = TaskRepository(session)
        cursor = tasks.read_page(limit=30).next_cursor
        assert cursor is not None
        return tasks.read_page(limit=20, cursor=cursor)


def _read_latest_messages(w: Workload) -> object:
    user = w.user_ids[3]
    with w.db.user_scope(user, read_only=True) as session:
        page = ConversationRepository(session).read_latest_messages(w.long_conversation[user])
        assert page.items, "a non-empty page is one statement; an empty one checks the owner"
        return page


def _specification(w: Workload) -> object:
    user = w.user_ids[3]
    with w.db.user_scope(user) as session:
        return TestSpecificationRepository(session).load(w.specification[user])


def _read_resolved_specification(w: Workload) -> object:
    user = w.user_ids[3]
    with w.db.user_scope(user, read_only=True) as session:
        resolved = TestSpecificationRepository(session).read_resolved(w.specification[user])
        assert any(step.arguments for step in resolved.steps), "steps with commands were read"
        return resolved


CASES = {
    "page_open_tasks": Case(_page_of_open_tasks, 1),
    "get_task": Case(_get_task, 1),
    "keyset_page": Case(_keyset_page, 2, unsorted=True),
    "counts_by_status": Case(_counts_by_status, 1),
    "latest_messages": Case(_latest_messages, 1, unsorted=True),
    "specification": Case(_specification, LOAD_STATEMENTS),
    # The compiled fast path (db/fastpath/): its own SQL, held to the same standard.
    "read_page_open_tasks": Case(_read_page_of_open_tasks, 1),
    "read_task": Case(_read_task, 1),
    "read_keyset_page": Case(_read_keyset_page, 2, unsorted=True),
    "read_latest_messages": Case(_read_latest_messages, 1, unsorted=True),
    "read_resolved_specification": Case(_read_resolved_specification, READ_RESOLVED_STATEMENTS),
}


def _plans(workload: Workload, case: Case) -> list[Plan]:
    with captured(workload.connection) as statements:
        case.call(workload)
    sent = queries(statements)
    assert len(sent) == case.statements, [sql for sql, _ in sent]
    return [explain(workload.connection, sql, parameters) for sql, parameters in sent]


@pytest.mark.parametrize("name", CASES)
def test_each_statement_searches_an_index(workload: Workload, name: str) -> None:
    for plan in _plans(workload, CASES[name]):
        assert plan.sequential_scans == [], f"{plan.statement}\n{plan.text}"
        assert plan.index_lookups, f"{plan.statement}\n{plan.text}"


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case.unsorted])
def test_keyset_pages_come_out_of_the_index_in_order(workload: Workload, name: str) -> None:
    plan = _plans(workload, CASES[name])[-1]
    assert plan.sorts == 0, f"{plan.statement}\n{plan.text}"


def test_a_full_scan_would_be_seen(workload: Workload) -> None:
    """The check can fail: a filter on an unindexed column is reported as a full scan."""
    sql = "SELECT id FROM tasks WHERE description = 'nothing'"
    plan = explain(workload.connection, sql, {} if workload.backend == "postgresql" else ())
    assert plan.sequential_scans == ["tasks"]

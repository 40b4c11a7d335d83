"""Every benchmarked read and every listing uses an index: no table is read in full.

The statements are the ones the public API really sends (captured from the connection while
the repository call runs in a user scope), explained on the same connection with the same
parameters, on an analysed data set in which each user owns a small part of every table.
The planner keeps its defaults (`enable_seqscan` stays on). Listings must also come straight
out of an index in order, with no sort step: every task sort with each common filter, its
first page and a page after a cursor, on both read paths (on PostgreSQL also as a generic
plan, which a statement prepared by the driver gets after five executions), and every
listing of the other domains. On Citus (the suite's Citus run) every one of them must also
be routed to the one shard that holds the user's rows (`Task Count: 1`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from sqlmodel import col

from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.pagination import Page
from tasktracker.db.search import SearchIndex
from tasktracker.db.search.index import regconfig
from tasktracker.db.settings import get_settings
from tasktracker.db.types import new_id
from tasktracker.tasks.label_repository import LabelRepository
from tasktracker.tasks.models import Category, Task, TaskStatus
from tasktracker.tasks.repository import CategoryRepository, TaskFilter, TaskRepository, TaskSort
from tasktracker.testspec.enums import RequirementKind, RequirementStatus, SpecificationStatus
from tasktracker.testspec.models import (
    Baseline,
    TestExecution,
    TestRun,
    TestSpecificationVersion,
)
from tasktracker.testspec.repositories.categories import (
    CommandCategoryRepository,
    ParameterCategoryRepository,
)
from tasktracker.testspec.repositories.commands import GenericCommandRepository
from tasktracker.testspec.repositories.parameters import ParameterRepository, VariantRepository
from tasktracker.testspec.repositories.requirements import RequirementRepository
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.repositories.whole import LOAD_STATEMENTS
from tasktracker.testspec.services.coverage import CoverageService
from tasktracker.testspec.services.resolution import READ_RESOLVED_STATEMENTS
from tasktracker.testspec.services.traceability import TraceabilityService
from tasktracker.units.search import EVERY_INDEX, SearchService
from tests.performance.conftest import (
    Plan,
    Workload,
    captured,
    explain,
    explain_generic,
    explain_unscanned,
    explain_unsorted,
    explain_unsorted_unscanned,
    queries,
)

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


def _plans(workload: Workload, case: Case) -> list[tuple[Plan, tuple[str, Any]]]:
    """Each statement the call sends, explained, with the statement."""
    with captured(workload.connection) as statements:
        case.call(workload)
    sent = queries(statements)
    assert len(sent) == case.statements, [sql for sql, _ in sent]
    return [
        (explain(workload.connection, sql, parameters), (sql, parameters))
        for sql, parameters in sent
    ]


def _searched(workload: Workload, plan: Plan, sql: str, parameters: Any) -> Plan:
    """`plan`, or on Citus, where it reads a small shard in full, the plan without full
    scans (`explain_unscanned`), which must then search an index instead."""
    if plan.shard_tasks and plan.sequential_scans:
        return explain_unscanned(workload.connection, sql, parameters)
    return plan


@pytest.mark.parametrize("name", CASES)
def test_each_statement_searches_an_index(workload: Workload, name: str) -> None:
    for planned, (sql, parameters) in _plans(workload, CASES[name]):
        assert planned.single_shard, f"{planned.statement}\n{planned.text}"
        plan = _searched(workload, planned, sql, parameters)
        assert plan.sequential_scans == [], f"{plan.statement}\n{plan.text}"
        assert plan.index_lookups, f"{plan.statement}\n{plan.text}"


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case.unsorted])
def test_keyset_pages_come_out_of_the_index_in_order(workload: Workload, name: str) -> None:
    plan, _ = _plans(workload, CASES[name])[-1]
    assert plan.sorts == 0, f"{plan.statement}\n{plan.text}"


def test_a_full_scan_would_be_seen(workload: Workload) -> None:
    """The check can fail: a filter on an unindexed column is reported as a full scan."""
    sql = "SELECT id FROM tasks WHERE description = 'nothing'"
    plan = explain(workload.connection, sql, {} if workload.backend == "postgresql" else ())
    assert plan.sequential_scans == ["tasks"]
    if plan.shard_tasks:  # on Citus: no user_id, so every shard is asked
        assert not plan.single_shard, plan.text


# --- Listings: rows straight out of an index, in order, first page and after a cursor. ---

PAGE = 3
"""Small enough that every filtered listing of the user has a second page."""

TASK_FILTERS: dict[str, Callable[[uuid.UUID], TaskFilter | None]] = {
    "none": lambda _: None,
    "open": lambda _: OPEN,
    "category": lambda category: TaskFilter(category_id=category),
    "overdue": lambda _: TaskFilter(overdue=True),
}


def _plans_as_run(workload: Workload, sql: str, parameters: Any) -> list[Plan]:
    """The statement's plan with its parameters, and on PostgreSQL also its generic plan
    (not on Citus: forced to a generic plan, it cannot plan the listings with a subquery,
    "could not create distributed plan"; docs/citus.md)."""
    plans = [explain(workload.connection, sql, parameters)]
    if workload.backend == "postgresql" and not plans[0].shard_tasks:
        plans.append(explain_generic(workload.connection, sql, parameters))
    return plans


def _a_category(workload: Workload, user: uuid.UUID) -> uuid.UUID:
    statement = select(col(Category.id)).where(col(Category.user_id) == user)
    return workload.connection.execute(statement.order_by(col(Category.name)).limit(1)).scalar_one()


@pytest.mark.parametrize("path", ["orm", "fast"])
@pytest.mark.parametrize("page", ["first", "keyset"])
@pytest.mark.parametrize("filter_name", TASK_FILTERS)
@pytest.mark.parametrize("sort", list(TaskSort))
def test_every_task_listing_comes_out_of_an_index_in_order(
    workload: Workload, sort: TaskSort, filter_name: str, page: str, path: str
) -> None:
    user = workload.user_ids[3]
    task_filter = TASK_FILTERS[filter_name](_a_category(workload, user))
    with (
        captured(workload.connection) as statements,
        workload.db.user_scope(user, read_only=path == "fast") as session,
    ):
        tasks = TaskRepository(session)
        read = tasks.read_page if path == "fast" else tasks.list
        cursor = read(task_filter, sort=sort, limit=PAGE).next_cursor
        if page == "keyset":
            assert cursor is not None, "the listing has a second page"
            read(task_filter, sort=sort, limit=PAGE, cursor=cursor)
    sent = queries(statements)
    assert len(sent) == (2 if page == "keyset" else 1), [sql for sql, _ in sent]
    plans = _plans_as_run(workload, *sent[-1])
    for plan in plans:
        assert plan.sequential_scans == [], f"{plan.statement}\n{plan.text}"
        assert plan.single_shard, f"{plan.statement}\n{plan.text}"
        assert any("tasks" in lookup for lookup in plan.index_lookups), plan.text
        assert plan.sorts == 0, f"{plan.statement}\n{plan.text}"
    if page == "keyset":
        # The page after the cursor seeks the index to it, not reading it from the start.
        first = explain(workload.connection, *sent[0])
        for plan in plans:
            assert plan.ranges > first.ranges, f"{plan.statement}\n{plan.text}"


Listing = Callable[[Workload, Session], object]


def _page_after_the_first(read: Callable[[str | None], Page[Any]]) -> object:
    cursor = read(None).next_cursor
    assert cursor is not None, "the listing has a second page"
    return read(cursor)


def _conversation(w: Workload) -> uuid.UUID:
    return w.long_conversation[w.user_ids[3]]


LISTINGS: dict[str, tuple[Listing, bool]] = {
    # name: (the calls, whether only the last statement is the listing's)
    "categories": (lambda w, s: CategoryRepository(s).list(limit=2), False),
    "categories_keyset": (
        lambda w, s: _page_after_the_first(lambda c: CategoryRepository(s).list(limit=2, cursor=c)),
        True,
    ),
    "conversations": (lambda w, s: ConversationRepository(s).list(limit=1), False),
    "conversations_keyset": (
        lambda w, s: _page_after_the_first(
            lambda c: ConversationRepository(s).list(limit=1, cursor=c)
        ),
        True,
    ),
    "messages": (lambda w, s: ConversationRepository(s).messages(_conversation(w)), False),
    "message_page": (
        lambda w, s: ConversationRepository(s).message_page(_conversation(w), limit=10),
        False,
    ),
    "message_page_keyset": (
        lambda w, s: _page_after_the_first(
            lambda c: ConversationRepository(s).message_page(_conversation(w), limit=10, cursor=c)
        ),
        True,
    ),
    "latest_messages_keyset": (
        lambda w, s: _page_after_the_first(
            lambda c: ConversationRepository(s).latest_messages(
                _conversation(w), limit=10, cursor=c
            )
        ),
        True,
    ),
    "read_latest_messages_keyset": (
        lambda w, s: _page_after_the_first(
            lambda c: ConversationRepository(s).read_latest_messages(
                _conversation(w), limit=10, cursor=c
            )
        ),
        True,
    ),
    "requirements": (lambda w, s: RequirementRepository(s).list(), False),
    "requirements_of_a_kind_and_status": (
        lambda w, s: RequirementRepository(s).list(
            kinds=list(RequirementKind), statuses=[RequirementStatus.APPROVED]
        ),
        False,
    ),
    "requirement_children": (
        lambda w, s: RequirementRepository(s).children(
            RequirementRepository(s).get_by_key("REQ-001").id
        ),
        True,
    ),
    "uncovered_requirements": (lambda w, s: TraceabilityService(s).uncovered_requirements(), False),
    "specifications": (lambda w, s: TestSpecificationRepository(s).list(), False),
    "specifications_by_status": (
        lambda w, s: TestSpecificationRepository(s).list(statuses=[SpecificationStatus.APPROVED]),
        False,
    ),
    "parameters": (lambda w, s: ParameterRepository(s).list(), False),
    "variants_of_a_parameter": (
        lambda w, s: VariantRepository(s).list_for(ParameterRepository(s).list()[0].id),
        True,
    ),
    "commands": (lambda w, s: GenericCommandRepository(s).list(), False),
    "active_commands": (lambda w, s: GenericCommandRepository(s).list(active_only=True), False),
    "command_categories": (lambda w, s: CommandCategoryRepository(s).list(), False),
    "parameter_categories": (lambda w, s: ParameterCategoryRepository(s).list(), False),
}


@pytest.mark.parametrize("name", LISTINGS)
def test_every_other_listing_comes_out_of_an_index_in_order(workload: Workload, name: str) -> None:
    """As planned: an index, no table read in full. In order: no sort step as planned on
    SQLite; on PostgreSQL, which rightly sorts the few rows a user has here (two
    conversations, five requirements...), none with sorting disabled, so an index yields
    the order (the message listings, of sixty rows, are sort-free as planned)."""
    call, last_only = LISTINGS[name]
    with (
        captured(workload.connection) as statements,
        workload.db.user_scope(workload.user_ids[3]) as session,
    ):
        assert call(workload, session), "the listing is not empty"
    sent = queries(statements)
    for sql, parameters in sent[-1:] if last_only else sent:
        plans = _plans_as_run(workload, sql, parameters)
        for planned in plans:
            assert planned.single_shard, f"{planned.statement}\n{planned.text}"
            plan = _searched(workload, planned, sql, parameters)
            assert plan.sequential_scans == [], f"{plan.statement}\n{plan.text}"
            assert plan.index_lookups, f"{plan.statement}\n{plan.text}"
        if workload.backend == "postgresql":
            plans = [explain_unsorted(workload.connection, sql, parameters)]
            if name.startswith(("message", "latest", "read_latest")):
                plans.append(explain(workload.connection, sql, parameters))
        for plan in plans:
            assert plan.sorts == 0, f"{plan.statement}\n{plan.text}"


# --- Search: the GIN index (PostgreSQL) or the FTS5 table's index (SQLite), never a scan. ---

SEARCHES: dict[str, tuple[Callable[[Session], Page[Any]], tuple[str, ...]]] = {
    "tasks": (lambda s: TaskRepository(s).search("zyzzyva"), ("tasks",)),
    "open tasks": (lambda s: TaskRepository(s).search("zyzzyva", OPEN), ("tasks",)),
    "tasks as typed": (lambda s: TaskRepository(s).search("zyzz", prefix=True), ("tasks",)),
    "messages": (lambda s: ConversationRepository(s).search_messages("zyzzyva"), ("messages",)),
    "requirements": (lambda s: RequirementRepository(s).search("zyzzyva"), ("requirements",)),
    "specifications": (
        lambda s: TestSpecificationRepository(s).search("zyzzyva"),
        ("test_specifications", "test_steps"),
    ),
    "everything": (
        lambda s: SearchService(s).everything("zyzzyva"),
        ("tasks", "messages", "requirements", "test_specifications", "test_steps"),
    ),
}
"""A word no row holds but the one task added: the plan must find it through an index."""

GIN_PLANNED = {"tasks", "tasks as typed", "everything"}
"""Where PostgreSQL 15 plans the GIN index for the tasks here (500 a user). For the user's
few messages, requirements and specifications, and the open tasks, it rightly reads the
user's rows by a key index and checks each, and so does PostgreSQL 16 for these 500 tasks
(`test_queries_spell_the_indexed_document` shows the GIN index serves those queries too,
where the rows are many). On Citus a shard's planner weighs the same query with the shard's
statistics (a few users' rows, sampled by the worker's own ANALYZE) and may choose either: there
the index lookup is required, not which index."""


@pytest.mark.parametrize("name", SEARCHES)
def test_search_uses_the_text_index(workload: Workload, name: str) -> None:
    call, tables = SEARCHES[name]
    user = workload.user_ids[3]
    with workload.db.user_scope(user) as session:  # once: the workload is the module's
        if not TaskRepository(session).search("zyzzyva").items:
            TaskRepository(session).create({"title": "zyzzyva", "description": "a rare word"})
    with captured(workload.connection) as statements, workload.db.user_scope(user) as session:
        found = call(session)
    assert len(found.items) == (1 if "tasks" in tables else 0)
    sql, parameters = queries(statements)[0]  # the page (the snippets: the page's rows)
    for plan in _plans_as_run(workload, sql, parameters):
        if workload.backend == "postgresql":
            assert plan.sequential_scans == [], plan.text
            assert plan.index_lookups, plan.text
            single_node = not plan.shard_tasks
            if name in GIN_PLANNED and single_node and _server_major(workload) == 15:
                assert "Bitmap Index Scan ix_tasks_search" in plan.index_lookups, plan.text
        else:
            assert sorted(plan.sequential_scans) == sorted(f"{t}_search" for t in tables)
            for table in tables:
                assert f"SCAN {table}_search VIRTUAL TABLE INDEX 0:M" in plan.text, plan.text


def _server_major(workload: Workload) -> int:
    return int(workload.connection.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000


@pytest.mark.parametrize("index", EVERY_INDEX, ids=lambda index: index.kind)
def test_queries_spell_the_indexed_document(workload: Workload, index: SearchIndex) -> None:
    """PostgreSQL uses an expression index only for a query that spells its expression: the
    searches' document (`SearchIndex.document`), over every user's rows, is found by it."""
    if workload.backend != "postgresql":
        pytest.skip("SQLite searches the FTS5 table, which has no other way in")
    config = get_settings().search_config
    query = func.to_tsquery(regconfig(config), "zyzzyva")
    statement = select(index.column("id")).where(index.document(config).bool_op("@@")(query))
    compiled = statement.compile(workload.connection, compile_kwargs={"literal_binds": True})
    plan = explain(workload.connection, str(compiled), {})
    assert f"Bitmap Index Scan ix_{index.table}_search" in plan.index_lookups, plan.text


# --- Coverage that knows results: one statement, every table read through an index. ---


@dataclass(frozen=True)
class Runs:
    workload: Workload
    run: dict[Any, uuid.UUID]
    baseline: dict[Any, uuid.UUID]


@pytest.fixture(scope="module")
def runs(workload: Workload) -> Runs:
    """The seed gives every user a run with an execution of each specification (pinned to
    its version) and a baseline; here each user gets two later runs of them too (one
    failed, one not run), written by Core into the workload's transaction (rolled back
    with it), then analysed: the latest result is one of several per specification."""
    connection, now = workload.connection, datetime(2030, 1, 1, tzinfo=UTC)
    versions = connection.execute(
        select(
            TestSpecificationVersion.user_id,
            TestSpecificationVersion.test_specification_id,
            TestSpecificationVersion.id,
        )
    ).all()
    run_ids: dict[tuple[Any, int], uuid.UUID] = {}
    executions = []
    for user, spec, version in versions:
        for index, status in enumerate(("failed", "not_run")):
            run = run_ids.setdefault((user, index), new_id())
            executions.append(
                {"user_id": user, "id": new_id(), "run_id": run, "test_specification_id": spec,
                 "specification_version_id": version, "status": status, "combination": "",
                 "created_at": now + timedelta(minutes=index), "updated_at": now}
            )  # fmt: skip
    connection.execute(
        TestRun.__table__.insert(),
        [
            {"user_id": user, "id": run, "name": f"later {index}", "status": "done",
             "created_at": now, "updated_at": now}
            for (user, index), run in run_ids.items()
        ],
    )  # fmt: skip
    connection.execute(TestExecution.__table__.insert(), executions)
    connection.execute(text("ANALYZE"))
    seeded = {
        user: run
        for user, run in connection.execute(
            select(TestRun.user_id, TestRun.id).where(col(TestRun.name) == "seed run")
        )
    }
    baselines = dict(connection.execute(select(Baseline.user_id, Baseline.id)).all())
    return Runs(workload, seeded, baselines)


COVERAGE: dict[str, Callable[[Runs, Any], dict[str, Any]]] = {
    "all runs": lambda r, user: {},
    "one run": lambda r, user: {"run_id": r.run[user]},
    "baseline": lambda r, user: {"baseline_id": r.baseline[user]},
}


@pytest.mark.parametrize("name", COVERAGE)
def test_coverage_is_one_statement_through_indexes(runs: Runs, name: str) -> None:
    workload, user = runs.workload, runs.workload.user_ids[3]
    with captured(workload.connection) as statements, workload.db.user_scope(user) as session:
        report = CoverageService(session).report(**COVERAGE[name](runs, user))
    assert report.requirements, "the user's requirements were read"
    assert any(r.executed for r in report.requirements), "their results were read"
    sent = queries(statements)
    assert len(sent) == 1, [sql for sql, _ in sent]
    for sql, parameters in sent:
        planned = explain(workload.connection, sql, parameters)
        assert planned.single_shard, f"{planned.statement}\n{planned.text}"
        plan = _searched(workload, planned, sql, parameters)
        assert plan.sequential_scans == [], f"{plan.statement}\n{plan.text}"
        assert plan.index_lookups, f"{plan.statement}\n{plan.text}"


# --- Subtasks and labels (issue 22): the tree, progress, the label filters and counts. ---


@dataclass(frozen=True)
class Structure:
    root: uuid.UUID
    labels: tuple[uuid.UUID, uuid.UUID]


TREE_ROOT = "explain: the root of a tree"
_STRUCTURES: dict[int, Structure] = {}


def _structure(w: Workload) -> Structure:
    """Once per workload: a three-level tree of 40 subtasks, and two labels on a fifth and
    a tenth of the user's tasks (a few on both), the link tables analysed."""
    made = _STRUCTURES.get(id(w.connection))
    if made is not None:
        return made
    user = w.user_ids[3]
    with w.db.user_scope(user) as session:
        tasks, labels = TaskRepository(session), LabelRepository(session)
        root = tasks.create_row({"title": TREE_ROOT}).id
        for i in range(8):
            child = tasks.create_row({"title": f"child {i}", "parent_id": root}).id
            for j in range(4):
                tasks.create_row({"title": f"leaf {i}.{j}", "parent_id": child})
        red = labels.create({"name": "red"}).id
        blue = labels.create({"name": "blue"}).id
        every = select(col(Task.id)).where(col(Task.user_id) == user).order_by(col(Task.id))
        for n, task in enumerate(w.connection.execute(every).scalars()):
            if n % 5 == 0:
                labels.attach(task, [red])
            if n % 10 == 3 or n % 20 == 0:
                labels.attach(task, [blue])
    w.connection.execute(text("ANALYZE task_labels"))
    w.connection.execute(text("ANALYZE labels"))
    made = _STRUCTURES[id(w.connection)] = Structure(root, (red, blue))
    return made


STRUCTURE_CALLS: dict[str, tuple[Callable[[Session, Structure], object], tuple[str, ...]]] = {
    # name: (the call, an index each plan must search)
    "tree": (
        lambda s, st: TaskRepository(s).tree(st.root),
        ("ix_tasks_user_id_parent_id_created_at_id",),
    ),
    "progress": (
        lambda s, st: TaskRepository(s).progress([st.root]),
        ("ix_tasks_user_id_parent_id_created_at_id",),
    ),
    "children": (
        lambda s, st: TaskRepository(s).children(st.root, limit=PAGE),
        ("ix_tasks_user_id_parent_id_created_at_id",),
    ),
    "labels_any": (
        lambda s, st: TaskRepository(s).read_page(
            TaskFilter(labels_any=[st.labels[0]]), limit=PAGE
        ),
        ("task_labels",),
    ),
    "labels_all": (
        lambda s, st: TaskRepository(s).read_page(
            TaskFilter(labels_all=list(st.labels)), limit=PAGE
        ),
        ("task_labels",),
    ),
    "labels_any_keyset": (
        lambda s, st: _page_after_the_first(
            lambda c: TaskRepository(s).read_page(
                TaskFilter(labels_any=list(st.labels)), limit=PAGE, cursor=c
            )
        ),
        ("task_labels",),
    ),
    "unlabelled": (
        lambda s, st: TaskRepository(s).list(TaskFilter(labelled=False), limit=PAGE),
        ("task_labels",),
    ),
    "label_counts": (
        lambda s, st: LabelRepository(s).counts(),
        ("ix_task_labels_user_id_label_id_task_id",),
    ),
}


CTES = ("subtree", "below")
"""The recursive queries' own rows (SQLite reports reading them as `SCAN <cte>`)."""


def _uses(plan: Plan, name: str) -> bool:
    return any(name in lookup for lookup in plan.index_lookups)


@pytest.mark.parametrize("name", STRUCTURE_CALLS)
def test_subtasks_and_labels_search_their_indexes(workload: Workload, name: str) -> None:
    """Each statement searches indexes only (no table read in full, on Citus routed to the
    user's shard), the link tables' or the parent index among them; the listings with a
    label filter, and a task's children, come out of the tasks' index in order."""
    structure = _structure(workload)
    call, wanted = STRUCTURE_CALLS[name]
    with (
        captured(workload.connection) as statements,
        workload.db.user_scope(workload.user_ids[3]) as session,
    ):
        assert call(session, structure), "the call finds something"
    sql, parameters = queries(statements)[-1]
    for planned in _plans_as_run(workload, sql, parameters):
        assert planned.single_shard, f"{planned.statement}\n{planned.text}"
        plan = planned
        if plan.sequential_scans and workload.backend == "postgresql":
            # The labels and links here are one user's few hundred rows, which PostgreSQL
            # rightly reads in full: with full scans off, indexes must serve them.
            plan = explain_unscanned(workload.connection, sql, parameters)
        scanned = [table for table in plan.sequential_scans if table not in CTES]
        assert scanned == [], f"{plan.statement}\n{plan.text}"
        for index in wanted:
            assert _uses(plan, index), f"{index}\n{plan.statement}\n{plan.text}"
    if name.startswith(("labels", "unlabelled", "children")):
        # As the other listings: PostgreSQL may rightly sort a few hundred rows; with
        # sorting (and full scans of the small link table) disabled an index must yield
        # the order.
        unsorted = explain(workload.connection, sql, parameters)
        if workload.backend == "postgresql":
            unsorted = explain_unsorted_unscanned(workload.connection, sql, parameters)
        assert unsorted.sorts == 0, f"{unsorted.statement}\n{unsorted.text}"

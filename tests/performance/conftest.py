"""A small analysed data set, and the SQL the project's repositories really send.

The data set (the benchmark's own: the seeder plus a long conversation and a long
specification per user, through the bulk path) is loaded once per backend into an outer
transaction that is rolled back at the end of the module; the planner statistics are
refreshed inside it (`ANALYZE` is transactional on SQLite; on PostgreSQL the statistics
rows roll back with it), from every row on PostgreSQL: a random sample's statistics, and so
the plans chosen where two costs are close, differed from run to run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg.sql
import pytest
from sqlalchemy import Connection, Engine, event, text

from tasktracker.bench.dataset import DatasetSpec, add_workload, read_fixture
from tasktracker.db.sessions import Database
from tasktracker.seeding.volume import load as seed

SPEC = DatasetSpec(users=200, tasks_per_user=500, long_messages=60, spec_steps=20, seed=7)
"""200 users: each one's rows are a small fraction of every table, as in production, and even
the tables with a handful of rows per user (commands, parameters) span enough pages that a
full scan is not the cheapest way to find one user's rows."""


@dataclass
class Workload:
    db: Database
    connection: Connection
    backend: str
    user_ids: list[Any]
    task_ids: dict[Any, list[Any]]
    long_conversation: dict[Any, Any]
    specification: dict[Any, Any]


@pytest.fixture(scope="module")
def workload(engine: Engine, password_hash: str) -> Iterator[Workload]:
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            seed(connection, SPEC.plan(), password_hash=password_hash)
            add_workload(connection, SPEC)
            if engine.dialect.name == "postgresql":
                # Statistics of every row, not of a random sample (300 x the target rows):
                # the same data, the same plans, run after run.
                connection.execute(text("SET LOCAL default_statistics_target = 10000"))
            connection.execute(text("ANALYZE"))
            fixture = read_fixture(connection, SPEC.seed, tasks_per_user=5)
            yield Workload(
                Database(connection),
                connection,
                engine.dialect.name,
                fixture.user_ids,
                fixture.task_ids,
                fixture.long_conversation,
                fixture.specification,
            )
        finally:
            transaction.rollback()


@contextmanager
def captured(connection: Connection) -> Iterator[list[tuple[str, Any]]]:
    """Every statement (with its parameters) sent on `connection` inside the block."""
    statements: list[tuple[str, Any]] = []

    def capture(
        conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if not many:
            statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", capture)


def queries(statements: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The reads and writes among captured statements (no SAVEPOINT/RELEASE/BEGIN)."""
    verbs = ("SELECT", "UPDATE", "DELETE", "WITH")
    return [(sql, p) for sql, p in statements if sql.lstrip().upper().startswith(verbs)]


@dataclass
class Plan:
    """The plan of one statement, reduced to what the checks need."""

    statement: str
    text: str
    sequential_scans: list[str]
    """Tables read in full (PostgreSQL `Seq Scan`, SQLite `SCAN <table>`)."""
    index_lookups: list[str]
    """Index searches (PostgreSQL index/bitmap scans, SQLite `SEARCH ... USING ...`)."""
    sorts: int
    """Explicit sorts (PostgreSQL `Sort`, SQLite `USE TEMP B-TREE FOR ORDER BY`)."""
    index_conditions: list[str]
    """What the index searches are bounded by (PostgreSQL `Index Cond`, SQLite the
    parenthesised part of `SEARCH ... USING ... (user_id=? AND ...)`)."""
    shard_tasks: list[int] = field(default_factory=list)
    """On Citus, the `Task Count` of each distributed query in the plan: 1 when Citus routes
    it to the one shard that holds the user's rows. Empty off Citus."""

    @property
    def single_shard(self) -> bool:
        """Routed to one shard (or not distributed at all): every `Task Count` is 1."""
        return all(count == 1 for count in self.shard_tasks)

    @property
    def ranges(self) -> int:
        """How many range bounds (`<`, `>`, `<=`, `>=`, row comparisons) the searches seek by."""
        return sum(
            condition.count("<") + condition.count(">") for condition in self.index_conditions
        )


def explain(connection: Connection, statement: str, parameters: Any) -> Plan:
    if connection.dialect.name == "postgresql":
        return _explain_postgres(connection, statement, parameters)
    return _explain_sqlite(connection, statement, parameters)


def _explain_postgres(connection: Connection, statement: str, parameters: Any) -> Plan:
    raw = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar()
    document = raw if isinstance(raw, list) else json.loads(str(raw))
    nodes = list(_nodes(document[0]["Plan"]))
    return Plan(
        statement,
        json.dumps(document, indent=1),
        [_SHARD_ID.sub("", n["Relation Name"]) for n in nodes if n["Node Type"] == "Seq Scan"],
        [
            f"{n['Node Type']} {_SHARD_ID.sub('', n['Index Name'])}"
            for n in nodes
            if "Index Name" in n
        ],
        sum(1 for n in nodes if n["Node Type"] in {"Sort", "Incremental Sort"}),
        [n["Index Cond"] for n in nodes if "Index Cond" in n],
        [n["Distributed Query"]["Job"]["Task Count"] for n in nodes if "Distributed Query" in n],
    )


_SHARD_ID = re.compile(r"_\d{6,}$")
"""Citus names a shard's tables and indexes after the shard's id (`tasks_102012`)."""


_PARAMETER = re.compile(r"%\((\w+)\)s")


def explain_generic(connection: Connection, statement: str, parameters: Any) -> Plan:
    """PostgreSQL: the generic plan of the statement, the one a statement the driver has
    prepared may get after five executions, in which a parameter's value is unknown.

    The statement is prepared with `plan_cache_mode = force_generic_plan` set in a
    savepoint of the test's transaction (rolled back: nothing leaks into the session, let
    alone the server), and executed with the parameters spelled as literals."""
    assert isinstance(parameters, dict), "psycopg's named parameters"
    names: list[str] = []

    def numbered(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    body = _PARAMETER.sub(numbered, statement).replace("%%", "%")
    driver = connection.connection.driver_connection
    arguments = ", ".join(psycopg.sql.Literal(parameters[n]).as_string(driver) for n in names)
    savepoint = connection.begin_nested()
    try:
        connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        connection.exec_driver_sql(f"PREPARE tasktracker_generic AS {body}")
        plan = _explain_postgres(connection, f"EXECUTE tasktracker_generic({arguments})", None)
        return replace(plan, statement=f"{statement} -- as a generic plan")
    finally:
        savepoint.rollback()
        # PREPARE is not transactional: what the rollback left (a failed EXPLAIN) goes.
        left = "SELECT 1 FROM pg_prepared_statements WHERE name = 'tasktracker_generic'"
        if connection.exec_driver_sql(left).first() is not None:
            connection.exec_driver_sql("DEALLOCATE tasktracker_generic")


def explain_unsorted(connection: Connection, statement: str, parameters: Any) -> Plan:
    """PostgreSQL: the plan with sorting disabled (`enable_sort = off`, in a savepoint of
    the test's transaction): it has no sort step exactly when an index yields the order.

    For the listings of which each user has only a handful of rows (conversations,
    requirements...), sorting them is the planner's right choice; this shows that an index
    would give the order once the listing grows."""
    return _explain_with(connection, statement, parameters, "enable_sort")


def explain_unscanned(connection: Connection, statement: str, parameters: Any) -> Plan:
    """PostgreSQL: the plan with full scans disabled (`enable_seqscan = off`): on Citus, a
    shard holds a quarter of the data set, and for the tables of a few rows per user
    (categories, commands) a full scan of such a small shard is the planner's right choice;
    this shows that an index would serve the user's rows once the shard grows."""
    return _explain_with(connection, statement, parameters, "enable_seqscan")


def explain_unsorted_unscanned(connection: Connection, statement: str, parameters: Any) -> Plan:
    """PostgreSQL: the plan with both sorting and full scans disabled: for a listing joined
    to a table of a few rows per user (the task labels here), an index yields the order and
    serves the small table too."""
    return _explain_with(connection, statement, parameters, "enable_sort", "enable_seqscan")


def _explain_with(connection: Connection, statement: str, parameters: Any, *off: str) -> Plan:
    savepoint = connection.begin_nested()
    try:
        # Citus sends a SET LOCAL on to the shards' connections only when told to (inert
        # without Citus).
        connection.exec_driver_sql("SET LOCAL citus.propagate_set_commands = 'local'")
        for setting in off:
            connection.exec_driver_sql(f"SET LOCAL {setting} = off")
        plan = _explain_postgres(connection, statement, parameters)
        return replace(plan, statement=f"{statement} -- with {', '.join(off)} = off")
    finally:
        savepoint.rollback()


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of a plan; on Citus also of the plans each shard runs (`Distributed
    Query` → `Job` → `Tasks` → `Remote Plan`) and of the subplans it runs first."""
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)
    distributed = node.get("Distributed Query", {})
    for subplan in distributed.get("Subplans", []):
        for planned in subplan.get("PlannedStmt", []):
            yield from _nodes(planned["Plan"])
    for task in distributed.get("Job", {}).get("Tasks", []):
        for remote in task.get("Remote Plan", []):
            for document in remote:
                yield from _nodes(document["Plan"])


def _explain_sqlite(connection: Connection, statement: str, parameters: Any) -> Plan:
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    details = [str(row[-1]) for row in rows]
    searches = [d for d in details if d.startswith("SEARCH ") and " USING " in d]
    return Plan(
        statement,
        "\n".join(details),
        [d.split()[1] for d in details if d.startswith("SCAN ") and "CONSTANT ROW" not in d],
        searches,
        sum(1 for d in details if "TEMP B-TREE" in d and "ORDER BY" in d),
        [d[d.index("(") :] for d in searches if "(" in d],
    )


Call = Callable[[Workload], object]

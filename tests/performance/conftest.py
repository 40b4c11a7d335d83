"""A small analysed data set, and the SQL the project's repositories really send.

The data set (the benchmark's own: the seeder plus a long conversation and a long
specification per user, through the bulk path) is loaded once per backend into an outer
transaction that is rolled back at the end of the module; the planner statistics are
refreshed inside it (`ANALYZE` is transactional on SQLite; on PostgreSQL the statistics
rows roll back with it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, text

from tasktracker.bench.dataset import DatasetSpec, add_workload, read_fixture
from tasktracker.db.sessions import Database
from tasktracker.seeding.volume import load as seed

SPEC = DatasetSpec(users=200, tasks_per_user=60, long_messages=60, spec_steps=20, seed=7)
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
        [n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"],
        [f"{n['Node Type']} {n['Index Name']}" for n in nodes if "Index Name" in n],
        sum(1 for n in nodes if n["Node Type"] in {"Sort", "Incremental Sort"}),
    )


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _explain_sqlite(connection: Connection, statement: str, parameters: Any) -> Plan:
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    details = [str(row[-1]) for row in rows]
    return Plan(
        statement,
        "\n".join(details),
        [d.split()[1] for d in details if d.startswith("SCAN ") and "CONSTANT ROW" not in d],
        [d for d in details if d.startswith("SEARCH ") and " USING " in d],
        sum(1 for d in details if "TEMP B-TREE" in d and "ORDER BY" in d),
    )


Call = Callable[[Workload], object]

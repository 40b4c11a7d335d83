"""Where a read's time goes, layer by layer: the same page of 50 open tasks fetched by
variants that add one layer at a time, timed round-robin in one run.

1. raw, autocommit: one round trip (the baseline of the main table);
2. raw in a transaction: BEGIN, SELECT, COMMIT (three round trips);
3. raw, a ping first, then the transaction: what a pre-pinged checkout adds (four);
4. SQLAlchemy Core on a pooled engine connection (`engine.begin()`), explicit user filter;
5. an ORM session in the user's read-only scope selecting columns: rows, no objects;
6. the same rows turned into `TaskRead` schemas (what a read-only caller needs);
7. the public API in a read-only scope: `TaskRepository.list`, identity-mapped `Task`s;
8. the same in the default scope (a transaction: BEGIN/COMMIT on PostgreSQL);
9. the fast path in a read-only scope: `TaskRepository.read_page`, `TaskRow` read rows
   from a statement compiled once (`tasktracker.db.fastpath`).

Each step's extra over the previous one is what that layer costs; variants 5 and 6 show
what skipping identity-mapped objects alone saves, variant 9 what the compiled path saves.
Every timed call follows an untimed call of the same variant for the same user, so each
layer is timed on warm caches (SQLite's page cache is per connection, and the variants do
not share connections).
"""

from __future__ import annotations

import gc
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from tasktracker.bench.operations import OPEN, Bench, ids
from tasktracker.bench.raw import OPEN_STATUSES, PAGE
from tasktracker.bench.timing import Stats
from tasktracker.tasks.models import Task, TaskStatus
from tasktracker.tasks.repository import TaskRepository
from tasktracker.tasks.schemas import TaskRead

_OPEN = (TaskStatus.PENDING, TaskStatus.IN_PROGRESS)


@dataclass
class Layer:
    name: str
    stats: Stats
    cpu_median: float

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "cpu_median": round(self.cpu_median * 1000, 4)} | (
            self.stats.as_dict()
        )


def _columns() -> list[Any]:
    return [getattr(Task, column.key) for column in Task.__table__.columns]  # type: ignore[attr-defined]


def variants(bench: Bench) -> dict[str, Callable[[uuid.UUID], object]]:
    raw, driver = bench.raw, bench.driver
    connection = bench.read_connection
    tasks = Task.__table__  # type: ignore[attr-defined]
    columns = _columns()
    core = (
        select(tasks)
        .where(tasks.c.status.in_([s.value for s in _OPEN]))
        .order_by(tasks.c.created_at.desc(), tasks.c.id.desc())
        .limit(PAGE + 1)
    )
    ping = "SELECT 1"

    def raw_transaction(user_id: uuid.UUID) -> object:
        with raw.transaction(connection):
            params = (driver.uuid(user_id), *OPEN_STATUSES)
            return connection.execute(raw.page_open, params).fetchall()

    def raw_ping_transaction(user_id: uuid.UUID) -> object:
        connection.execute(ping).fetchall()
        return raw_transaction(user_id)

    def sqlalchemy_core(user_id: uuid.UUID) -> object:
        with bench.engine.begin() as c:
            return c.execute(core.where(tasks.c.user_id == user_id)).all()

    def orm_rows(user_id: uuid.UUID) -> list[Any]:
        statement = (
            select(*columns)
            .where(col(Task.status).in_(_OPEN))
            .order_by(col(Task.created_at).desc(), col(Task.id).desc())
            .limit(PAGE + 1)
        )
        with bench.db.user_scope(user_id, read_only=True) as session:
            return list(session.execute(statement).all()[:PAGE])

    def orm_rows_as_schemas(user_id: uuid.UUID) -> object:
        return [TaskRead.model_validate(row._mapping) for row in orm_rows(user_id)]

    def api(user_id: uuid.UUID) -> object:
        with bench.db.user_scope(user_id, read_only=True) as session:
            return TaskRepository(session).list(OPEN, limit=PAGE)

    def api_in_transaction(user_id: uuid.UUID) -> object:
        with bench.db.user_scope(user_id) as session:
            return TaskRepository(session).list(OPEN, limit=PAGE)

    def fast_path(user_id: uuid.UUID) -> object:
        with bench.db.user_scope(user_id, read_only=True) as session:
            return TaskRepository(session).read_page(OPEN, limit=PAGE)

    return {
        "1 raw, autocommit (1 round trip)": lambda u: raw.page_of_open_tasks(connection, u),
        "2 raw, BEGIN/SELECT/COMMIT (3)": raw_transaction,
        "3 raw, ping + BEGIN/SELECT/COMMIT (4)": raw_ping_transaction,
        "4 SQLAlchemy Core, engine.begin()": sqlalchemy_core,
        "5 ORM session, read-only scope, rows": orm_rows,
        "6 ... rows as TaskRead schemas": orm_rows_as_schemas,
        "7 API: TaskRepository.list, read-only": api,
        "8 API: the same in a transaction": api_in_transaction,
        "9 API: TaskRepository.read_page, read-only": fast_path,
    }


def measure(bench: Bench, *, rounds: int = 500, seconds: float = 20.0) -> list[Layer]:
    """Time every variant round-robin (order reversed every other round) on the same users,
    after checking that they all return the same tasks."""
    timed = variants(bench)
    names = list(timed)
    expected = ids(timed[names[0]](bench.user(0)))
    for name in names[1:]:
        if ids(timed[name](bench.user(0)))[:PAGE] != expected[:PAGE]:
            raise AssertionError(f"anatomy variant {name!r} returns other rows")
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for i in range(20):
        for name in names:
            timed[name](bench.user(i))
    gc.collect()
    deadline = time.perf_counter() + seconds
    for i in range(rounds):
        user_id = bench.user(i)
        for name in names if i % 2 == 0 else names[::-1]:
            timed[name](user_id)
            c0, t0 = time.process_time(), time.perf_counter()
            timed[name](user_id)
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
        if time.perf_counter() >= deadline:
            break
    return [Layer(name, Stats.of(wall[name]), statistics.median(cpu[name])) for name in names]

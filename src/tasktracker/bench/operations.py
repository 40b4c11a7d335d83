"""The benchmarked operations, each a pair: the project's public API and the raw driver.

Every project call is what an application does: open a unit of work for the user, call
the repository, let the unit of work commit and close. Reads use the read-only unit
(`user_scope(..., read_only=True)`: no BEGIN/COMMIT), as the raw side reads in autocommit
(the specification: four statements on both sides); the insert runs in a transaction on
both sides. Before timing, each read pair is run once on the same parameters and must
return the same rows (same ids, same order), so the two sides are known to do the same
work.
"""

from __future__ import annotations

import asyncio
import queue
import random
import statistics
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg_pool
from sqlalchemy import Engine

from tasktracker.bench import concurrency
from tasktracker.bench.dataset import Fixture
from tasktracker.bench.raw import RawDriver, RawQueries
from tasktracker.bench.timing import Budget, Stats, interleaved
from tasktracker.chat.repository import ConversationRepository
from tasktracker.db.bulk import bulk_insert
from tasktracker.db.engines import create_engine
from tasktracker.db.pagination import Page
from tasktracker.db.sessions import AsyncDatabase, Database, run
from tasktracker.db.settings import Settings
from tasktracker.tasks.models import Task, TaskStatus
from tasktracker.tasks.repository import TaskFilter, TaskRepository
from tasktracker.tasks.schemas import TaskRow
from tasktracker.testspec.repositories.specifications import TestSpecificationRepository
from tasktracker.testspec.services.resolution import ResolvedSpecification

OPEN = TaskFilter(status=[TaskStatus.PENDING, TaskStatus.IN_PROGRESS])
PAGE = 50
BULK_ROWS = 10_000
INSERT_TITLE = "bench insert"
SINK_EMAIL = "sink@bench-sink.invalid"
USER_SCOPED_P95_MS = 5.0


@dataclass
class Op:
    """One benchmarked operation: both sides, their parameters, and what counts as equal."""

    key: str
    title: str
    project: Callable[[Any], object]
    raw: Callable[[Any], object]
    params: Callable[[int], Any]
    same: Callable[[Any, Any], bool] | None = None
    target: float | None = None
    scoped_read: bool = True
    budget: Budget | None = None
    after: Callable[[], None] | None = None
    rows_per_call: int | None = None
    """Set for bulk loads: the result is reported as rows per second."""


@dataclass
class Result:
    key: str
    title: str
    kind: str
    """"latency" (ratio = project median / raw median), "throughput" (ratio = project
    throughput / raw throughput) or "comparison" (A / B, both raw)."""
    project: dict[str, Any]
    raw: dict[str, Any]
    ratio: float
    target: str | None = None
    met: bool | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "kind": self.kind,
            "project": self.project,
            "raw": self.raw,
            "ratio": round(self.ratio, 3),
            "target": self.target,
            "met": self.met,
            "notes": self.notes,
        }


def ids(rows: Any) -> list[uuid.UUID]:
    """Ids of project objects or of raw rows (the id is the second column)."""
    if isinstance(rows, Page):
        rows = rows.items
    if not isinstance(rows, list):
        rows = [rows]
    return [
        row.id if hasattr(row, "id") else uuid.UUID(str(row[1]).replace("-", "")) for row in rows
    ]


def _same_ids(project: Any, raw: Any) -> bool:
    return ids(project) == ids(raw)


def _same_counts(project: dict[Any, int], raw: dict[str, int]) -> bool:
    return {str(k): v for k, v in project.items() if v} == raw


class Bench:
    """Everything one benchmark run needs: engines, raw connections, ids, parameters."""

    def __init__(
        self,
        settings: Settings,
        fixture: Fixture,
        *,
        tasks_per_user: int,
        spec_steps: int = 50,
        depth: int = 9_000,
        bulk_rows: int = BULK_ROWS,
        budget: Budget | None = None,
    ) -> None:
        # Slow statements are expected under load here; logging each one would only add noise
        # to the output (the listener that times every statement still runs).
        settings = settings.model_copy(update={"database_slow_query_ms": 600_000})
        self.settings = settings
        self.fixture = fixture
        self.budget = budget or Budget()
        self.bulk_rows = bulk_rows
        self.db = Database.from_settings(settings)
        self.engine: Engine = self.db.engine
        self.driver = RawDriver(settings.url)
        self.raw = RawQueries(self.driver)
        self.read_connection = self.driver.connect()
        self.write_connection = self.driver.connect()
        self.depth = max(1, min(depth, tasks_per_user - 2 * PAGE))
        self.spec_steps = spec_steps
        rng = random.Random(7)  # noqa: S311 - not crypto
        self.users = fixture.user_ids
        self.tasks = [(u, t) for u in self.users for t in fixture.task_ids[u]]
        rng.shuffle(self.tasks)
        self._cursors: list[tuple[uuid.UUID, str, tuple[datetime, uuid.UUID]]] = []

    def close(self) -> None:
        self.read_connection.close()
        self.write_connection.close()
        self.db.dispose()

    def user(self, i: int) -> uuid.UUID:
        return self.users[i % len(self.users)]

    # The operations.

    def operations(self) -> list[Op]:
        is_pg = self.driver.is_postgres
        return [
            self._page_of_open_tasks(),
            self._get_by_id(target=2.0 if is_pg else None),
            self._keyset_page(target=2.0 if is_pg else None),
            self._counts_by_status(),
            self._insert(target=1.5 if is_pg else None),
            self._latest_messages(target=2.0 if is_pg else None),
            self._specification(),
            self._bulk_load(target=0.8 if is_pg else None),
        ]

    def _page_of_open_tasks(self) -> Op:
        def project(user_id: uuid.UUID) -> Page[TaskRow]:
            with self.db.user_scope(user_id, read_only=True) as session:
                return TaskRepository(session).read_page(OPEN, limit=PAGE)

        return Op(
            "page_open_tasks",
            f"page of {PAGE} newest open tasks",
            project,
            lambda u: self.raw.page_of_open_tasks(self.read_connection, u),
            self.user,
            _same_ids,
            target=2.0,
        )

    def _get_by_id(self, target: float | None) -> Op:
        def project(p: tuple[uuid.UUID, uuid.UUID]) -> TaskRow:
            with self.db.user_scope(p[0], read_only=True) as session:
                return TaskRepository(session).read(p[1])

        return Op(
            "get_task",
            "get a task by id",
            project,
            lambda p: self.raw.task(self.read_connection, *p),
            lambda i: self.tasks[i % len(self.tasks)],
            _same_ids,
            target=target,
        )

    def _keyset_page(self, target: float | None) -> Op:
        cursors = self.cursors()

        def project(p: tuple[uuid.UUID, str, Any]) -> Page[TaskRow]:
            with self.db.user_scope(p[0], read_only=True) as session:
                return TaskRepository(session).read_page(limit=PAGE, cursor=p[1])

        return Op(
            "keyset_page",
            f"keyset page at depth {self.depth:,}",
            project,
            lambda p: self.raw.page_after(self.read_connection, p[0], *p[2]),
            lambda i: cursors[i % len(cursors)],
            _same_ids,
            target=target,
        )

    def cursors(self, users: int = 10) -> list[tuple[uuid.UUID, str, tuple[datetime, uuid.UUID]]]:
        """For a few users: the API's cursor after `depth` tasks (newest first), reached by
        paging through the public API, and the raw side's (created_at, id) of that row."""
        if self._cursors:
            return self._cursors
        for user_id in self.users[:users]:
            cursor: str | None = None
            seen = 0
            with self.db.user_scope(user_id, read_only=True) as session:
                repository = TaskRepository(session)
                while seen < self.depth:
                    page = repository.list(limit=min(500, self.depth - seen), cursor=cursor)
                    seen += len(page)
                    cursor = page.next_cursor
            assert cursor is not None
            key = self.raw.sort_key_at(self.read_connection, user_id, self.depth - 1)
            self._cursors.append((user_id, cursor, key))
        return self._cursors

    def _counts_by_status(self) -> Op:
        def project(user_id: uuid.UUID) -> dict[TaskStatus, int]:
            with self.db.user_scope(user_id, read_only=True) as session:
                return TaskRepository(session).counts_by_status()

        return Op(
            "counts_by_status",
            "counts by status",
            project,
            lambda u: self.raw.counts_by_status(self.read_connection, u),
            self.user,
            _same_counts,
        )

    def _insert(self, target: float | None) -> Op:
        def project(p: tuple[uuid.UUID, str]) -> TaskRow:
            with self.db.user_scope(p[0]) as session:
                return TaskRepository(session).create_row({"title": p[1]})

        return Op(
            "insert_task",
            "insert one task and commit",
            project,
            lambda p: self.raw.insert_task(self.write_connection, *p),
            lambda i: (self.user(i), f"{INSERT_TITLE} {i}"),
            target=target,
            scoped_read=False,
        )

    def remove_inserted(self) -> int:
        """Delete the tasks the insert benchmark made (the data set stays as loaded)."""
        statement = self.driver.sql("DELETE FROM tasks WHERE title LIKE ?")
        cursor = self.write_connection.execute(statement, (f"{INSERT_TITLE} %",))
        return int(cursor.rowcount)

    def _latest_messages(self, target: float | None) -> Op:
        conversations = [(u, self.fixture.long_conversation[u]) for u in self.users]

        def project(p: tuple[uuid.UUID, uuid.UUID]) -> Page[Any]:
            with self.db.user_scope(p[0], read_only=True) as session:
                return ConversationRepository(session).read_latest_messages(p[1], limit=PAGE)

        return Op(
            "latest_messages",
            f"latest {PAGE} messages of a conversation",
            project,
            lambda p: self.raw.latest_messages_of(self.read_connection, *p),
            lambda i: conversations[i % len(conversations)],
            _same_ids,
            target=target,
        )

    def _specification(self) -> Op:
        specifications = [(u, self.fixture.specification[u]) for u in self.users]

        def project(p: tuple[uuid.UUID, uuid.UUID]) -> ResolvedSpecification:
            with self.db.user_scope(p[0], read_only=True) as session:
                return TestSpecificationRepository(session).read_resolved(p[1])

        def same(project: ResolvedSpecification, raw: list[tuple[int, str | None]]) -> bool:
            return [(step.position, step.invocation) for step in project.steps] == raw

        return Op(
            "specification",
            f"{self.spec_steps}-step specification with commands and arguments",
            project,
            lambda p: self.raw.specification(self.read_connection, *p),
            lambda i: specifications[i % len(specifications)],
            same,
        )

    def _bulk_load(self, target: float | None) -> Op:
        sink = self._sink_user()
        template = [
            {
                "user_id": sink,
                "title": f"bulk task {n}",
                "description": "loaded in bulk" if n % 3 == 0 else None,
                "status": "pending",
                "priority": ("low", "medium", "high")[n % 3],
            }
            for n in range(self.bulk_rows)
        ]

        def project(rows: list[dict[str, Any]]) -> int:
            with self.engine.begin() as connection:
                return bulk_insert(connection, Task, rows)

        def empty_sink() -> None:
            statement = self.driver.sql("DELETE FROM tasks WHERE user_id = ?")
            self.write_connection.execute(statement, (self.driver.uuid(sink),))

        return Op(
            "bulk_load",
            f"bulk load of {self.bulk_rows:,} tasks",
            project,
            lambda rows: self.raw.bulk_tasks(self.write_connection, rows),
            lambda i: [dict(row) for row in template],
            target=target,
            scoped_read=False,
            budget=Budget(
                warmup=min(1, self.budget.warmup),
                rounds=min(5, self.budget.rounds),
                seconds=min(60.0, self.budget.seconds * 8),
            ),
            after=empty_sink,
            rows_per_call=self.bulk_rows,
        )

    def _sink_user(self) -> uuid.UUID:
        """A user outside the data set that receives the bulk loads (emptied after each)."""
        d = self.driver
        existing = self.write_connection.execute(
            d.sql("SELECT id FROM users WHERE email = ?"), (SINK_EMAIL,)
        ).fetchone()
        if existing is not None:
            return uuid.UUID(str(existing[0]).replace("-", ""))
        user_id = uuid.uuid4()
        now = d.time(datetime.now(UTC))
        self.write_connection.execute(
            d.sql(
                "INSERT INTO users (id, email, username, password_hash, is_active, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            ),
            (d.uuid(user_id), SINK_EMAIL, "bench_sink", "-", True, now, now),
        )
        return user_id

    def remove_sink(self) -> None:
        self.write_connection.execute(
            self.driver.sql("DELETE FROM users WHERE email = ?"), (SINK_EMAIL,)
        )

    # Measuring.

    def measure(self, op: Op) -> Result:
        notes: list[str] = []
        if op.same is not None:
            first = op.params(0)
            project_result, raw_result = op.project(first), op.raw(op.params(0))
            if not op.same(project_result, raw_result):
                notes.append("MISMATCH: project and raw returned different rows")
        samples = interleaved(
            op.project, op.raw, op.params, op.budget or self.budget, after=op.after
        )
        project, raw = Stats.of(samples.project), Stats.of(samples.raw)
        cpu = {
            "project_cpu_median": round(statistics.median(samples.project_cpu) * 1000, 4),
            "raw_cpu_median": round(statistics.median(samples.raw_cpu) * 1000, 4),
        }
        if op.rows_per_call:
            project_rate = op.rows_per_call / project.median
            raw_rate = op.rows_per_call / raw.median
            ratio = project_rate / raw_rate
            met = None if op.target is None else ratio >= op.target
            return Result(
                op.key,
                op.title,
                "throughput",
                {
                    "rows_per_second": round(project_rate),
                    "cpu_median": cpu["project_cpu_median"],
                    **project.as_dict(),
                },
                {
                    "rows_per_second": round(raw_rate),
                    "cpu_median": cpu["raw_cpu_median"],
                    **raw.as_dict(),
                },
                ratio,
                None if op.target is None else f">= {op.target}x",
                met,
                notes,
            )
        ratio = project.median / raw.median
        met = None if op.target is None else ratio <= op.target
        if op.scoped_read and self.driver.is_postgres and project.p95 * 1000 >= USER_SCOPED_P95_MS:
            notes.append(f"project p95 {project.p95 * 1000:.2f} ms >= {USER_SCOPED_P95_MS} ms")
        return Result(
            op.key,
            op.title,
            "latency",
            {"cpu_median": cpu["project_cpu_median"], **project.as_dict()},
            {"cpu_median": cpu["raw_cpu_median"], **raw.as_dict()},
            ratio,
            None if op.target is None else f"<= {op.target}x",
            met,
            notes,
        )

    def offset_versus_keyset(self) -> Result:
        """Raw OFFSET paging to `depth` against a raw keyset page at the same depth."""
        cursors = self.cursors()
        connection = self.read_connection
        samples = interleaved(
            lambda p: self.raw.page_at_offset(connection, p[0], self.depth),
            lambda p: self.raw.page_after(connection, p[0], *p[2]),
            lambda i: cursors[i % len(cursors)],
            Budget(warmup=5, rounds=min(self.budget.rounds, 200), seconds=self.budget.seconds),
        )
        offset, keyset = Stats.of(samples.project), Stats.of(samples.raw)
        return Result(
            "offset_vs_keyset",
            f"OFFSET {self.depth:,} vs keyset page (both raw)",
            "comparison",
            offset.as_dict(),
            keyset.as_dict(),
            offset.median / keyset.median,
            notes=["project column: OFFSET; raw column: keyset"],
        )

    # Concurrency.

    def concurrent(self, workers: int, mode: str, seconds: float, pool_size: int = 20) -> Result:
        """`workers` threads or asyncio tasks over a pool of `pool_size`, both sides, each
        worker reading pages of open tasks; rounds interleaved raw, project, raw, project."""
        settings = self.settings.model_copy(
            update={"database_pool_size": pool_size, "database_max_overflow": 0}
        )
        rounds = 2
        if mode == "threads":
            project, raw = self._thread_rounds(settings, workers, seconds, rounds, pool_size)
        else:
            project, raw = asyncio.run(
                self._async_rounds(settings, workers, seconds, rounds, pool_size)
            )
        ratio = project.throughput / raw.throughput if raw.throughput else float("nan")
        errors = sum(project.errors.values())
        notes = [f"{name}: {n}" for name, n in (project.errors + raw.errors).items()]
        if project.hung or raw.hung:
            notes.append(f"HUNG (project: {project.hung}, raw: {raw.hung})")
        is_pg = self.driver.is_postgres
        if not is_pg:
            notes.append("project: SQLAlchemy's default SQLite pool (pool settings are PG-only)")
        if workers <= pool_size:
            target = ">= 0.4x, 0 errors" if is_pg else None
            met = (ratio >= 0.4 and errors == 0 and not project.hung) if is_pg else None
        else:
            target = "0 errors, no hang" if is_pg else None
            met = (errors == 0 and not project.hung) if is_pg else None
        return Result(
            f"{mode}_{workers}",
            f"{workers} {mode} workers, pool {pool_size}",
            "throughput",
            _round_summary(project),
            _round_summary(raw),
            ratio,
            target,
            met,
            notes,
        )

    def _thread_rounds(
        self, settings: Settings, workers: int, seconds: float, rounds: int, pool_size: int
    ) -> tuple[concurrency.Round, concurrency.Round]:
        db = Database(create_engine(settings))
        raw_pool = _RawThreadPool(self.driver, pool_size)

        def project(worker: int, i: int) -> object:
            with db.user_scope(self.user(worker * 7919 + i), read_only=True) as session:
                return TaskRepository(session).read_page(OPEN, limit=PAGE)

        def raw(worker: int, i: int) -> object:
            with raw_pool.connection() as connection:
                return self.raw.page_of_open_tasks(connection, self.user(worker * 7919 + i))

        try:
            concurrency.run_threads(project, workers, min(1.0, seconds))
            concurrency.run_threads(raw, workers, min(1.0, seconds))
            project_total, raw_total = concurrency.Round(), concurrency.Round()
            for _ in range(rounds):
                raw_total.add(concurrency.run_threads(raw, workers, seconds))
                project_total.add(concurrency.run_threads(project, workers, seconds))
            return project_total, raw_total
        finally:
            raw_pool.close()
            db.dispose()

    async def _async_rounds(
        self, settings: Settings, workers: int, seconds: float, rounds: int, pool_size: int
    ) -> tuple[concurrency.Round, concurrency.Round]:
        adb = AsyncDatabase.from_settings(settings)
        raw_pool = await _RawAsyncPool.open(self.driver, pool_size)

        def page(session: Any) -> Page[TaskRow]:
            return TaskRepository(session).read_page(OPEN, limit=PAGE)

        async def project(worker: int, i: int) -> object:
            async with adb.user_scope(self.user(worker * 7919 + i), read_only=True) as session:
                return await run(session, page)

        async def raw(worker: int, i: int) -> object:
            return await raw_pool.page_of_open_tasks(self.raw, self.user(worker * 7919 + i))

        try:
            await concurrency.run_tasks(project, workers, min(1.0, seconds))
            await concurrency.run_tasks(raw, workers, min(1.0, seconds))
            project_total, raw_total = concurrency.Round(), concurrency.Round()
            for _ in range(rounds):
                raw_total.add(await concurrency.run_tasks(raw, workers, seconds))
                project_total.add(await concurrency.run_tasks(project, workers, seconds))
            return project_total, raw_total
        finally:
            await raw_pool.close()
            await adb.dispose()


def _round_summary(result: concurrency.Round) -> dict[str, Any]:
    stats = Stats.of(result.latencies).as_dict()
    return {
        "ops": result.ops,
        "ops_per_second": round(result.throughput, 1),
        "errors": sum(result.errors.values()),
        "hung": result.hung,
        **stats,
    }


class _RawThreadPool:
    """psycopg_pool's pool (autocommit connections), or a queue of sqlite3 connections."""

    def __init__(self, driver: RawDriver, size: int) -> None:
        self.driver = driver
        self.pool: psycopg_pool.ConnectionPool[Any] | None = None
        self.queue: queue.Queue[Any] = queue.Queue()
        if driver.is_postgres:
            self.pool = psycopg_pool.ConnectionPool(
                driver.conninfo,
                min_size=size,
                max_size=size,
                kwargs={"autocommit": True},
                open=True,
            )
            self.pool.wait()
        else:
            for _ in range(size):
                self.queue.put(driver.connect())

    @contextmanager
    def connection(self) -> Iterator[Any]:
        if self.pool is not None:
            with self.pool.connection() as connection:
                yield connection
            return
        connection = self.queue.get(timeout=30)
        try:
            yield connection
        finally:
            self.queue.put(connection)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
        while not self.queue.empty():
            self.queue.get().close()


class _RawAsyncPool:
    """psycopg_pool's async pool (autocommit), or aiosqlite connections in a queue."""

    def __init__(self, driver: RawDriver) -> None:
        self.driver = driver
        self.pool: psycopg_pool.AsyncConnectionPool[Any] | None = None
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    @classmethod
    async def open(cls, driver: RawDriver, size: int) -> _RawAsyncPool:
        self = cls(driver)
        if driver.is_postgres:
            self.pool = psycopg_pool.AsyncConnectionPool(
                driver.conninfo,
                min_size=size,
                max_size=size,
                kwargs={"autocommit": True},
                open=False,
            )
            await self.pool.open(wait=True)
        else:
            import aiosqlite

            for _ in range(size):
                connection = await aiosqlite.connect(driver.conninfo, isolation_level=None)
                await connection.execute("PRAGMA foreign_keys=ON")
                await connection.execute("PRAGMA busy_timeout=5000")
                self.queue.put_nowait(connection)
        return self

    async def page_of_open_tasks(self, queries: RawQueries, user_id: uuid.UUID) -> list[Any]:
        params = (self.driver.uuid(user_id), "pending", "in_progress")
        if self.pool is not None:
            async with self.pool.connection() as connection:
                cursor = await connection.execute(queries.page_open, params)
                rows: list[Any] = await cursor.fetchall()
                return rows[:PAGE]
        connection = await self.queue.get()
        try:
            async with connection.execute(queries.page_open, params) as cursor:
                return list(await cursor.fetchall())[:PAGE]
        finally:
            self.queue.put_nowait(connection)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        while not self.queue.empty():
            await self.queue.get_nowait().close()

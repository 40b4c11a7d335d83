"""The concurrency rows: N workers (threads or asyncio tasks) reading pages of open tasks
over a pool of 20, through the raw driver's pool, the project's fast path and its ORM path.

The raw side is psycopg_pool's pool of autocommit connections (sqlite3 or aiosqlite
connections in a queue on SQLite); the project's sides use `Database`/`AsyncDatabase` with
pool 20 and no overflow. After a warm-up of each side, the rounds alternate raw, fast, ORM,
raw, fast, ORM.
"""

from __future__ import annotations

import asyncio
import math
import queue
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg_pool

from tasktracker.bench import concurrency, targets
from tasktracker.bench.operations import OPEN
from tasktracker.bench.raw import PAGE, RawDriver, RawQueries
from tasktracker.bench.results import FAST, LABELS, ORM, PROJECT, RAW, Result, with_ratio
from tasktracker.bench.timing import Stats
from tasktracker.db.engines import create_engine
from tasktracker.db.sessions import Database
from tasktracker.db.settings import Settings
from tasktracker.tasks.repository import TaskRepository
from tasktracker.units import AsyncDatabase

if TYPE_CHECKING:
    from tasktracker.bench.operations import Bench

ROUNDS = 2
"""Timed rounds per side."""


def concurrent(
    bench: Bench, workers: int, mode: str, seconds: float, pool_size: int = 20
) -> Result:
    """`workers` threads or asyncio tasks (`mode`) over a pool of `pool_size`, every side."""
    settings = bench.settings.model_copy(
        update={"database_pool_size": pool_size, "database_max_overflow": 0}
    )
    if mode == "threads":
        rounds = _thread_rounds(bench, settings, workers, seconds, pool_size)
    else:
        rounds = asyncio.run(_async_rounds(bench, settings, workers, seconds, pool_size))
    raw = rounds.pop(RAW)
    notes = [
        f"{LABELS[name]}: {error}: {n}"
        for name, side in [(RAW, raw), *rounds.items()]
        for error, n in side.errors.items()
    ]
    hung = [LABELS[name] for name, side in [(RAW, raw), *rounds.items()] if side.hung]
    if hung:
        notes.append(f"HUNG: {', '.join(hung)}")
    is_pg = bench.driver.is_postgres
    if not is_pg:
        notes.append("project: SQLAlchemy's default SQLite pool (pool settings are PG-only)")
    target: str | None = None
    met: dict[str, bool] = {}
    if is_pg:
        # Within the pool a throughput floor per path; beyond it no errors, no hang, and
        # for asyncio tasks a p99 within a multiple of the raw pool's.
        within = workers <= pool_size
        bounds = targets.bounds("pooled_page", postgres=True) if within else {}
        p99_bound = targets.POOLED_P99 if mode == "asyncio" and not within else None
        target = f"{targets.describe(bounds, floor=True) or 'no floor'}; 0 errors, no hang"
        if p99_bound is not None:
            target += f"; p99 <= {p99_bound}x raw's"
        ratios = {
            name: rounds[name].throughput / raw.throughput if raw.throughput else 0.0
            for name in PROJECT
        }
        floors = targets.met(bounds, ratios, floor=True)
        raw_p99 = Stats.of(raw.latencies).p99
        met = {
            name: floors.get(name, True)
            and not rounds[name].errors
            and not rounds[name].hung
            and (p99_bound is None or Stats.of(rounds[name].latencies).p99 <= p99_bound * raw_p99)
            for name in PROJECT
            if raw.throughput
        }
    return Result(
        f"{mode}_{workers}",
        f"{workers} {mode} workers, pool {pool_size}",
        "throughput",
        _summary(raw),
        {
            name: with_ratio(
                _summary(side), side.throughput / raw.throughput if raw.throughput else math.nan
            )
            for name, side in rounds.items()
        },
        target,
        met,
        notes=notes,
    )


def _summary(result: concurrency.Round) -> dict[str, Any]:
    return {
        "ops": result.ops,
        "ops_per_second": round(result.throughput, 1),
        "errors": sum(result.errors.values()),
        "hung": result.hung,
        **Stats.of(result.latencies).as_dict(),
    }


def _thread_rounds(
    bench: Bench, settings: Settings, workers: int, seconds: float, pool_size: int
) -> dict[str, concurrency.Round]:
    db = Database(create_engine(settings))
    raw_pool = _RawThreadPool(bench.driver, pool_size)

    def user(worker: int, i: int) -> uuid.UUID:
        return bench.user(worker * 7919 + i)

    def raw(worker: int, i: int) -> object:
        with raw_pool.connection() as connection:
            return bench.raw.page_of_open_tasks(connection, user(worker, i))

    def fast(worker: int, i: int) -> object:
        with db.user_scope(user(worker, i), read_only=True) as session:
            return TaskRepository(session).read_page(OPEN, limit=PAGE)

    def orm(worker: int, i: int) -> object:
        with db.user_scope(user(worker, i), read_only=True) as session:
            return TaskRepository(session).list(OPEN, limit=PAGE)

    sides: dict[str, Callable[[int, int], object]] = {RAW: raw, FAST: fast, ORM: orm}
    try:
        for side in sides.values():
            concurrency.run_threads(side, workers, min(1.0, seconds))
        total = {name: concurrency.Round() for name in sides}
        for _ in range(ROUNDS):
            for name, side in sides.items():
                total[name].add(concurrency.run_threads(side, workers, seconds))
        return total
    finally:
        raw_pool.close()
        db.dispose()


async def _async_rounds(
    bench: Bench, settings: Settings, workers: int, seconds: float, pool_size: int
) -> dict[str, concurrency.Round]:
    adb = AsyncDatabase.from_settings(settings)
    raw_pool = await _RawAsyncPool.open(bench.driver, pool_size)

    def user(worker: int, i: int) -> uuid.UUID:
        return bench.user(worker * 7919 + i)

    async def raw(worker: int, i: int) -> object:
        return await raw_pool.page_of_open_tasks(bench.raw, user(worker, i))

    async def fast(worker: int, i: int) -> object:
        async with adb.user_scope(user(worker, i), read_only=True) as unit:
            return await unit.tasks.read_page(OPEN, limit=PAGE)

    async def orm(worker: int, i: int) -> object:
        async with adb.user_scope(user(worker, i), read_only=True) as unit:
            return await unit.tasks.list(OPEN, limit=PAGE)

    sides: dict[str, Callable[[int, int], Awaitable[object]]] = {RAW: raw, FAST: fast, ORM: orm}
    try:
        for side in sides.values():
            await concurrency.run_tasks(side, workers, min(1.0, seconds))
        total = {name: concurrency.Round() for name in sides}
        for _ in range(ROUNDS):
            for name, side in sides.items():
                total[name].add(await concurrency.run_tasks(side, workers, seconds))
        return total
    finally:
        await raw_pool.close()
        await adb.dispose()


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

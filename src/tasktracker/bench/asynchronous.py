"""The async rows: one operation at a time through an async unit of work, against the raw
driver's async connection (psycopg's `AsyncConnection`, aiosqlite on SQLite), in one event
loop, interleaved as the sync rows are.

The project's sides are what an async caller writes: `async with adb.user_scope(...) as
unit: await unit.tasks.read(...)` (the fast path: `read`, `read_page`,
`read_latest_messages`, `create_row`) or the ORM path's `get`, `list`, `latest_messages`,
`create`. Reads use read-only units and the raw side reads in autocommit; the insert runs in
a transaction on every side. As for the sync rows, every contender runs once on the same
parameters first and must come to what the raw side does.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

import psycopg

from tasktracker.bench.operations import INSERT_TITLE, OPEN, Bench, ids, result_of
from tasktracker.bench.raw import OPEN_STATUSES, PAGE
from tasktracker.bench.results import FAST, ORM, RAW, Result
from tasktracker.bench.timing import interleaved_async
from tasktracker.units import AsyncDatabase

AsyncCall = Callable[[Any], Awaitable[object]]
KEYS = ("async_get_task", "async_page", "async_latest_messages", "async_insert_task")


@dataclass
class AsyncOp:
    """An async operation: as `bench.operations.Op`, its contenders coroutine functions."""

    key: str
    title: str
    raw: AsyncCall
    paths: dict[str, AsyncCall]
    params: Callable[[int], Any]
    outcome: Callable[[Any], Collection[Any]]
    scoped_read: bool = True
    rows_per_call: int | None = None


def measure_async(
    bench: Bench, only: set[str], announce: Callable[[str], object] = print
) -> list[Result]:
    """Time the async operations (those in `only`, if any) in an event loop of their own."""
    wanted = [key for key in KEYS if not only or key in only]
    return asyncio.run(_measure(bench, wanted, announce)) if wanted else []


async def _measure(
    bench: Bench, keys: list[str], announce: Callable[[str], object]
) -> list[Result]:
    adb = AsyncDatabase.from_settings(bench.settings)
    raw = await _RawAsync.open(bench)
    try:
        operations = _Operations(bench, adb, raw)
        results = []
        for key in keys:
            op = operations.op(key)
            announce(f"timing {op.title} ...")
            same_rows, rows = await _compare(op)
            samples = await interleaved_async({RAW: op.raw, **op.paths}, op.params, bench.budget)
            results.append(
                result_of(op, samples, same_rows, rows, postgres=bench.driver.is_postgres)
            )
        return results
    finally:
        await raw.close()
        await adb.dispose()


async def _compare(op: AsyncOp) -> tuple[dict[str, bool], int]:
    expected = op.outcome(await op.raw(op.params(0)))
    same = {
        name: op.outcome(await call(op.params(0))) == expected for name, call in op.paths.items()
    }
    return same, len(expected)


class _RawAsync:
    """The raw side's two async connections (reads in autocommit; the insert's
    transactions), on the driver an async caller of the raw driver would use."""

    def __init__(self, bench: Bench, reads: Any, writes: Any) -> None:
        self.bench = bench
        self.reads = reads
        self.writes = writes

    @classmethod
    async def open(cls, bench: Bench) -> _RawAsync:
        driver = bench.driver
        if driver.is_postgres:
            connect = psycopg.AsyncConnection.connect
            reads = await connect(driver.conninfo, autocommit=True)
            writes = await connect(driver.conninfo, autocommit=True)
            return cls(bench, reads, writes)
        import aiosqlite

        connections = []
        for _ in range(2):
            connection = await aiosqlite.connect(driver.conninfo, isolation_level=None)
            await connection.execute("PRAGMA busy_timeout=5000")
            connections.append(connection)
        return cls(bench, *connections)

    async def rows(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        cursor = await self.reads.execute(sql, params)
        rows: list[Any] = await cursor.fetchall()
        await cursor.close()
        return rows

    async def insert(self, user_id: uuid.UUID, title: str) -> uuid.UUID:
        task_id, params = self.bench.raw.insert_parameters(user_id, title)
        sql = self.bench.raw.insert
        if self.bench.driver.is_postgres:
            async with self.writes.transaction():
                await self.writes.execute(sql, params)
            return task_id
        await self.writes.execute("BEGIN")
        try:
            await self.writes.execute(sql, params)
        except BaseException:
            await self.writes.execute("ROLLBACK")
            raise
        await self.writes.execute("COMMIT")
        return task_id

    async def close(self) -> None:
        await self.reads.close()
        await self.writes.close()


class _Operations:
    def __init__(self, bench: Bench, adb: AsyncDatabase, raw: _RawAsync) -> None:
        self.bench = bench
        self.adb = adb
        self.raw = raw
        self.uuid = bench.driver.uuid

    def op(self, key: str) -> AsyncOp:
        build: dict[str, Callable[[], AsyncOp]] = {
            "async_get_task": self.get_task,
            "async_page": self.page,
            "async_latest_messages": self.latest_messages,
            "async_insert_task": self.insert_task,
        }
        return build[key]()

    def get_task(self) -> AsyncOp:
        bench, adb = self.bench, self.adb

        async def raw(p: tuple[uuid.UUID, uuid.UUID]) -> object:
            return await self.raw.rows(bench.raw.get_task, (self.uuid(p[0]), self.uuid(p[1])))

        async def fast(p: tuple[uuid.UUID, uuid.UUID]) -> object:
            async with adb.user_scope(p[0], read_only=True) as unit:
                return await unit.tasks.read(p[1])

        async def orm(p: tuple[uuid.UUID, uuid.UUID]) -> object:
            async with adb.user_scope(p[0], read_only=True) as unit:
                return await unit.tasks.get(p[1])

        return AsyncOp(
            "async_get_task",
            "async: get a task by id",
            raw,
            {FAST: fast, ORM: orm},
            lambda i: bench.tasks[i % len(bench.tasks)],
            ids,
        )

    def page(self) -> AsyncOp:
        bench, adb = self.bench, self.adb

        async def raw(user_id: uuid.UUID) -> object:
            params = (self.uuid(user_id), *OPEN_STATUSES)
            return (await self.raw.rows(bench.raw.page_open, params))[:PAGE]

        async def fast(user_id: uuid.UUID) -> object:
            async with adb.user_scope(user_id, read_only=True) as unit:
                return await unit.tasks.read_page(OPEN, limit=PAGE)

        async def orm(user_id: uuid.UUID) -> object:
            async with adb.user_scope(user_id, read_only=True) as unit:
                return await unit.tasks.list(OPEN, limit=PAGE)

        return AsyncOp(
            "async_page",
            f"async: page of {PAGE} open tasks (newest)",
            raw,
            {FAST: fast, ORM: orm},
            bench.user,
            ids,
        )

    def latest_messages(self) -> AsyncOp:
        bench, adb = self.bench, self.adb
        conversations = [(u, bench.fixture.long_conversation[u]) for u in bench.users]

        async def raw(p: tuple[uuid.UUID, uuid.UUID]) -> object:
            params = (self.uuid(p[0]), self.uuid(p[1]))
            return (await self.raw.rows(bench.raw.latest_messages, params))[:PAGE][::-1]

        async def fast(p: tuple[uuid.UUID, uuid.UUID]) -> object:
            async with adb.user_scope(p[0], read_only=True) as unit:
                return await unit.conversations.read_latest_messages(p[1], limit=PAGE)

        async def orm(p: tuple[uuid.UUID, uuid.UUID]) -> object:
            async with adb.user_scope(p[0], read_only=True) as unit:
                return await unit.conversations.latest_messages(p[1], limit=PAGE)

        return AsyncOp(
            "async_latest_messages",
            f"async: latest {PAGE} messages of a conversation",
            raw,
            {FAST: fast, ORM: orm},
            lambda i: conversations[i % len(conversations)],
            ids,
        )

    def insert_task(self) -> AsyncOp:
        bench, adb = self.bench, self.adb

        async def raw(p: tuple[uuid.UUID, str]) -> object:
            return await self.raw.insert(*p)

        async def fast(p: tuple[uuid.UUID, str]) -> object:
            async with adb.user_scope(p[0]) as unit:
                return await unit.tasks.create_row({"title": p[1]})

        async def orm(p: tuple[uuid.UUID, str]) -> object:
            async with adb.user_scope(p[0]) as unit:
                return await unit.tasks.create({"title": p[1]})

        return AsyncOp(
            "async_insert_task",
            "async: insert one task and commit",
            raw,
            {FAST: fast, ORM: orm},
            lambda i: (bench.user(i), f"{INSERT_TITLE} async {i}"),
            bench.written,
            scoped_read=False,
        )

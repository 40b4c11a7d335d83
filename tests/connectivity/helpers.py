"""Helpers shared by the connectivity tests: fast-retry settings, one probe per driver, and
`DriverUnits`, units of work of any of the three drivers driven by one sync test body."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, TypeVar

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tasktracker.db.engines import create_async_engine, create_engine
from tasktracker.db.sessions import AsyncDatabase, Database
from tasktracker.db.settings import Settings, load_settings

T = TypeVar("T")


class Outcome(NamedTuple):
    started: float  # time.monotonic()
    error: BaseException | None


# sync psycopg, async psycopg (the default async driver), async asyncpg
DRIVERS = ("psycopg", "psycopg-async", "asyncpg")
RETRY_LINE = re.compile(r"connect attempt (\d+)/(\d+) to .* retrying in ([\d.]+)s")


def with_driver(url: str, driver: str) -> str:
    if driver == "asyncpg":
        return url.replace("postgresql://", "postgresql+asyncpg://", 1)
    return url


def fast_settings(url: str, driver: str = "psycopg", **overrides: Any) -> Settings:
    """Settings whose connection retries take fractions of a second."""
    values: dict[str, Any] = {
        "database_connect_retries": 3,
        "database_retry_initial_delay": 0.05,
        "database_retry_max_delay": 0.2,
        "database_connect_timeout": 3,
    }
    values.update(overrides)
    return load_settings(database_url=with_driver(url, driver), **values)


def scalar(url: str, driver: str, sql: str, **overrides: Any) -> Any:
    """Run one statement on a fresh engine of `driver`; returns the first value."""
    settings = fast_settings(url, driver, **overrides)
    if driver == "psycopg":
        engine = create_engine(settings)
        try:
            with engine.connect() as connection:
                return connection.execute(text(sql)).scalar()
        finally:
            engine.dispose()

    async def run() -> Any:
        engine = create_async_engine(settings)
        try:
            async with engine.connect() as connection:
                return (await connection.execute(text(sql))).scalar()
        finally:
            await engine.dispose()

    return asyncio.run(run())


SSL_IN_USE = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


def retry_records(caplog: pytest.LogCaptureFixture) -> list[tuple[int, int, float]]:
    """(attempt, of, delay) for every retry the `tasktracker.db` logger announced."""
    found = []
    for record in caplog.records:
        if record.name == "tasktracker.db" and (match := RETRY_LINE.search(record.getMessage())):
            found.append((int(match[1]), int(match[2]), float(match[3])))
    return found


def failure_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The `tasktracker.db` records announcing that connecting was given up."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "tasktracker.db"
        and record.levelno >= logging.WARNING
        and record.getMessage().startswith("could not connect to ")
    ]


class DriverUnits:
    """Units of work on one driver, run from a sync test, so that one test body covers every
    driver and a driver that diverges fails.

    `work` is sync code on the unit's session. On psycopg it runs in `Database`'s unit; on
    the async drivers in `AsyncDatabase`'s, through `AsyncSession.run_sync` in this object's
    own event loop: its statements travel over the async driver exactly as an async caller's
    (`AsyncSession.execute` is the same sync code in SQLAlchemy's greenlet bridge)."""

    def __init__(self, settings: Settings, driver: str) -> None:
        self.driver = driver
        self._loop: asyncio.Runner | None = None
        self._db: Database | None = None
        self._adb: AsyncDatabase | None = None
        if driver == "psycopg":
            self._db = Database.from_settings(settings)
        else:
            self._loop = asyncio.Runner()
            self._adb = AsyncDatabase.from_settings(settings)

    @property
    def engine(self) -> Engine:
        """The (sync) engine, for its pool."""
        if self._db is not None:
            return self._db.engine
        assert self._adb is not None
        return self._adb.engine.sync_engine

    def unit(self, work: Callable[[Session], T]) -> T:
        """`work` in one unscoped unit of work, committed if it returns."""
        if self._db is not None:
            with self._db.session() as session:
                return work(session)
        assert self._loop is not None
        return self._loop.run(self._async_unit(work))

    def concurrently(self, *works: Callable[[Session], T]) -> list[T | BaseException]:
        """Each work in a unit of its own, all at once (threads, or tasks of one loop); the
        result or the exception of each, in order."""
        if self._db is not None:
            with ThreadPoolExecutor(len(works)) as pool:
                futures = [pool.submit(self.unit, work) for work in works]
            return [future.exception() or future.result() for future in futures]
        assert self._loop is not None

        async def all_at_once() -> list[T | BaseException]:
            units = (self._async_unit(work) for work in works)
            return await asyncio.gather(*units, return_exceptions=True)

        return self._loop.run(all_at_once())

    def under_load(
        self, work: Callable[[Session], object], *, workers: int, seconds: float
    ) -> list[Outcome]:
        """`workers` concurrent loops (threads, or tasks of one loop), each running `work` in
        one unit after another for `seconds`; every unit's outcome."""
        end = time.monotonic() + seconds
        outcomes: list[Outcome] = []
        if self._db is not None:

            def loop() -> None:
                while time.monotonic() < end:
                    started = time.monotonic()
                    try:
                        self.unit(work)
                        outcomes.append(Outcome(started, None))
                    except Exception as exc:  # recorded: the test judges every outcome
                        outcomes.append(Outcome(started, exc))

            threads = [threading.Thread(target=loop) for _ in range(workers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=seconds + 60)
            return outcomes
        assert self._loop is not None

        async def task() -> None:
            while time.monotonic() < end:
                started = time.monotonic()
                try:
                    await self._async_unit(work)
                    outcomes.append(Outcome(started, None))
                except Exception as exc:
                    outcomes.append(Outcome(started, exc))

        async def all_tasks() -> None:
            await asyncio.gather(*(task() for _ in range(workers)))

        self._loop.run(all_tasks())
        return outcomes

    async def _async_unit(self, work: Callable[[Session], T]) -> T:
        assert self._adb is not None
        async with self._adb.session() as session:
            return await session.run_sync(work)

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
        if self._loop is not None:
            assert self._adb is not None
            self._loop.run(self._adb.dispose())
            self._loop.close()

    def __enter__(self) -> DriverUnits:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def driver_units(url: str, driver: str, **overrides: Any) -> DriverUnits:
    """`DriverUnits` of `driver` on `url`, with fast retries (`fast_settings`)."""
    return DriverUnits(fast_settings(url, driver, **overrides), driver)


def later(seconds: float, action: Callable[[], None]) -> threading.Thread:
    """Run `action` in a daemon thread after `seconds`; the thread, to join."""

    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def retry_reasons(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The failure each announced connection retry gave as its reason."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "tasktracker.db" and RETRY_LINE.search(record.getMessage())
    ]

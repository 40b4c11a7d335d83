"""Overload: far more concurrent units of work than connections.

200 concurrent async units and 100 threads over a pool of 20 (15 + 5 overflow): every unit
completes or fails with `PoolTimeoutError`, none hangs (bounded waits), no connection leaks
(checked-out count back to 0), and the server never sees more than pool + overflow
connections of this application (sampled from pg_stat_activity while the load runs).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from tasktracker.db.errors import PoolTimeoutError
from tasktracker.db.sessions import AsyncDatabase, Database
from tests import databases
from tests.connectivity.helpers import fast_settings

POOL, OVERFLOW = 15, 5
# (work per unit in seconds, pool timeout): "fits" completes everything within the pool
# timeout; "overflows" holds connections for longer than callers will wait.
LOADS = {"fits": (0.02, 5.0), "overflows": (0.3, 0.5)}


@contextmanager
def server_connections(application_name: str) -> Iterator[list[int]]:
    """Samples this application's server-side connection count every 10 ms; yields the samples."""
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        with psycopg.connect(databases._libpq(databases.ADMIN_URL), autocommit=True) as admin:
            while not stop.is_set():
                row = admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                    (application_name,),
                ).fetchone()
                samples.append(int(row[0]) if row else 0)
                stop.wait(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join(timeout=5)


def _settings(pg_url: str, driver: str, pool_timeout: float) -> Any:
    return fast_settings(
        pg_url,
        driver,
        database_pool_size=POOL,
        database_max_overflow=OVERFLOW,
        database_pool_timeout=pool_timeout,
        database_application_name=f"tt-overload-{uuid.uuid4().hex[:8]}",
    )


def _report(kind: str, load: str, outcomes: Counter[str], samples: list[int], took: float) -> None:
    print(  # shown with -s / -rP: the numbers quoted in docs/connectivity.md
        f"\n{kind} {load}: {dict(outcomes)} in {took:.2f} s; server connections max "
        f"{max(samples, default=0)} over {len(samples)} samples (limit {POOL + OVERFLOW})"
    )


@pytest.mark.parametrize("load", LOADS)
@pytest.mark.parametrize("driver", ["psycopg-async", "asyncpg"])
async def test_200_concurrent_async_units_of_work(pg_url: str, driver: str, load: str) -> None:
    work, pool_timeout = LOADS[load]
    settings = _settings(pg_url, driver, pool_timeout)
    db = AsyncDatabase.from_settings(settings)
    outcomes: Counter[str] = Counter()

    async def unit() -> None:
        try:
            async with db.session() as session:
                await session.execute(text("SELECT pg_sleep(:s)"), {"s": work})
            outcomes["completed"] += 1
        except PoolTimeoutError:
            outcomes["pool timeout"] += 1

    started = time.monotonic()
    try:
        with server_connections(settings.database_application_name) as samples:
            await asyncio.wait_for(asyncio.gather(*(unit() for _ in range(200))), timeout=60)
        took = time.monotonic() - started
        assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await db.dispose()
    _report(f"async {driver}", load, outcomes, samples, took)
    assert outcomes.total() == 200  # anything else would have propagated out of gather
    assert samples, "the sampler ran"
    assert max(samples) <= POOL + OVERFLOW
    if load == "fits":
        assert outcomes["completed"] == 200
    else:
        assert outcomes["pool timeout"] > 0
        assert outcomes["completed"] >= POOL + OVERFLOW


@pytest.mark.parametrize("load", LOADS)
def test_100_threads(pg_url: str, load: str) -> None:
    work, pool_timeout = LOADS[load]
    settings = _settings(pg_url, "psycopg", pool_timeout)
    db = Database.from_settings(settings)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    unexpected: list[BaseException] = []

    def unit() -> None:
        try:
            with db.session() as session:
                session.execute(text("SELECT pg_sleep(:s)"), {"s": work})
            outcome = "completed"
        except PoolTimeoutError:
            outcome = "pool timeout"
        except BaseException as exc:  # reported below, never swallowed
            unexpected.append(exc)
            return
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=unit, daemon=True) for _ in range(100)]
    started = time.monotonic()
    try:
        with server_connections(settings.database_application_name) as samples:
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 60
            for thread in threads:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        took = time.monotonic() - started
        assert not any(thread.is_alive() for thread in threads), "a unit of work hung"
        assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        db.dispose()
    _report("threads", load, outcomes, samples, took)
    assert unexpected == []
    assert outcomes.total() == 100
    assert max(samples) <= POOL + OVERFLOW
    if load == "fits":
        assert outcomes["completed"] == 100
    else:
        assert outcomes["pool timeout"] > 0

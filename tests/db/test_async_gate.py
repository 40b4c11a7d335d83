"""The fair gate for asyncio tasks (`db.gate.AsyncFairGate`): permits go to waiting tasks in
arrival order, a task that gives one back cannot take it again before a waiter (what
SQLAlchemy's async pool lets it do), a wait past the timeout is a `PoolTimeoutError`, and
no permit is lost to a cancelled waiter. Order is asserted, never timings."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from tasktracker.db.errors import PoolTimeoutError
from tasktracker.db.gate import AsyncFairGate, async_gate_for
from tasktracker.db.sessions import AsyncDatabase
from tasktracker.tasks.models import Task
from tests import databases


async def test_waiting_tasks_get_permits_in_arrival_order() -> None:
    gate = AsyncFairGate(size=1, overflow=0, timeout=5)
    order: list[int] = []
    release_first = asyncio.Event()

    async def first() -> None:
        async with gate.apermit():
            await release_first.wait()

    async def waiter(n: int) -> None:
        async with gate.apermit():
            order.append(n)
            await asyncio.sleep(0)

    holder = asyncio.create_task(first())
    await asyncio.sleep(0)
    waiters = []
    for n in range(10):
        waiters.append(asyncio.create_task(waiter(n)))
        await asyncio.sleep(0)  # each one queues before the next starts
    release_first.set()
    await asyncio.gather(holder, *waiters)
    assert order == list(range(10))
    assert gate._free == 1


async def test_a_task_that_gives_a_permit_back_cannot_take_it_again_before_a_waiter() -> None:
    gate = AsyncFairGate(size=1, overflow=0, timeout=5)
    turns: list[str] = []
    patient_waits = asyncio.Event()

    async def greedy() -> None:
        for _ in range(3):
            async with gate.apermit():  # back for more at once, without yielding first
                turns.append("greedy")
                await patient_waits.wait()

    async def patient() -> None:
        async with gate.apermit():
            turns.append("patient")

    greedy_task = asyncio.create_task(greedy())
    await asyncio.sleep(0)  # greedy holds the permit
    patient_task = asyncio.create_task(patient())
    while not gate._waiting:
        await asyncio.sleep(0)
    patient_waits.set()
    await asyncio.gather(greedy_task, patient_task)
    assert turns == ["greedy", "patient", "greedy", "greedy"]


async def test_a_wait_past_the_timeout_is_a_pool_timeout_and_loses_no_permit() -> None:
    gate = AsyncFairGate(size=1, overflow=0, timeout=0.05)
    async with gate.apermit():
        with pytest.raises(PoolTimeoutError, match="pool limit of size 1 overflow 0"):
            async with gate.apermit():
                pass
    assert (gate._free, list(gate._waiting)) == (1, [])


async def test_a_permit_handed_to_a_cancelled_waiter_passes_on() -> None:
    gate = AsyncFairGate(size=1, overflow=0, timeout=5)
    got: list[str] = []
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.apermit():
            await release.wait()

    async def wait(name: str) -> None:
        async with gate.apermit():
            got.append(name)

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    cancelled, second = asyncio.create_task(wait("cancelled")), asyncio.create_task(wait("next"))
    await asyncio.sleep(0)
    cancelled.cancel()
    release.set()
    await asyncio.gather(holder, second)
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert got == ["next"]
    assert gate._free == 1


async def test_async_units_on_postgresql_share_their_pool_gate(migrated_url: str) -> None:
    """Every async unit of one engine queues at one gate, whose permits are the pool's
    connections; the gate's count is back where it was after 50 concurrent units."""
    settings = databases.test_settings(migrated_url, database_pool_size=3, database_max_overflow=0)
    adb = AsyncDatabase.from_settings(settings)
    try:
        gate = async_gate_for(adb.engine.sync_engine)
        if not migrated_url.startswith("postgresql"):
            assert gate is None  # SQLite: async writers wait in its busy handler
            return
        assert gate is not None
        assert gate._free == 3

        nobody = uuid.uuid4()

        async def unit(read_only: bool) -> object:
            async with adb.user_scope(nobody, read_only=read_only) as session:
                return await session.scalar(select(func.count()).select_from(Task))

        results = await asyncio.gather(*(unit(n % 2 == 0) for n in range(50)))
        assert results == [0] * 50
        assert (gate._free, list(gate._waiting)) == (3, [])
        assert adb.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await adb.dispose()

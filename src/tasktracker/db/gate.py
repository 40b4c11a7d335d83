"""A first-come, first-served gate in front of the connection pool (threads).

SQLAlchemy's `QueuePool` gives a returned connection to whichever thread asks next. Under
overload that is usually the thread that has just returned it (it still holds the GIL and
loops straight back), so a few waiting threads can starve for seconds: p99 latencies of 2
to 3 s with 100 threads on a pool of 20, where psycopg_pool, which hands a connection to
its longest waiter, stays under 0.1 s. The gate holds one permit per pooled connection
(`pool_size + max_overflow`): a thread takes a permit before it checks a connection out
and gives it back after the connection is returned, and a permit given back while threads
wait goes to the first of them. A thread that finds waiters queues behind them even if a
permit is free, which is what makes it fair.

asyncio tasks need the same, for the same reason: SQLAlchemy's async pool queues its
connections in an `asyncio.Queue`, and a task that returns one and loops straight back
takes it again before the waiter it woke has run (100 tasks on a pool of 20: p50 13 ms,
p99 3 s). `AsyncFairGate` is the gate for them: the permit passes to the first waiting
task. `apermit()` serves async units and the async fast path (`db.fastpath.asynchronous`);
`permit()` the sync code an async unit runs through `run_sync` (an asyncpg unit's compiled
reads), by SQLAlchemy's greenlet bridge.

On SQLite the gate is the one write permit of the units that may write (read-only units
do not take it): a queue in front of SQLite's write lock, whose busy handler polls, so a
thread that has just committed took the lock again before the sleeping waiters (20
writer threads: p99 2 s, and waits close to the busy timeout). Writers of other processes
still wait in the busy handler.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.pool import Pool
from sqlalchemy.util import await_only

from tasktracker.db.engines import POOL_LIMITS_OPTION, SQLITE_BUSY_TIMEOUT_MS
from tasktracker.db.errors import LockTimeoutError, PoolTimeoutError

log = logging.getLogger("tasktracker.db")


class Gate(Protocol):
    """What a unit of work and the compiled reads need of a gate, sync or async."""

    @property
    def writers_only(self) -> bool: ...

    def permit(self) -> AbstractContextManager[None]: ...


class FairGate:
    def __init__(self, size: int, overflow: int, timeout: float, *, writers_only: bool = False):
        self.limit = f"size {size} overflow {overflow}"
        self.timeout = timeout
        self.writers_only = writers_only
        self._free = size + overflow
        self._waiting: deque[threading.Lock] = deque()
        self._lock = threading.Lock()

    @contextmanager
    def permit(self) -> Iterator[None]:
        """Hold a permit for the block; `PoolTimeoutError` after `timeout` seconds."""
        if not self._acquire():
            if self.writers_only:
                raise LockTimeoutError(
                    f"database is busy: another unit of work held the write lock for "
                    f"{self.timeout:g} s"
                )
            detail = f"pool limit of {self.limit} reached, waited {self.timeout:g} s"
            log.warning("pool exhausted: %s", detail)
            raise PoolTimeoutError(f"no free database connection: {detail}")
        try:
            yield
        finally:
            self._release()

    def _acquire(self) -> bool:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return True
            handed = threading.Lock()
            handed.acquire()
            self._waiting.append(handed)
        if handed.acquire(timeout=self.timeout):
            return True
        with self._lock:
            if handed in self._waiting:
                self._waiting.remove(handed)
                return False
        return True  # the permit was handed over just as the wait timed out

    def _release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()  # the permit passes to the first waiter
            else:
                self._free += 1


class AsyncFairGate:
    """`FairGate` for asyncio tasks: one permit per pooled connection, handed to the first
    waiting task; `PoolTimeoutError` after `timeout` seconds of waiting."""

    writers_only = False

    def __init__(self, size: int, overflow: int, timeout: float) -> None:
        self.limit = f"size {size} overflow {overflow}"
        self.timeout = timeout
        self._free = size + overflow
        self._waiting: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def apermit(self) -> AsyncIterator[None]:
        """Hold a permit for the block (an async unit of work that holds a connection)."""
        await self._acquire()
        try:
            yield
        finally:
            self._release()

    @contextmanager
    def permit(self) -> Iterator[None]:
        """`apermit` for sync code run in an async unit (`AsyncSession.run_sync`)."""
        await_only(self._acquire())
        try:
            yield
        finally:
            self._release()

    async def _acquire(self) -> None:
        if self._free and not self._waiting:
            self._free -= 1
            return
        handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(handed)
        try:
            async with asyncio.timeout(self.timeout):
                await handed
        except TimeoutError:
            if not handed.cancelled():
                return  # the permit was handed over just as the wait timed out
            detail = f"pool limit of {self.limit} reached, waited {self.timeout:g} s"
            log.warning("pool exhausted: %s", detail)
            raise PoolTimeoutError(f"no free database connection: {detail}") from None
        except asyncio.CancelledError:
            if handed.done() and not handed.cancelled():
                self._release()  # handed over to a task that no longer wants it: pass it on
            raise
        finally:
            if handed in self._waiting:
                self._waiting.remove(handed)

    def _release(self) -> None:
        while self._waiting:
            handed = self._waiting.popleft()
            if not handed.done():
                handed.set_result(None)  # the permit passes to the first waiter
                return
        self._free += 1


_GATES: weakref.WeakKeyDictionary[Pool, FairGate] = weakref.WeakKeyDictionary()
_GATES_LOCK = threading.Lock()


def gate_for(engine: Engine) -> FairGate | None:
    """The gate of the engine's pool (shared by every `Database` on that pool): on SQLite
    its write permit; None for a PostgreSQL engine the factory did not size."""
    sqlite = engine.dialect.name == "sqlite"
    limits = (1, 0, SQLITE_BUSY_TIMEOUT_MS / 1000) if sqlite else None
    limits = limits or engine.get_execution_options().get(POOL_LIMITS_OPTION)
    if not limits:
        return None
    with _GATES_LOCK:
        gate = _GATES.get(engine.pool)
        if gate is None:
            gate = _GATES[engine.pool] = FairGate(*limits, writers_only=sqlite)
        return gate


_ASYNC_GATES: weakref.WeakKeyDictionary[Pool, AsyncFairGate] = weakref.WeakKeyDictionary()


def async_gate_for(engine: Engine) -> AsyncFairGate | None:
    """The gate of an async engine's pool (its `sync_engine`): None on SQLite (async units
    wait for its write lock in SQLite's busy handler) or for an engine the factory did not
    size."""
    limits = engine.get_execution_options().get(POOL_LIMITS_OPTION)
    if engine.dialect.name == "sqlite" or not limits:
        return None
    gate = _ASYNC_GATES.get(engine.pool)
    if gate is None:
        gate = _ASYNC_GATES[engine.pool] = AsyncFairGate(*limits)
    return gate

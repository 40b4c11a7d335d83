"""Units of work: the single boundary where transactions begin, commit and roll back.

    db = Database.from_settings()
    with db.user_scope(user_id) as session:      # commits on success
        TaskRepository(session).create(...)     # rolls back on any exception
                                                 # and always closes
Repositories and services only `flush()`; they never commit. A unit of work opened while
another is active in the same thread becomes a savepoint of it, so a service can open its
own unit and still compose into a caller's transaction.

A unit that may write owns one connection for its whole life, checked out when it opens,
and owns that connection's transaction; its session is bound to the connection and joins
the transaction (`join_transaction_mode="rollback_only"`). So the ORM and the compiled
fast path (`db.fastpath`), which sends its statements on the unit's connection directly,
always share one transaction. A read-only unit begins nothing and holds no connection of
its own: compiled reads borrow a pooled connection per statement (a single-statement
read is one round trip), and the ORM, if used, takes one for the rest of the unit, which
the compiled reads then share.

Async callers use `AsyncDatabase` with the same semantics; the (sync) repositories run
through `AsyncSession.run_sync`, SQLAlchemy's documented bridge, one source of truth for
every query (the fast-path methods' compiled statements are awaited on the driver's async
cursor instead: `db.fastpath.steps`).

Both are generic over the session class their units yield (`session_class`): here, the
core's own (`TaskTrackerSession`, `AsyncSession`), which know no domain; `tasktracker.units`
binds the unit classes that carry the repositories (`unit.tasks`, `unit.conversations`).

The policy (session options, nesting, commit ordering, rollback, release, error
translation) is written once, in `db.units`; `Database` and `AsyncDatabase` only do its
I/O, and differ on purpose in two things:

- **The fair gate** (`db.gate`): threads queue at a `FairGate`, which blocks the thread
  that waits; asyncio tasks at an `AsyncFairGate`, which suspends the task (SQLAlchemy's
  async pool lets a task that has just returned a connection take it again before the
  task it woke: 100 tasks over a pool of 20 had a p99 of 3 s). On SQLite async units take
  no permit: those that may write wait for the write lock in SQLite's busy handler, as
  writers of other processes do.
- **Who owns an open unit**: for `Database` the context (a thread starts with a context
  of its own); for `AsyncDatabase` the context and the task, since a task spawned inside
  a unit inherits its context but must not share its session concurrently (it opens a
  unit of its own).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
    nullcontext,
)
from typing import Concatenate, Generic, ParamSpec, Self, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session
from typing_extensions import TypeVar as DefaultTypeVar

from tasktracker.db.engines import create_async_engine, create_engine, reader, writer
from tasktracker.db.gate import async_gate_for, gate_for
from tasktracker.db.settings import Settings
from tasktracker.db.tenancy import TaskTrackerSession
from tasktracker.db.units import OpenUnits, UnitKind, UnitTransaction, translating

T = TypeVar("T")
P = ParamSpec("P")
SessionT_co = DefaultTypeVar(
    "SessionT_co", bound=TaskTrackerSession, default=TaskTrackerSession, covariant=True
)
AsyncSessionT_co = DefaultTypeVar(
    "AsyncSessionT_co", bound=AsyncSession, default=AsyncSession, covariant=True
)


class Database(Generic[SessionT_co]):
    """A sync engine and its units of work, which yield sessions of `session_class`."""

    def __init__(
        self,
        bind: Engine | Connection,
        session_class: type[SessionT_co] = TaskTrackerSession,  # type: ignore[assignment]
    ) -> None:
        self.bind = bind
        self.session_class = session_class
        self.engine = bind if isinstance(bind, Engine) else bind.engine
        self._reader_bind = reader(bind) if isinstance(bind, Engine) else bind
        self._writer_bind = writer(self.engine)
        self._gate = gate_for(bind) if isinstance(bind, Engine) else None
        self._open_units: OpenUnits[SessionT_co] = OpenUnits(f"uow-{id(self)}")

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Self:
        return cls(create_engine(settings))

    def session(self) -> AbstractContextManager[SessionT_co]:
        """An unscoped unit of work (administration, sign-up, migrations, seeding)."""
        return self._unit_of_work(UnitKind(None))

    def user_scope(
        self, user_id: uuid.UUID, *, read_only: bool = False
    ) -> AbstractContextManager[SessionT_co]:
        """A unit of work in which every tenant query is limited to `user_id`.

        `read_only=True` is for reads that need no common snapshot (one query, or queries
        that may each see the latest data): the unit begins no transaction (no BEGIN/COMMIT
        round trips), holds no connection between statements, and refuses any write.
        """
        return self._unit_of_work(UnitKind(user_id, read_only))

    @contextmanager
    def _unit_of_work(self, kind: UnitKind) -> Iterator[SessionT_co]:
        outer = self._open_units.outer()
        if outer is not None:
            with outer.begin_nested() if kind.needs_savepoint_in(outer.info) else nullcontext():
                yield outer
            return
        # A unit that holds a connection (on SQLite, the write lock) for its life takes its
        # permit now; a read-only unit's statements take one each (`db.fastpath`).
        gate = self._gate if kind.holds_connection else None
        with gate.permit() if gate is not None else nullcontext():
            yield from self._unit(kind)

    def _unit(self, kind: UnitKind) -> Iterator[SessionT_co]:
        with translating():
            bind, unit = self._open(kind)
        session = self.session_class(bind, **kind.session_options(self._gate))
        try:
            with self._open_units.opened(session), translating():
                try:
                    yield session
                    unit.commit(session)
                except BaseException:
                    unit.roll_back(session)
                    raise
        finally:
            unit.release(session)

    def _open(self, kind: UnitKind) -> tuple[Engine | Connection, UnitTransaction]:
        """What the unit's session is bound to, and what the unit owns (`UnitTransaction`)."""
        if isinstance(self.bind, Connection):
            return self.bind, UnitTransaction.savepoint_of(self.bind)
        if not kind.holds_connection:
            return self._reader_bind, UnitTransaction.reader()
        connection = self._writer_bind.connect()
        return connection, UnitTransaction.owning(connection)

    def dispose(self) -> None:
        self.engine.dispose()


class AsyncDatabase(Generic[AsyncSessionT_co]):
    """An async engine and its units of work, which yield sessions of `session_class`: the
    same policy as `Database`, through `AsyncSession.run_sync`; its differences, and why,
    are in this module's docstring."""

    def __init__(
        self,
        bind: AsyncEngine | AsyncConnection,
        session_class: type[AsyncSessionT_co] = AsyncSession,  # type: ignore[assignment]
    ) -> None:
        self.bind = bind
        self.session_class = session_class
        self.engine = bind if isinstance(bind, AsyncEngine) else bind.engine
        self._reader_bind = bind
        if isinstance(bind, AsyncEngine):
            self._reader_bind = AsyncEngine(reader(bind.sync_engine))
        self._writer_bind = AsyncEngine(writer(self.engine.sync_engine))
        self._gate = async_gate_for(bind.sync_engine) if isinstance(bind, AsyncEngine) else None
        self._open_units: OpenUnits[AsyncSessionT_co] = OpenUnits(
            f"async-uow-{id(self)}", owner=asyncio.current_task
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Self:
        return cls(create_async_engine(settings))

    def session(self) -> AbstractAsyncContextManager[AsyncSessionT_co]:
        return self._unit_of_work(UnitKind(None))

    def user_scope(
        self, user_id: uuid.UUID, *, read_only: bool = False
    ) -> AbstractAsyncContextManager[AsyncSessionT_co]:
        """As `Database.user_scope`."""
        return self._unit_of_work(UnitKind(user_id, read_only))

    @asynccontextmanager
    async def _unit_of_work(self, kind: UnitKind) -> AsyncIterator[AsyncSessionT_co]:
        outer = self._open_units.outer()
        if outer is not None:
            async with (
                outer.begin_nested() if kind.needs_savepoint_in(outer.info) else nullcontext()
            ):
                yield outer
            return
        # As in `Database`: a unit that holds a connection takes its permit now, a read-only
        # unit's compiled reads one each (`db.fastpath.asynchronous`).
        gate = self._gate if kind.holds_connection else None
        async with gate.apermit() if gate is not None else nullcontext():
            with translating():
                bind, unit = await self._open(kind)
            session = self.session_class(
                bind, sync_session_class=TaskTrackerSession, **kind.session_options(self._gate)
            )
            try:
                with self._open_units.opened(session), translating():
                    try:
                        yield session
                        if not unit.idle(session.sync_session):
                            await session.run_sync(unit.commit)
                    except BaseException:
                        await session.run_sync(unit.roll_back)
                        raise
            finally:
                if not unit.idle(session.sync_session):
                    await session.run_sync(unit.release)

    async def _open(self, kind: UnitKind) -> tuple[AsyncEngine | AsyncConnection, UnitTransaction]:
        if isinstance(self.bind, AsyncConnection):
            return self.bind, await self.bind.run_sync(UnitTransaction.savepoint_of)
        if not kind.holds_connection:
            return self._reader_bind, UnitTransaction.reader()
        connection = await self._writer_bind.connect()
        return connection, await connection.run_sync(UnitTransaction.owning)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def run(
    session: AsyncSession,
    fn: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run sync data-layer code (a repository call) on an async session, fully typed."""
    return await session.run_sync(fn, *args, **kwargs)

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

Async callers use `AsyncDatabase` with the same semantics and run the (sync) repositories
through `AsyncSession.run_sync`, SQLAlchemy's documented bridge: one source of truth for
every query, no generated twin.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
    nullcontext,
)
from contextvars import ContextVar
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, Transaction
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    AsyncTransaction,
)
from sqlalchemy.orm import Session

from tasktracker.db.engines import create_async_engine, create_engine, reader, writer
from tasktracker.db.errors import NestedScopeError, PoolTimeoutError, TaskTrackerError
from tasktracker.db.gate import gate_for
from tasktracker.db.settings import Settings
from tasktracker.db.tenancy import GATE, READ_ONLY, USER_ID, TaskTrackerSession

T = TypeVar("T")
P = ParamSpec("P")
_OpenUnit = tuple[AsyncSession, "asyncio.Task[Any] | None"]
_ANOTHER_SCOPE_OPEN = "a unit of work for another scope is already open here"


log = logging.getLogger("tasktracker.db")


def _translated(exc: sa_exc.SQLAlchemyError) -> TaskTrackerError:
    detail = str(exc.args[0] if exc.args else exc).splitlines()[0]  # without SQLAlchemy's link
    if isinstance(exc, sa_exc.TimeoutError):
        log.warning("pool exhausted: %s", detail)
        return PoolTimeoutError(f"no free database connection: {detail}")
    return TaskTrackerError(f"database error: {detail}")


def _info(user_id: uuid.UUID | None, read_only: bool = False) -> dict[str, Any]:
    info: dict[str, Any] = {} if user_id is None else {USER_ID: user_id}
    if read_only:
        info[READ_ONLY] = True
    return info


class Database:
    """A sync engine and its units of work."""

    def __init__(self, bind: Engine | Connection) -> None:
        self.bind = bind
        self.engine = bind if isinstance(bind, Engine) else bind.engine
        self._reader_bind = reader(bind) if isinstance(bind, Engine) else bind
        self._writer_bind = writer(self.engine)
        self._gate = gate_for(bind) if isinstance(bind, Engine) else None
        self._active: ContextVar[Session | None] = ContextVar(f"uow-{id(self)}", default=None)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Database:
        return cls(create_engine(settings))

    def session(self) -> AbstractContextManager[Session]:
        """An unscoped unit of work (administration, sign-up, migrations, seeding)."""
        return self._unit_of_work(None)

    def user_scope(
        self, user_id: uuid.UUID, *, read_only: bool = False
    ) -> AbstractContextManager[Session]:
        """A unit of work in which every tenant query is limited to `user_id`.

        `read_only=True` is for reads that need no common snapshot (one query, or queries
        that may each see the latest data): the unit begins no transaction (no BEGIN/COMMIT
        round trips), holds no connection between statements, and refuses any write.
        """
        return self._unit_of_work(user_id, read_only=read_only)

    @contextmanager
    def _unit_of_work(
        self, user_id: uuid.UUID | None, *, read_only: bool = False
    ) -> Iterator[Session]:
        outer = self._active.get()
        if outer is not None:
            with _nested(outer, user_id):
                yield outer
            return
        # A unit that may write holds a connection (on SQLite, the write lock) for its life:
        # it takes its permit now. A read-only unit's statements take one each
        # (`db.fastpath`), none on SQLite.
        gate = None if read_only else self._gate
        with gate.permit() if gate is not None else nullcontext():
            yield from self._unit(user_id, read_only)

    def _unit(self, user_id: uuid.UUID | None, read_only: bool) -> Iterator[Session]:
        try:
            bind, transaction = self._open(read_only)
        except sa_exc.SQLAlchemyError as exc:
            raise _translated(exc) from exc
        info = _info(user_id, read_only)
        if read_only and self._gate is not None and not self._gate.writers_only:
            info[GATE] = self._gate
        session = TaskTrackerSession(
            bind,
            info=info,
            expire_on_commit=False,
            join_transaction_mode="rollback_only",
        )
        token = self._active.set(session)
        try:
            yield session
            if session.in_transaction():
                session.commit()
            if transaction is not None:
                transaction.commit()
        except BaseException as exc:
            _rollback_quietly(transaction)
            if isinstance(exc, sa_exc.SQLAlchemyError):
                raise _translated(exc) from exc
            raise
        finally:
            self._active.reset(token)
            _close(session)
            if isinstance(bind, Connection) and bind is not self.bind:
                bind.close()

    def _open(self, read_only: bool) -> tuple[Engine | Connection, Transaction | None]:
        """What the unit's session is bound to, and the transaction the unit owns.

        A unit that may write takes a connection and begins (a savepoint when the database
        is bound to a caller's connection); on SQLite it takes the write lock as it begins,
        so two such units of one database never overlap (`engines.writer`). A read-only
        unit holds no connection: its session is bound to the reader engine and takes one
        only if the ORM is used, and compiled reads otherwise borrow one per statement
        (`db.fastpath`)."""
        if isinstance(self.bind, Connection):
            return self.bind, self.bind.begin_nested()
        if read_only:
            return self._reader_bind, None
        connection = self._writer_bind.connect()
        return connection, connection.begin()

    def dispose(self) -> None:
        self.engine.dispose()


def _close(session: Session) -> None:
    """Close the session, unless it never began and holds no object (the common case of a
    unit served by the compiled fast path): then there is nothing to release. (Adding an
    object begins the session's transaction, so pending objects are never skipped.)"""
    if session.in_transaction() or session.identity_map:
        session.close()


@contextmanager
def _quietly() -> Iterator[None]:
    """For a rollback after a failure: the failure is what the caller must see, not a second
    error from a connection that may be gone (closing it returns or discards it anyway)."""
    try:
        yield
    except Exception as exc:
        log.debug("rollback after a failed unit of work also failed: %s", exc)


def _rollback_quietly(transaction: Transaction | None) -> None:
    if transaction is not None and transaction.is_active:
        with _quietly():
            transaction.rollback()


@contextmanager
def _nested(outer: Session, user_id: uuid.UUID | None) -> Iterator[None]:
    """An inner unit: a savepoint of the outer one (nothing to undo in a read-only unit)."""
    if outer.info.get(USER_ID) != user_id:
        raise NestedScopeError("scope", _ANOTHER_SCOPE_OPEN)
    if outer.info.get(READ_ONLY):
        yield
        return
    with outer.begin_nested():
        yield


class AsyncDatabase:
    """An async engine and its units of work (same semantics as `Database`)."""

    def __init__(self, bind: AsyncEngine | AsyncConnection) -> None:
        self.bind = bind
        self.engine = bind if isinstance(bind, AsyncEngine) else bind.engine
        self._reader_bind = bind
        if isinstance(bind, AsyncEngine):
            self._reader_bind = AsyncEngine(reader(bind.sync_engine))
        self._writer_bind = AsyncEngine(writer(self.engine.sync_engine))
        # The open unit of work and the task that owns it: a task spawned inside a unit
        # inherits the context variable, but must not share the session concurrently.
        self._active: ContextVar[_OpenUnit | None] = ContextVar(
            f"async-uow-{id(self)}", default=None
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> AsyncDatabase:
        return cls(create_async_engine(settings))

    def session(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self._unit_of_work(None)

    def user_scope(
        self, user_id: uuid.UUID, *, read_only: bool = False
    ) -> AbstractAsyncContextManager[AsyncSession]:
        """As `Database.user_scope`."""
        return self._unit_of_work(user_id, read_only=read_only)

    @asynccontextmanager
    async def _unit_of_work(
        self, user_id: uuid.UUID | None, *, read_only: bool = False
    ) -> AsyncIterator[AsyncSession]:
        active = self._active.get()
        task = asyncio.current_task()
        if active is not None and active[1] is task:
            outer = active[0]
            if outer.info.get(USER_ID) != user_id:
                raise NestedScopeError("scope", _ANOTHER_SCOPE_OPEN)
            if outer.info.get(READ_ONLY):
                yield outer
                return
            async with outer.begin_nested():
                yield outer
            return
        try:
            bind, transaction = await self._open(read_only)
        except sa_exc.SQLAlchemyError as exc:
            raise _translated(exc) from exc
        session = AsyncSession(
            bind,
            sync_session_class=TaskTrackerSession,
            info=_info(user_id, read_only),
            expire_on_commit=False,
            join_transaction_mode="rollback_only",
        )
        token = self._active.set((session, task))
        try:
            yield session
            if session.in_transaction():
                await session.commit()
            if transaction is not None:
                await transaction.commit()
        except BaseException as exc:
            if transaction is not None and transaction.is_active:
                with _quietly():
                    await transaction.rollback()
            if isinstance(exc, sa_exc.SQLAlchemyError):
                raise _translated(exc) from exc
            raise
        finally:
            self._active.reset(token)
            await session.close()
            if isinstance(bind, AsyncConnection) and bind is not self.bind:
                await bind.close()

    async def _open(
        self, read_only: bool
    ) -> tuple[AsyncEngine | AsyncConnection, AsyncTransaction | None]:
        if isinstance(self.bind, AsyncConnection):
            return self.bind, await self.bind.begin_nested()
        if read_only:
            return self._reader_bind, None
        connection = await self._writer_bind.connect()
        return connection, await connection.begin()

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

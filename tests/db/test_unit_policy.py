"""Sync and async units of work follow one policy: one table of unit kinds, checked for both.

For each kind (`session()`, `user_scope(u)`, `user_scope(u, read_only=True)`) one scenario,
written once, observes what the policy decides: the session's class, options and `info`,
what it is bound to, how an inner unit nests, what a commit, a failure and SQLAlchemy's own
errors do, and that the connection goes back to the pool. It drives `Database` (through an
async shim) and `AsyncDatabase`, each on an engine of its own and bound to a caller's
connection, on a real SQLite file and a real PostgreSQL database; both must give the same
expected table. Their deliberate difference in what a unit carries, the fair gate
(`db.sessions`), has a test of its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from tasktracker.accounts.models import User
from tasktracker.db.engines import READ_ONLY_OPTION, WRITER_OPTION
from tasktracker.db.gate import async_gate_for
from tasktracker.db.sessions import AsyncDatabase, Database
from tasktracker.db.tenancy import GATE, READ_ONLY, USER_ID
from tasktracker.tasks.models import Task

T = TypeVar("T")


class Units(Protocol):
    """A database's units of work, driven the same way whether it is sync or async."""

    def open(
        self, user_id: uuid.UUID | None, *, read_only: bool = False
    ) -> AbstractAsyncContextManager[Any]: ...

    async def run(self, session: Any, fn: Callable[[Session], T]) -> T: ...

    def checked_out(self) -> int: ...


@dataclass
class SyncUnits:
    db: Database

    @asynccontextmanager
    async def open(
        self, user_id: uuid.UUID | None, *, read_only: bool = False
    ) -> AsyncIterator[Session]:
        if user_id is None:
            unit = self.db.session()
        else:
            unit = self.db.user_scope(user_id, read_only=read_only)
        with unit as session:
            yield session

    async def run(self, session: Session, fn: Callable[[Session], T]) -> T:
        return fn(session)

    def checked_out(self) -> int:
        return _checked_out(self.db.engine.pool)


@dataclass
class AsyncUnits:
    adb: AsyncDatabase

    def open(
        self, user_id: uuid.UUID | None, *, read_only: bool = False
    ) -> AbstractAsyncContextManager[AsyncSession]:
        if user_id is None:
            return self.adb.session()
        return self.adb.user_scope(user_id, read_only=read_only)

    async def run(self, session: AsyncSession, fn: Callable[[Session], T]) -> T:
        return await session.run_sync(fn)

    def checked_out(self) -> int:
        return _checked_out(self.adb.engine.pool)


def _checked_out(pool: object) -> int:
    return pool.checkedout() if isinstance(pool, QueuePool) else 0


@dataclass(frozen=True)
class Kind:
    scoped: bool
    read_only: bool = False
    info: tuple[str, ...] = ()
    """The keys of its session's `info`, the gate left out (`test_only_sync_units_...`)."""


KINDS = {
    "session": Kind(scoped=False),
    "user_scope": Kind(scoped=True, info=(USER_ID,)),
    "read_only_scope": Kind(scoped=True, read_only=True, info=(READ_ONLY, USER_ID)),
}


@dataclass(frozen=True)
class Policy:
    """What a unit is seen to do."""

    session: str
    """Class, options and `info` keys of the (sync) session."""
    bound_to: str
    inner_unit: str
    other_scope_inside: str
    write: str
    failure: str
    sqlalchemy_error: str
    pool_timeout: str
    connections_left_out: int


class BoomError(Exception):
    pass


OPTIONS = "TaskTrackerSession expire_on_commit=False join_transaction_mode=rollback_only"
REFUSED = "ReadOnlyUnitError: a read-only unit of work cannot write; 0 landed"


def expected(kind: Kind, backend: str, *, on_callers_connection: bool) -> Policy:
    """The policy table. A database bound to a caller's connection (the `db` and `adb`
    fixtures, migrations) makes every unit a savepoint of the caller's transaction."""
    if on_callers_connection:
        bound_to = "connection, in a transaction []"
    elif kind.read_only:
        bound_to = f"engine [{READ_ONLY_OPTION!r}]"
    else:  # on SQLite, begun IMMEDIATE (`engines.writer`)
        bound_to = f"connection, in a transaction {[WRITER_OPTION] if backend == 'sqlite' else []}"
    return Policy(
        session=f"{OPTIONS} info={list(kind.info)}",
        bound_to=bound_to,
        inner_unit="outer session as is" if kind.read_only else "savepoint",
        other_scope_inside=(
            "NestedScopeError: user scope: scope: a unit of work for another scope is already "
            "open here"
        ),
        write=REFUSED if kind.read_only else "ok; 2 landed",
        failure=REFUSED if kind.read_only else "BoomError: failed in the block; 0 landed",
        sqlalchemy_error="TaskTrackerError: database error: misused",
        pool_timeout="PoolTimeoutError: no free database connection: QueuePool limit",
        connections_left_out=1 if on_callers_connection else 0,
    )


def _session_facts(session: Session) -> str:
    info = sorted(key for key in session.info if key != GATE)
    return (
        f"{type(session).__name__} expire_on_commit={session.expire_on_commit} "
        f"join_transaction_mode={session.join_transaction_mode} info={info}"
    )


def _bound_to(session: Session) -> str:
    bind = session.get_bind()
    options = bind.get_execution_options()
    flags = sorted(name for name in (READ_ONLY_OPTION, WRITER_OPTION) if options.get(name))
    if isinstance(bind, Connection):
        state = "in a transaction" if bind.in_transaction() else "no transaction"
        return f"connection, {state} {flags}"
    return f"engine {flags}"


def _inner(session: Session) -> str:
    return "savepoint" if session.in_nested_transaction() else "outer session as is"


async def _outcome(block: Callable[[], Awaitable[object]]) -> str:
    try:
        await block()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "ok"


async def observe(units: Units, kind: Kind) -> Policy:
    user, other = await _new_user(units), await _new_user(units)
    scope = user if kind.scoped else None

    def unit() -> AbstractAsyncContextManager[Any]:
        return units.open(scope, read_only=kind.read_only)

    async with unit() as session:
        facts = await units.run(session, _session_facts)
        bound_to = await units.run(session, _bound_to)
        async with unit() as inner:
            assert inner is session
            inner_unit = await units.run(inner, _inner)

        async def other_scope() -> None:
            async with units.open(other):
                pass

        other_scope_inside = await _outcome(other_scope)

    async def write(*, fail: bool) -> str:
        marker = f"policy_{uuid.uuid4().hex[:10]}"

        async def block() -> None:
            async with unit() as session:
                session.add(_row(kind, marker))
                await units.run(session, lambda s: s.flush())  # the session is in the unit now
                session.add(_row(kind, marker))  # unflushed: the commit must flush it first
                if fail:
                    raise BoomError("failed in the block")  # only a rollback undoes the first

        outcome = await _outcome(block)
        return f"{outcome}; {await _landed(units, kind, marker)} landed"

    async def raising(exc: Exception) -> None:
        async with unit():
            raise exc

    return Policy(
        session=facts,
        bound_to=bound_to,
        inner_unit=inner_unit,
        other_scope_inside=other_scope_inside,
        write=await write(fail=False),
        failure=await write(fail=True),
        sqlalchemy_error=await _outcome(
            lambda: raising(sa_exc.InvalidRequestError("misused\n(Background on this error)"))
        ),
        pool_timeout=await _outcome(lambda: raising(sa_exc.TimeoutError("QueuePool limit"))),
        connections_left_out=units.checked_out(),
    )


def _row(kind: Kind, marker: str) -> User | Task:
    if kind.scoped:
        return Task(title=marker)
    unique = uuid.uuid4().hex[:8]
    return User(email=f"{unique}@example.com", username=f"{marker}_{unique}", password_hash="-")


async def _landed(units: Units, kind: Kind, marker: str) -> int:
    if kind.scoped:
        statement = select(func.count()).where(Task.title == marker)
    else:
        statement = select(func.count()).where(User.username.startswith(marker))  # type: ignore[attr-defined]
    async with units.open(None) as session:
        return await units.run(session, lambda s: s.scalar(statement) or 0)


async def _new_user(units: Units) -> uuid.UUID:
    async with units.open(None) as session:
        user = _row(KINDS["session"], "policy")
        session.add(user)
        return user.id


def _backend(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


DRIVERS = ("Database", "AsyncDatabase")


@pytest.fixture(params=DRIVERS)
def units_on_engines(request: pytest.FixtureRequest, committed_url: str) -> Units:
    """Each database of its own engine, on each backend (commits land for real)."""
    if request.param == "Database":
        return SyncUnits(request.getfixturevalue("real_db"))
    return AsyncUnits(request.getfixturevalue("real_adb"))


@pytest.fixture(params=DRIVERS)
def units_on_a_callers_connection(request: pytest.FixtureRequest, backend: str) -> Units:
    """Each database bound to a caller's connection (`db`, `adb`), on each backend."""
    if request.param == "Database":
        return SyncUnits(request.getfixturevalue("db"))
    return AsyncUnits(request.getfixturevalue("adb"))


@pytest.mark.parametrize("kind", KINDS)
async def test_units_follow_the_policy(
    units_on_engines: Units, committed_url: str, kind: str
) -> None:
    seen = await observe(units_on_engines, KINDS[kind])
    assert seen == expected(KINDS[kind], _backend(committed_url), on_callers_connection=False)


@pytest.mark.parametrize("kind", KINDS)
async def test_units_on_a_callers_connection_follow_the_policy(
    units_on_a_callers_connection: Units, backend: str, kind: str
) -> None:
    seen = await observe(units_on_a_callers_connection, KINDS[kind])
    assert seen == expected(KINDS[kind], backend, on_callers_connection=True)


async def test_units_go_through_the_fair_gate_of_their_kind(
    real_db: Database,
    real_adb: AsyncDatabase,
    committed_url: str,
) -> None:
    """A unit that may write holds a permit of its pool's gate for its life (sync: a
    `FairGate`, on SQLite the write permit; async on PostgreSQL: an `AsyncFairGate`); a
    read-only unit takes none when it opens and passes the pool's gate, never SQLite's
    write permit, to its compiled reads and its first ORM query (`db.units.PERMIT`), which
    holds its permit until the unit ends. Async units on SQLite take no permit: their
    writers wait in SQLite's busy handler."""
    user = await _new_user(SyncUnits(real_db))
    backend = _backend(committed_url)
    gate = real_db._gate
    assert gate is not None
    free = gate._free
    with real_db.user_scope(user) as session:
        assert (gate._free, GATE in session.info) == (free - 1, False)
    with real_db.user_scope(user, read_only=True) as session:
        seen = session.info.get(GATE)
        assert (gate._free, seen) == (free, gate if backend == "postgresql" else None)
        session.scalar(select(func.count()).select_from(Task))  # an ORM query
        assert gate._free == (free - 1 if backend == "postgresql" else free)
    assert gate._free == free
    async_gate = async_gate_for(real_adb.engine.sync_engine)
    assert (async_gate is not None) == (backend == "postgresql")
    async_free = async_gate._free if async_gate else None
    async with real_adb.user_scope(user) as session:
        assert GATE not in session.info
        if async_gate is not None:
            assert async_gate._free == async_free - 1  # type: ignore[operator]
    async with real_adb.user_scope(user, read_only=True) as session:
        assert session.info.get(GATE) is async_gate
        await session.scalar(select(func.count()).select_from(Task))
        if async_gate is not None:
            assert async_gate._free == async_free - 1  # type: ignore[operator]
    assert (async_gate._free if async_gate else None) == async_free

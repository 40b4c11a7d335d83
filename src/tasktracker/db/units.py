"""The policy of a unit of work, written once: `Database` (sync) and `AsyncDatabase` (async)
in `db.sessions` drive it, each with its own I/O only.

- `UnitKind`: what a unit is (its user scope, whether it may write), hence the options
  and `info` of its session, whether it holds a connection, and the nesting rule.
- `UnitTransaction`: what an open unit owns (the transaction it began, the connection it
  checked out) and how it ends: commit ordering, rollback after a failure, release.
- `OpenUnits`: the unit open in the current context, which an inner unit joins.
- `translating`: SQLAlchemy's own errors as the package's.

`UnitTransaction` works on the sync objects. `AsyncDatabase` runs its steps on the
`AsyncSession`'s sync session through `AsyncSession.run_sync`, the greenlet bridge that
`AsyncSession.commit()` and `AsyncTransaction.commit()` are themselves thin wrappers of:
one implementation, and one greenlet switch per step where awaiting the session's and the
transaction's own methods took one each. What the two do differently, on purpose, and why:
`db.sessions`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, TypedDict, TypeVar

from sqlalchemy import Connection, Transaction, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.orm.session import JoinTransactionMode

from tasktracker.db.errors import NestedScopeError, PoolTimeoutError, TaskTrackerError
from tasktracker.db.gate import Gate
from tasktracker.db.tenancy import GATE, READ_ONLY, USER_ID, TaskTrackerSession

S = TypeVar("S")

log = logging.getLogger("tasktracker.db")

_ANOTHER_SCOPE_OPEN = "a unit of work for another scope is already open here"


class SessionOptions(TypedDict):
    """The keyword arguments of a unit's session (`Session` and `AsyncSession` alike)."""

    info: dict[str, Any]
    expire_on_commit: bool
    join_transaction_mode: JoinTransactionMode


@dataclass(frozen=True, slots=True)
class UnitKind:
    """What a unit of work is: `db.session()` is `UnitKind(None)`, `db.user_scope(u)` is
    `UnitKind(u)`, `db.user_scope(u, read_only=True)` is `UnitKind(u, read_only=True)`."""

    user_id: uuid.UUID | None
    read_only: bool = False

    @property
    def holds_connection(self) -> bool:
        """A unit that may write holds one connection for its life, and begins on it (on
        SQLite, taking the write lock: `engines.writer`). A read-only unit holds none: its
        session is bound to the reader engine, which begins nothing."""
        return not self.read_only

    def session_options(self, gate: Gate | None = None) -> SessionOptions:
        """Objects stay loaded after the commit (callers read them after the block). The
        session joins the unit's transaction and leaves it to the unit (`rollback_only`),
        so the ORM and compiled statements on the connection (`db.fastpath`) share it.

        `gate` is the pool's fair gate: a read-only unit passes it to the connections its
        compiled reads borrow (`tenancy.GATE`), unless it is SQLite's write permit."""
        info: dict[str, Any] = {} if self.user_id is None else {USER_ID: self.user_id}
        if self.read_only:
            info[READ_ONLY] = True
            if gate is not None and not gate.writers_only:
                info[GATE] = gate
        return {"info": info, "expire_on_commit": False, "join_transaction_mode": "rollback_only"}

    def needs_savepoint_in(self, outer: Mapping[str, Any]) -> bool:
        """The nesting rule, for a unit opened while `outer` (that unit's session `info`)
        is open: it joins the outer session, as a savepoint of it, or as it is when the
        outer unit is read-only (nothing to undo). It must have the outer's scope, else
        `NestedScopeError`; its own `read_only` does not apply: the outer unit decides."""
        if outer.get(USER_ID) != self.user_id:
            raise NestedScopeError("scope", _ANOTHER_SCOPE_OPEN)
        return not outer.get(READ_ONLY)


@dataclass(frozen=True, slots=True)
class UnitTransaction:
    """What an open unit owns besides its session, and how it ends. Each step takes the
    unit's (sync) session, so `AsyncSession.run_sync` can run it."""

    transaction: Transaction | None
    """Begun by the unit; None for a read-only unit, which begins nothing."""
    connection: Connection | None
    """Checked out by the unit, closed at its end; None when it holds none or uses the
    connection the database is bound to."""

    @classmethod
    def owning(cls, connection: Connection) -> UnitTransaction:
        """A unit that may write: its own connection, and a transaction on it. Should
        BEGIN fail (SQLite's BEGIN IMMEDIATE timing out on a busy writer), the connection
        goes back to the pool at once rather than when it is garbage collected."""
        try:
            return cls(connection.begin(), connection)
        except BaseException:
            connection.close()
            raise

    @classmethod
    def reader(cls) -> UnitTransaction:
        """A read-only unit: it begins nothing and holds no connection."""
        return cls(None, None)

    @classmethod
    def savepoint_of(cls, connection: Connection) -> UnitTransaction:
        """Any unit of a database bound to a caller's connection (tests, migrations): a
        savepoint of the caller's transaction; the connection stays the caller's."""
        return cls(connection.begin_nested(), None)

    def commit(self, session: Session) -> None:
        """On success: the session first (it flushes, and ends its part), then the
        transaction the unit owns, which is what commits."""
        if session.in_transaction():
            session.commit()
        if self.transaction is not None:
            self.transaction.commit()

    def roll_back(self, session: Session) -> None:
        """After a failure (in the block or in `commit`). The failure is what the caller
        must see, not a second error from a connection that may be gone; closing it
        returns or discards it anyway."""
        if self.transaction is not None and self.transaction.is_active:
            try:
                self.transaction.rollback()
            except Exception as exc:
                log.debug("rollback after a failed unit of work also failed: %s", exc)

    def idle(self, session: Session) -> bool:
        """Whether ending the unit has nothing to do (`commit` and `release` would do
        nothing): a read-only unit served by the compiled fast path alone, which began
        nothing and holds no connection, object or permit. An async unit then ends without
        a trip through the greenlet bridge."""
        return (
            self.transaction is None
            and self.connection is None
            and not session.in_transaction()
            and not session.identity_map
            and PERMIT not in session.info
        )

    def release(self, session: Session) -> None:
        """Always: close the session, then the unit's connection (back to the pool). A
        session that never began and holds no object (a unit served by the compiled fast
        path) has nothing to release and is not closed. (Adding an object begins the
        session's transaction, so pending objects are never skipped.)"""
        if session.in_transaction() or session.identity_map:
            session.close()
        if self.connection is not None:
            self.connection.close()
        permit: ExitStack | None = session.info.pop(PERMIT, None)
        if permit is not None:
            permit.close()  # after the connection is back in the pool


PERMIT = "tasktracker.permit"
"""In a read-only unit's `info`: the gate's permit of its ORM queries, held from the first
one to the unit's end, as the connection the session takes for them is."""


@event.listens_for(TaskTrackerSession, "do_orm_execute")
def _queue_read_only_orm(state: ORMExecuteState) -> None:
    """A read-only unit's first ORM query waits its turn at the pool's fair gate before its
    session checks a connection out, as each compiled read does (`tenancy.GATE`); the
    units that hold a connection took their permit when they opened."""
    info = state.session.info
    gate: Gate | None = info.get(GATE)
    if gate is None or PERMIT in info:
        return
    permit = ExitStack()
    permit.enter_context(gate.permit())
    info[PERMIT] = permit


class OpenUnits(Generic[S]):
    """The unit of work open in the current context (per database), and who owns it.

    `owner` tells an inner unit from a concurrent one that inherited the context: an
    asyncio task copies its creator's context, so a task spawned inside a unit would see
    that unit (`AsyncDatabase` passes `asyncio.current_task`). A thread starts with a
    context of its own, so `Database` passes none."""

    def __init__(self, name: str, owner: Callable[[], object] | None = None) -> None:
        self._current: ContextVar[tuple[S, object] | None] = ContextVar(name, default=None)
        self._owner = owner or _nobody

    def outer(self) -> S | None:
        """The session of the unit an inner unit opened here joins, if any."""
        current = self._current.get()
        if current is None or current[1] is not self._owner():
            return None
        return current[0]

    @contextmanager
    def opened(self, session: S) -> Iterator[None]:
        token = self._current.set((session, self._owner()))
        try:
            yield
        finally:
            self._current.reset(token)


def _nobody() -> None:
    return None


@contextmanager
def translating() -> Iterator[None]:
    """SQLAlchemy's own errors (a pool timeout, a misuse) raised in a unit, as the
    package's. Driver errors arrive translated already (`driver_errors`)."""
    try:
        yield
    except sa_exc.SQLAlchemyError as exc:
        raise _translated(exc) from exc


def _translated(exc: sa_exc.SQLAlchemyError) -> TaskTrackerError:
    detail = str(exc.args[0] if exc.args else exc).splitlines()[0]  # without SQLAlchemy's link
    if isinstance(exc, sa_exc.TimeoutError):
        log.warning("pool exhausted: %s", detail)
        return PoolTimeoutError(f"no free database connection: {detail}")
    return TaskTrackerError(f"database error: {detail}")

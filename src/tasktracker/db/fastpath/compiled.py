"""The compiled fast path: the hottest statements compiled once and sent straight to the driver.

Through the ORM a statement costs about half a millisecond of CPU (building it, its cache
key, the ORM's compile state, result processing, identity-mapped objects): several times
what the driver itself spends on a page of rows. For the few statements on every request's
path (a page of tasks, one task, the latest messages, a new task), a `CompiledQuery`
compiles its statement once per dialect, then on each call:

- takes the unit of work's connection (`unit_connection`: pending ORM changes are flushed
  first), so it shares the unit's transaction and sees its writes; a read-only unit that
  holds no connection borrows one from the pool for this one statement;
- binds the parameters through the column types' own bind processors, and the scope's
  user id from the unit of work: a caller can neither supply nor omit it;
- sends the SQL on that connection's DBAPI cursor, logging it if slow, firing the
  `before_cursor_execute`/`after_cursor_execute` events when anything listens to them
  (tracing, statement counting in tests), and turning driver errors into the package's
  errors as the engine's `handle_error` hook does, invalidating a lost connection;
- turns rows into immutable read rows (`NamedTuple`s), decoding column by column
  (`fastpath.decoding`).

The plan of a statement (its SQL, bind processors, decoders: `fastpath.plans`) is built
once per dialect and shared by the two executors: this one, and the async one
(`fastpath.asynchronous`), which awaits the driver's async cursor with the same checks.
What they read of SQLAlchemy beyond its public API (the compiler's bind names and
positions, event dispatch) goes through `db.sqlalchemy_internals`.

Isolation stays structural (`tenancy.compiled_scope`): a statement is checked as any
statement in a user scope is, a SELECT is compiled with the loader criteria every ORM
statement gets, with the user id as a parameter, and an INSERT must bind its owner to it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from contextlib import nullcontext, suppress
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.dml import Insert

from tasktracker.db.driver_errors import translate_driver_error
from tasktracker.db.engines import cursor_events_observed
from tasktracker.db.fastpath.decoding import RowT, decode_rows
from tasktracker.db.fastpath.plans import (
    RELEASE,
    ROLLBACK_TO_SAVEPOINT,
    SAVEPOINT,
    AnySelect,
    Plan,
    check_complete,
    finished,
    lost_connection,
    undo_for,
)
from tasktracker.db.fastpath.steps import Statement
from tasktracker.db.gate import Gate
from tasktracker.db.sqlalchemy_internals import fire_cursor_event
from tasktracker.db.tenancy import (
    GATE,
    SCOPE_PARAMETER,
    check_writable,
    compiled_scope,
    scope_user_id,
)

QueryT = TypeVar("QueryT")


def unit_connection(session: Session) -> Connection | None:
    """The connection of the session's unit of work, after flushing pending ORM changes;
    None for a read-only unit that holds none (a statement then borrows one).

    Inside a nested unit the session's savepoint is established first (the session sends
    SAVEPOINT lazily, on its own next statement), so a failing nested unit also undoes the
    compiled statements it sent."""
    if session.autoflush:
        session.flush()
    bind = session.bind
    if isinstance(bind, Connection):
        return session.connection() if session.in_nested_transaction() else bind
    return session.connection() if session.in_transaction() else None


class CompiledQuery(Generic[RowT]):
    """A tenant statement compiled once per dialect, run on the unit of work's connection.

    `statement` is a SELECT over tenant models (the scope criteria are added here) or an
    INSERT whose `user_id` is `bindparam(SCOPE_PARAMETER)`; `row` is the `NamedTuple`
    whose fields are the selected columns, in order.
    """

    def __init__(self, statement: AnySelect | Insert, row: type[RowT] | None = None) -> None:
        self.writes = not isinstance(statement, Select)
        if not isinstance(statement, Select):
            check_complete(statement)
        self.statement = compiled_scope(statement)
        self._make_row: Callable[[Iterable[Any]], RowT] | None = (
            functools.partial(tuple.__new__, row) if row is not None else None
        )
        # By dialect instance (one per engine; the fast lookup) and by (name, driver, style).
        self._plans: dict[Hashable, Plan] = {}

    def all(self, session: Session, **parameters: Any) -> list[RowT]:
        """Every row, as read rows."""
        plan, rows = self._run(session, parameters, fetch=True)
        return self.decoded(plan, rows)

    def execute(self, session: Session, **parameters: Any) -> int:
        """Run a statement that returns no rows; the number of rows it changed."""
        _, count = self._run(session, parameters, fetch=False)
        return int(count)

    def fetching(self, **parameters: Any) -> Statement:
        """`all` as a step of a fast-path method (`fastpath.steps`): its rows are sent back."""
        return Statement(self, parameters, fetch=True)

    def changing(self, **parameters: Any) -> Statement:
        """`execute` as a step of a fast-path method: its row count is sent back."""
        return Statement(self, parameters, fetch=False)

    def plan(self, dialect: Dialect) -> Plan:
        plan = self._plans.get(dialect)
        if plan is None:
            key = (dialect.name, dialect.driver, dialect.paramstyle)
            plan = self._plans.get(key) or Plan.of(self.statement, dialect)
            self._plans[key] = self._plans[dialect] = plan
        return plan

    def bound(self, session: Session, parameters: dict[str, Any]) -> dict[str, Any]:
        """`parameters` with the scope's user id, from the unit of work (a caller can
        neither supply nor omit it); a write is refused in a read-only unit."""
        parameters[SCOPE_PARAMETER] = scope_user_id(session)
        if self.writes:
            check_writable(session)
        return parameters

    def decoded(self, plan: Plan, rows: Any) -> list[RowT]:
        """The driver's rows as read rows."""
        assert self._make_row is not None, "a statement without a row type returns no rows"
        return decode_rows(rows, plan.decoders, plan.columns, self._make_row)

    def _run(self, session: Session, parameters: dict[str, Any], *, fetch: bool) -> Any:
        self.bound(session, parameters)
        connection = unit_connection(session)
        if connection is not None:
            return self._send(connection, connection.connection, parameters, fetch)
        engine = session.get_bind()
        assert isinstance(engine, Engine), "a read-only unit's session is bound to its engine"
        gate: Gate | None = session.info.get(GATE)
        with gate.permit() if gate is not None else nullcontext():
            if cursor_events_observed(engine):
                with engine.connect() as connection:  # the listeners are given a Connection
                    return self._send(connection, connection.connection, parameters, fetch)
            borrowed = engine.raw_connection()
            try:
                return self._send(engine, borrowed, parameters, fetch)
            finally:
                borrowed.close()

    def _send(
        self,
        owner: Connection | Engine,
        fairy: PoolProxiedConnection,
        parameters: dict[str, Any],
        fetch: bool,
    ) -> tuple[Plan, Any]:
        """Execute on `fairy`, a pooled connection held by `owner` (the unit's connection,
        or the engine it was borrowed from for this one statement)."""
        dialect = owner.dialect
        plan = self.plan(dialect)
        arguments = plan.arguments(parameters)
        cursor = fairy.cursor()
        # The engine's own slow-query log is applied here; the cursor events are dispatched
        # only when someone else listens (tracing, statement counting): they cost as much
        # as the rest of this method.
        observed = isinstance(owner, Connection) and cursor_events_observed(owner)
        if observed:
            fire_cursor_event(owner, "before_cursor_execute", cursor, plan.sql, arguments)
        undo = undo_for(fairy, dialect) if self.writes else None
        savepoint = undo == ROLLBACK_TO_SAVEPOINT
        try:
            if savepoint:
                cursor.execute(SAVEPOINT)
            started = time.perf_counter()
            cursor.execute(plan.sql, arguments)
            result = cursor.fetchall() if fetch else cursor.rowcount
            elapsed = time.perf_counter() - started
            if savepoint:
                cursor.execute(RELEASE)
        except dialect.loaded_dbapi.Error as exc:
            lost, invalidate = lost_connection(owner, fairy, exc, cursor)
            if invalidate is not None:
                invalidate(exc)
            elif undo is not None:  # should this fail too, the write's error is still the one
                with suppress(dialect.loaded_dbapi.Error):
                    cursor.execute(undo)
            raise translate_driver_error(exc, lost) from exc
        finally:
            with suppress(dialect.loaded_dbapi.Error):  # as it may, on a connection just dropped
                cursor.close()
        finished(
            owner, observed=observed, cursor=cursor, plan=plan, arguments=arguments, elapsed=elapsed
        )
        return plan, result


class QueryCache(Generic[QueryT]):
    """Queries (compiled, or ORM statements) by shape, the least recently used dropped past
    `size`, each built by the first call that needs it."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._queries: OrderedDict[Hashable, QueryT] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, shape: Hashable, build: Callable[[], QueryT]) -> QueryT:
        with self._lock:
            query = self._queries.get(shape)
            if query is not None:
                self._queries.move_to_end(shape)
                return query
        query = build()  # outside the lock: two threads may both build a new shape once
        with self._lock:
            self._queries[shape] = query
            if len(self._queries) > self.size:
                self._queries.popitem(last=False)
        return query

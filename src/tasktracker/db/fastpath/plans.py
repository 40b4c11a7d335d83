"""What the two executors of a compiled statement share (`compiled` runs it on the DBAPI
cursor, `asynchronous` awaits the driver's async cursor): the plan of a statement on one
dialect (its SQL, how its parameters are bound, how its rows are decoded), and how a
compiled write on PostgreSQL is undone if it fails, what a driver error means for the
connection, and what is recorded after a statement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPIModule
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert

from tasktracker.db.driver_errors import transaction_lost
from tasktracker.db.engines import SLOW_QUERY_OPTION, log_if_slow
from tasktracker.db.errors import ValidationError
from tasktracker.db.fastpath.decoding import Converter, Decoders, decoders
from tasktracker.db.sqlalchemy_internals import (
    bind_names,
    fire_cursor_event,
    positions,
    prefetch_columns,
)

SAVEPOINT = "SAVEPOINT tasktracker_write"
RELEASE = "RELEASE SAVEPOINT tasktracker_write"
ROLLBACK_TO_SAVEPOINT = "ROLLBACK TO SAVEPOINT tasktracker_write"

AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class Plan:
    """A statement compiled for one dialect, with what its parameters and rows need."""

    compiled: SQLCompiler
    sql: str
    positions: tuple[str, ...] | None
    processors: tuple[tuple[str, Converter], ...]
    decoders: Decoders
    columns: tuple[str, ...]

    @classmethod
    def of(cls, statement: AnySelect | Insert, dialect: Dialect) -> Plan:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        processors: dict[str, Converter] = {}
        for bind, name in bind_names(compiled):
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors.setdefault(name, process)  # a name may be bound more than once
        columns = statement.selected_columns if isinstance(statement, Select) else ()
        return cls(
            compiled,
            compiled.string,
            positions(compiled),
            tuple(processors.items()),
            decoders((column.type for column in columns), dialect),
            tuple(column.key or "value" for column in columns),
        )

    def arguments(self, values: dict[str, Any]) -> Any:
        """The driver's parameters: our values, converted by the column types."""
        parameters = self.compiled.construct_params(values)
        for name, process in self.processors:
            try:
                parameters[name] = process(parameters[name])
            except ValidationError as exc:  # refused by one of our types (a naive datetime)
                raise ValidationError.single(name, exc.errors[0].message) from None
            except (TypeError, ValueError, AttributeError) as exc:
                # What the ORM path reports as a statement error: a value the column's type
                # cannot take (a naive datetime, a string where a UUID belongs).
                reason = str(exc) if isinstance(exc, ValueError) else "has the wrong type"
                raise ValidationError.single(name, reason) from None
        if self.positions is None:
            return parameters
        return tuple(parameters[name] for name in self.positions)


def undo_for(fairy: PoolProxiedConnection, dialect: Dialect) -> str | None:
    """How a compiled write on PostgreSQL is undone if it fails, leaving the unit usable as
    after a failed ORM write (`db.repository.write`): PostgreSQL aborts the whole
    transaction on a failed statement (SQLite undoes only the statement by itself: None).

    A write that begins the transaction (psycopg sends BEGIN with the unit's first
    statement: the usual unit is one INSERT, then COMMIT) is undone by rolling that back:
    nothing else is in it. Any other is sent in a savepoint, two more round trips."""
    if dialect.name != "postgresql":
        return None
    pgconn = getattr(fairy.driver_connection, "pgconn", None)  # psycopg's; asyncpg has none
    if pgconn is not None and pgconn.transaction_status == TransactionStatus.IDLE:
        return "ROLLBACK"
    return ROLLBACK_TO_SAVEPOINT


def check_complete(statement: Insert) -> None:
    """A compiled INSERT runs no Python-side column defaults (SQLAlchemy's execution would
    compute these "prefetch" columns first): it must give a value for each of them."""
    compiled = statement.compile()
    assert isinstance(compiled, SQLCompiler)
    missing = prefetch_columns(compiled)
    if missing:
        raise ValueError(f"a compiled INSERT must give these columns: {', '.join(missing)}")


def lost_connection(
    owner: Connection | Engine,
    fairy: PoolProxiedConnection,
    exc: DBAPIModule.Error,
    cursor: Any,
) -> tuple[bool, Callable[[BaseException], None] | None]:
    """After a driver error: whether the connection is lost, and what must invalidate it
    (the unit's connection, also when SQLite ended its transaction; else the borrowed
    one), None if it stays usable."""
    lost: bool = owner.dialect.is_disconnect(exc, fairy.dbapi_connection, cursor)
    if isinstance(owner, Connection) and (lost or transaction_lost(owner)):
        return lost, owner.invalidate
    return lost, fairy.invalidate if lost else None


def finished(
    owner: Connection | Engine,
    *,
    observed: bool,
    cursor: Any,
    plan: Plan,
    arguments: Any,
    elapsed: float,
) -> None:
    """After a statement: the cursor event to its listeners, or the slow-query log."""
    if observed:
        fire_cursor_event(owner, "after_cursor_execute", cursor, plan.sql, arguments)
    else:
        threshold = owner.get_execution_options().get(SLOW_QUERY_OPTION)
        if threshold is not None:
            log_if_slow(plan.sql, elapsed, threshold)

"""The async executor of a compiled statement: awaited on the driver's own async cursor
(psycopg's `AsyncConnection`, aiosqlite's), not through SQLAlchemy's greenlet bridge.

It is the sync executor (`CompiledQuery._send`) with each round trip awaited: the same
plan (`CompiledQuery.plan`, shared), the same scope and read-only checks
(`CompiledQuery.bound`), the unit's connection, hence its transaction, when the unit
holds one, else a pooled one borrowed for the statement behind the pool's fair gate
(`AsyncFairGate.apermit`), the same savepoint or rollback around a failing write, the
same driver error translation and invalidation, cursor events and slow-query log.

What still needs SQLAlchemy's I/O, rare on the fast path, goes through its greenlet bridge
(`greenlet_spawn`): a flush of pending ORM changes, the connection of a nested unit (its
SAVEPOINT) or of a read-only unit that used the ORM, checking a connection out of the
pool and returning it (a new connection, the reset on return), invalidating one.

asyncpg is not served (`serves`): its adapter turns asyncpg's exceptions and types into
the DBAPI's, which the plans and the error translation expect, so its units keep the
adapted path (`AsyncSession.run_sync`).
"""

from __future__ import annotations

import time
from contextlib import nullcontext, suppress
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from tasktracker.db.driver_errors import translate_driver_error
from tasktracker.db.engines import cursor_events_observed
from tasktracker.db.fastpath.plans import (
    RELEASE,
    ROLLBACK_TO_SAVEPOINT,
    SAVEPOINT,
    Plan,
    finished,
    lost_connection,
    undo_for,
)
from tasktracker.db.gate import AsyncFairGate
from tasktracker.db.sqlalchemy_internals import fire_cursor_event
from tasktracker.db.tenancy import GATE

if TYPE_CHECKING:
    from tasktracker.db.fastpath.compiled import CompiledQuery

_SERVED = frozenset({"psycopg", "aiosqlite"})
"""The async drivers this executor awaits directly (`Dialect.driver`)."""


def serves(session: AsyncSession) -> bool:
    """Whether the session's statements can be awaited on the driver's async cursor."""
    return session.sync_session.get_bind().dialect.driver in _SERVED


async def run(
    session: AsyncSession, query: CompiledQuery[Any], parameters: dict[str, Any], fetch: bool
) -> Any:
    """`query.all` (`fetch`) or `query.execute`, awaited, in the async unit of work."""
    query.bound(session.sync_session, parameters)
    connection = await _unit_connection(session)
    if connection is not None:
        plan, result = await _send(query, connection, connection.connection, parameters, fetch)
    else:
        plan, result = await _borrowing(session, query, parameters, fetch)
    return query.decoded(plan, result) if fetch else int(result)


async def _unit_connection(session: AsyncSession) -> Connection | None:
    """`compiled.unit_connection` for an async unit: the connection a unit that may write
    is bound to is at hand; a flush, a nested unit's SAVEPOINT or a read-only unit's
    connection (taken by an ORM query) go through the session."""
    sync = session.sync_session
    if sync.autoflush and (sync.new or sync.deleted or sync.identity_map.check_modified()):
        await session.flush()
    bind = sync.bind
    if isinstance(bind, Connection) and not sync.in_nested_transaction():
        return bind
    if isinstance(bind, Connection) or sync.in_transaction():
        return (await session.connection()).sync_connection
    return None


async def _borrowing(
    session: AsyncSession, query: CompiledQuery[Any], parameters: dict[str, Any], fetch: bool
) -> tuple[Plan, Any]:
    """A read-only unit's statement, on a pooled connection borrowed for it, behind the
    pool's fair gate (the permit is held until the connection is back in the pool)."""
    engine = session.sync_session.get_bind()
    assert isinstance(engine, Engine), "a read-only unit's session is bound to its engine"
    gate = session.sync_session.info.get(GATE)
    async with gate.apermit() if isinstance(gate, AsyncFairGate) else nullcontext():
        if cursor_events_observed(engine):  # the listeners are given a Connection
            connection = await greenlet_spawn(engine.connect)
            try:
                return await _send(query, connection, connection.connection, parameters, fetch)
            finally:
                await greenlet_spawn(connection.close)
        borrowed = await greenlet_spawn(engine.raw_connection)
        try:
            return await _send(query, engine, borrowed, parameters, fetch)
        finally:
            await greenlet_spawn(borrowed.close)


async def _send(
    query: CompiledQuery[Any],
    owner: Connection | Engine,
    fairy: PoolProxiedConnection,
    parameters: dict[str, Any],
    fetch: bool,
) -> tuple[Plan, Any]:
    """`CompiledQuery._send`, each round trip awaited on the driver's async cursor."""
    dialect = owner.dialect
    plan = query.plan(dialect)
    arguments = plan.arguments(parameters)
    driver: Any = fairy.driver_connection
    cursor = driver.cursor() if dialect.name == "postgresql" else await driver.cursor()
    observed = isinstance(owner, Connection) and cursor_events_observed(owner)
    if observed:
        fire_cursor_event(owner, "before_cursor_execute", cursor, plan.sql, arguments)
    undo = undo_for(fairy, dialect) if query.writes else None
    savepoint = undo == ROLLBACK_TO_SAVEPOINT
    try:
        if savepoint:
            await cursor.execute(SAVEPOINT)
        started = time.perf_counter()
        await cursor.execute(plan.sql, arguments)
        result = await cursor.fetchall() if fetch else cursor.rowcount
        elapsed = time.perf_counter() - started
        if savepoint:
            await cursor.execute(RELEASE)
    except dialect.loaded_dbapi.Error as exc:
        lost, invalidate = lost_connection(owner, fairy, exc, cursor)
        if invalidate is not None:
            await greenlet_spawn(invalidate, exc)
        elif undo is not None:  # should this fail too, the write's error is still the one
            with suppress(dialect.loaded_dbapi.Error):
                await cursor.execute(undo)
        raise translate_driver_error(exc, lost) from exc
    finally:
        with suppress(dialect.loaded_dbapi.Error):  # as it may, on a connection just dropped
            await cursor.close()
    finished(
        owner, observed=observed, cursor=cursor, plan=plan, arguments=arguments, elapsed=elapsed
    )
    return plan, result

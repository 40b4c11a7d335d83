"""The fast-path methods written once for sync and async units: as steps.

A fast-path repository method (`TaskRepository.read`) is a generator of the statements it
needs (`Steps`), written in the sync repository; a driver runs them:

- `run_steps(session, steps)` on a sync session, each statement by the sync executor
  (`CompiledQuery.all` / `execute`, on the DBAPI cursor);
- `run_steps_async(async_session, steps)` on an async one, each statement awaited on the
  driver's own async cursor (`fastpath.asynchronous`), without SQLAlchemy's greenlet
  bridge; on asyncpg, whose async cursor is not used, the whole generator runs through
  `AsyncSession.run_sync`, as every other method does.

A step the fast path has no compiled form for (an ORM lookup, which a not-found answer
may need) is an `OnSession` call, run on the sync session (through `run_sync` on async).
The sync repository method is `return run_steps(self.session, self._steps(...))`; the
async facades' generator sees that form and writes `run_steps_async` for it
(`scripts/generate_async_facades.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from tasktracker.db.fastpath import asynchronous

if TYPE_CHECKING:
    from tasktracker.db.fastpath.compiled import CompiledQuery

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Statement:
    """Run a compiled statement: its rows as read rows (`fetch`), or its row count."""

    query: CompiledQuery[Any]
    parameters: dict[str, Any]
    fetch: bool


@dataclass(frozen=True, slots=True)
class OnSession:
    """Run sync code on the unit's (sync) session: the ORM, off the fast path."""

    call: Callable[[], Any]


Step: TypeAlias = Statement | OnSession
Steps: TypeAlias = Generator[Step, Any, T]
"""What a fast-path method yields (its statements), is sent (their results), returns."""


def run_steps(session: Session, steps: Steps[T]) -> T:
    """Run `steps` on a sync session. A step's error is raised in the generator, where
    the statement stands, as it would be in a plain method."""
    try:
        step = next(steps)
        while True:
            try:
                result = _run_sync(session, step)
            except Exception as exc:
                step = steps.throw(exc)
            else:
                step = steps.send(result)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def _run_sync(session: Session, step: Step) -> Any:
    if isinstance(step, OnSession):
        return step.call()
    if step.fetch:
        return step.query.all(session, **step.parameters)
    return step.query.execute(session, **step.parameters)


async def run_steps_async(session: AsyncSession, steps: Steps[T]) -> T:
    """Run `steps` on an async session: on the driver's async cursor where the fast path
    has an async executor for the driver, else through `AsyncSession.run_sync`."""
    if not asynchronous.serves(session):
        return await session.run_sync(run_steps, steps)
    try:
        step = next(steps)
        while True:
            try:
                result = await _run_async(session, step)
            except Exception as exc:
                step = steps.throw(exc)
            else:
                step = steps.send(result)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def _run_async(session: AsyncSession, step: Step) -> Any:
    if isinstance(step, OnSession):
        call = step.call
        return await session.run_sync(lambda _: call())
    return await asynchronous.run(session, step.query, dict(step.parameters), step.fetch)

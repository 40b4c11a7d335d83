"""Dependencies: the app's database, and a user-scoped unit of work per request.

This module does not use `from __future__ import annotations`: FastAPI reads the
`Annotated[..., Depends(current_user)]` of the nested dependency at run time, and
`current_user` is a local of the factory, which a string annotation could not resolve.

The unit is a dependency of scope "function" (FastAPI >= 0.121): its exit, the commit,
runs when the path operation has returned and its response is built, before a byte of
the response is sent. A commit that fails is then an error response (the exception
handlers see it), never a 2xx for work that was not committed. With the default scope
("request"), FastAPI >= 0.118 runs the exit after the response is sent.
"""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.params import Depends as DependsMarker

from tasktracker.db.errors import ConfigurationError
from tasktracker.fastapi.lifespan import STATE_KEY
from tasktracker.units import AsyncDatabase, AsyncUnit

CurrentUser = Callable[..., uuid.UUID] | Callable[..., Awaitable[uuid.UUID]]
"""The app's own dependency that authenticates the request and returns the user's id."""


def database(request: Request) -> AsyncDatabase:
    """The `AsyncDatabase` that `database_lifespan` put on the app."""
    adb = getattr(request.app.state, STATE_KEY, None)
    if not isinstance(adb, AsyncDatabase):
        raise ConfigurationError(
            "no AsyncDatabase on app.state: create the app with"
            " FastAPI(lifespan=tasktracker.fastapi.database_lifespan(...))"
        )
    return adb


DatabaseDependency = Annotated[AsyncDatabase, Depends(database)]


def user_unit(current_user: CurrentUser, *, read_only: bool = False) -> DependsMarker:
    """The marker of a dependency that yields the current user's `AsyncUnit` for the
    request: committed when the handler returns, rolled back when it raises.

        Unit = Annotated[AsyncUnit, user_unit(current_user)]

    The marker carries `scope="function"`, so the commit comes before the response. A
    `yield` dependency of the app's that takes the unit must have that scope too (FastAPI
    refuses a request-scoped one)."""

    async def open_unit(
        adb: DatabaseDependency, user_id: Annotated[uuid.UUID, Depends(current_user)]
    ) -> AsyncIterator[AsyncUnit]:
        async with adb.user_scope(user_id, read_only=read_only) as unit:
            yield unit

    open_unit.__name__ = "read_only_unit" if read_only else "user_unit"
    return cast(DependsMarker, Depends(open_unit, scope="function"))


def read_only_unit(current_user: CurrentUser) -> DependsMarker:
    """As `user_unit`, a read-only unit: no connection is held for writing, and a write
    raises `ReadOnlyUnitError` (a 500: the handler's mistake, not the client's)."""
    return user_unit(current_user, read_only=True)

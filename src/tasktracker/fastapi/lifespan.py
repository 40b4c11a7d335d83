"""The app's `AsyncDatabase`: created on startup, kept on `app.state`, disposed on shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from tasktracker.db.settings import Settings
from tasktracker.units import AsyncDatabase

STATE_KEY = "tasktracker_database"
"""The attribute of `app.state` that holds the database (`dependencies.database` reads it)."""


def database_lifespan(
    settings: Settings | None = None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan for `FastAPI(lifespan=...)`: the engine of `settings` (the environment's
    when None) lives as long as the app. Creating it connects to nothing, so an app starts
    while the database is down; the health endpoint says so and requests answer 503."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        adb = AsyncDatabase.from_settings(settings)
        setattr(app.state, STATE_KEY, adb)
        try:
            yield
        finally:
            delattr(app.state, STATE_KEY)
            await adb.dispose()

    return lifespan

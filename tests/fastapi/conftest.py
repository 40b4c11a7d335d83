"""The FastAPI tests' fixtures: real apps, run with their lifespan, on real databases.

Requests go through the whole ASGI app (`httpx.ASGITransport`): routing, dependencies, the
units' commits, the exception handlers. The apps commit for real, so they get databases of
their own (one per backend, migrated once), not the suite's shared `migrated_url`, which
other tests read inside rolled-back transactions; each test makes its own users.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tasktracker.accounts.models import User
from tasktracker.db.engines import create_engine
from tasktracker.db.sessions import Database
from tasktracker.db.settings import Settings
from tests import databases
from tests.conftest import BACKENDS, require_postgres


@pytest.fixture(scope="session", params=BACKENDS)
def api_url(request: pytest.FixtureRequest, sqlite_dir: Path) -> Iterator[str]:
    """A migrated database per backend that the apps under test commit into."""
    if request.param == "postgresql":
        require_postgres()
    with databases.migrated_database(request.param, sqlite_dir, "tt_api") as url:
        yield url


@pytest.fixture
def api_backend(api_url: str) -> str:
    return "postgresql" if api_url.startswith("postgresql") else "sqlite"


@pytest.fixture(scope="session")
def api_db(api_url: str) -> Iterator[Database]:
    """A sync database on the same data, to set up and to check outside the app."""
    engine = create_engine(databases.test_settings(api_url))
    yield Database(engine)
    engine.dispose()


@pytest.fixture
def new_user(api_db: Database, password_hash: str) -> Callable[[], uuid.UUID]:
    def make() -> uuid.UUID:
        name = f"api_{uuid.uuid4().hex[:10]}"
        with api_db.session() as session:
            user = User(email=f"{name}@example.com", username=name, password_hash=password_hash)
            session.add(user)
            session.flush()
            return user.id

    return make


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of `app`, with the app's lifespan run around it as a server would."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        yield client


def api_settings(url: str, **overrides: Any) -> Settings:
    return databases.test_settings(url, **overrides)

"""Fixtures for the data-layer core tests that need units of work that really commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tasktracker.db.sessions import AsyncDatabase, Database
from tests import databases
from tests.conftest import BACKENDS, require_postgres


@pytest.fixture(scope="package", params=BACKENDS)
def committed_url(request: pytest.FixtureRequest, sqlite_dir: Path) -> Iterator[str]:
    """A migrated database per backend of its own: commits land for real (unlike `db`)."""
    if request.param == "postgresql":
        require_postgres()
        with databases.fresh_postgres_database("ttcore") as url:
            databases.migrate_to(url)
            yield url
    else:
        with databases.fresh_sqlite_database(sqlite_dir) as url:
            databases.migrate_to(url)
            yield url


@pytest.fixture(scope="package")
def postgres_committed_url() -> Iterator[str]:
    """A migrated PostgreSQL database of its own, for tests of concurrent transactions."""
    require_postgres()
    with databases.fresh_postgres_database("ttconc") as url:
        databases.migrate_to(url)
        yield url


@pytest.fixture
def real_db(committed_url: str) -> Iterator[Database]:
    database = Database.from_settings(databases.test_settings(committed_url))
    yield database
    database.dispose()


@pytest.fixture
async def real_adb(committed_url: str) -> AsyncIterator[AsyncDatabase]:
    database = AsyncDatabase.from_settings(databases.test_settings(committed_url))
    yield database
    await database.dispose()

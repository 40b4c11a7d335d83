"""Every test in this folder reaches PostgreSQL through PgBouncer in transaction pooling mode.

The shared fixtures `migrated_url`, `engine` and `async_engine` are overridden here: the
database is migrated directly (as a deployment would), then used through PgBouncer with the
setting a transaction pooler needs (`DATABASE_PREPARED_STATEMENTS=false`), and the async
tests run on both async drivers, psycopg and asyncpg.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from tasktracker.db.engines import create_async_engine, create_engine
from tasktracker.db.settings import Settings
from tests import databases
from tests.connectivity.helpers import with_driver
from tests.connectivity.servers import PgBouncer

ASYNC_DRIVERS = ("psycopg-async", "asyncpg")


def pooled_settings(url: str, driver: str = "psycopg", **overrides: object) -> Settings:
    return databases.test_settings(
        with_driver(url, driver), database_prepared_statements=False, **overrides
    )


@pytest.fixture(scope="session")
def bouncer_database(bouncer: PgBouncer) -> Iterator[tuple[str, str]]:
    """(direct URL, URL through PgBouncer) of a database migrated to head."""
    with databases.fresh_postgres_database("ttbouncer") as url:
        databases.migrate_to(url)
        yield url, bouncer.url(str(make_url(url).database))


@pytest.fixture(scope="session")
def migrated_url(bouncer_database: tuple[str, str]) -> str:
    return bouncer_database[1]


@pytest.fixture(scope="session")
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = create_engine(pooled_settings(migrated_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session", params=ASYNC_DRIVERS)
async def async_engine(
    request: pytest.FixtureRequest, migrated_url: str
) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(pooled_settings(migrated_url, request.param))
    yield engine
    await engine.dispose()

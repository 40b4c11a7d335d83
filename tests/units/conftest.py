"""Units on each backend and each async driver: aiosqlite, psycopg async and asyncpg."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tasktracker.accounts.models import User
from tasktracker.db.engines import create_async_engine
from tasktracker.units import AsyncDatabase
from tests import databases
from tests.connectivity.helpers import with_driver

DRIVERS = pytest.mark.parametrize(
    ("migrated_url", "driver"),
    [("sqlite", "aiosqlite"), ("postgresql", "psycopg"), ("postgresql", "asyncpg")],
    indirect=["migrated_url"],
)
"""Mark a test to run once per async driver, each on its backend's migrated database."""


@pytest.fixture
async def driver_engine(migrated_url: str, driver: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(databases.test_settings(with_driver(migrated_url, driver)))
    assert engine.dialect.driver == driver
    yield engine
    await engine.dispose()


@pytest.fixture
async def udb(driver_engine: AsyncEngine) -> AsyncIterator[AsyncDatabase]:
    """The unit-carrying `AsyncDatabase`, bound to one connection whose outer transaction is
    rolled back after the test (as the root conftest's `adb`)."""
    async with driver_engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield AsyncDatabase(connection)
        finally:
            if transaction.is_active:
                await transaction.rollback()


async def add_user(udb: AsyncDatabase, password_hash: str) -> uuid.UUID:
    name = f"unit_{uuid.uuid4().hex[:8]}"
    async with udb.session() as unit:
        user = User(email=f"{name}@example.com", username=name, password_hash=password_hash)
        unit.add(user)
        await unit.flush()
        return user.id

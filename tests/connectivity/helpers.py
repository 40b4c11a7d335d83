"""Helpers shared by the connectivity tests: fast-retry settings, one probe per driver."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import pytest
from sqlalchemy import text

from tasktracker.db.engines import create_async_engine, create_engine
from tasktracker.db.settings import Settings, load_settings

# sync psycopg, async psycopg (the default async driver), async asyncpg
DRIVERS = ("psycopg", "psycopg-async", "asyncpg")
RETRY_LINE = re.compile(r"connect attempt (\d+)/(\d+) to .* retrying in ([\d.]+)s")


def with_driver(url: str, driver: str) -> str:
    if driver == "asyncpg":
        return url.replace("postgresql://", "postgresql+asyncpg://", 1)
    return url


def fast_settings(url: str, driver: str = "psycopg", **overrides: Any) -> Settings:
    """Settings whose connection retries take fractions of a second."""
    values: dict[str, Any] = {
        "database_connect_retries": 3,
        "database_retry_initial_delay": 0.05,
        "database_retry_max_delay": 0.2,
        "database_connect_timeout": 3,
    }
    values.update(overrides)
    return load_settings(database_url=with_driver(url, driver), **values)


def scalar(url: str, driver: str, sql: str, **overrides: Any) -> Any:
    """Run one statement on a fresh engine of `driver`; returns the first value."""
    settings = fast_settings(url, driver, **overrides)
    if driver == "psycopg":
        engine = create_engine(settings)
        try:
            with engine.connect() as connection:
                return connection.execute(text(sql)).scalar()
        finally:
            engine.dispose()

    async def run() -> Any:
        engine = create_async_engine(settings)
        try:
            async with engine.connect() as connection:
                return (await connection.execute(text(sql))).scalar()
        finally:
            await engine.dispose()

    return asyncio.run(run())


SSL_IN_USE = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


def retry_records(caplog: pytest.LogCaptureFixture) -> list[tuple[int, int, float]]:
    """(attempt, of, delay) for every retry the `tasktracker.db` logger announced."""
    found = []
    for record in caplog.records:
        if record.name == "tasktracker.db" and (match := RETRY_LINE.search(record.getMessage())):
            found.append((int(match[1]), int(match[2]), float(match[3])))
    return found


def failure_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The `tasktracker.db` records announcing that connecting was given up."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "tasktracker.db"
        and record.levelno >= logging.WARNING
        and record.getMessage().startswith("could not connect to ")
    ]

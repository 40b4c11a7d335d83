"""Throwaway databases for tests: uniquely named, migrated to head, dropped afterwards."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from tasktracker.db.engines import create_engine
from tasktracker.db.settings import Settings, load_settings

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("TASKTRACKER_REQUIRE_POSTGRES", "") not in {"", "0", "false"}


def postgres_problem() -> str | None:
    """None if the test server answers, else why not."""
    try:
        with psycopg.connect(_libpq(ADMIN_URL), connect_timeout=3, autocommit=True):
            return None
    except psycopg.Error as exc:
        where = make_url(ADMIN_URL).render_as_string(hide_password=True)
        return f"PostgreSQL unreachable at {where}: {exc}"


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_url(database: str) -> str:
    return make_url(ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def test_settings(url: str, **overrides: object) -> Settings:
    return load_settings(
        database_url=url, database_connect_retries=2, database_retry_initial_delay=0.05, **overrides
    )


@contextmanager
def fresh_postgres_database(prefix: str = "tt") -> Iterator[str]:
    """A new empty PostgreSQL database; yields its URL, drops it (forcefully) afterwards."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{prefix}_{worker}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(name)
    finally:
        with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_sqlite_database(directory: Path) -> Iterator[str]:
    path = directory / f"tt_{uuid.uuid4().hex[:10]}.db"
    yield f"sqlite:///{path}"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def migrate_to(url: str, revision: str = "head") -> None:
    from tasktracker.admin import schema

    engine = create_engine(test_settings(url))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema.upgrade(engine, revision)
    finally:
        engine.dispose()

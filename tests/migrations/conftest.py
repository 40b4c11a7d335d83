"""Fixtures for the migration tests: empty databases of both backends, and pytest-alembic's.

Every engine comes from `tasktracker.db.engines.create_engine`, so migrations run exactly as
in production (SQLite pragmas, real transactions, PostgreSQL retry and timeouts).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.config import Config
from sqlalchemy import Engine

from tasktracker.admin import schema
from tasktracker.db.engines import create_engine
from tests import databases
from tests.conftest import BACKENDS, require_postgres


@contextmanager
def fresh_engine_for(backend: str, sqlite_dir: Path) -> Iterator[Engine]:
    """An engine on a new, empty database of `backend`, dropped afterwards."""
    if backend == "postgresql":
        require_postgres()
        fresh = databases.fresh_postgres_database("ttmig")
    else:
        fresh = databases.fresh_sqlite_database(sqlite_dir)
    with fresh as url:
        engine = create_engine(databases.test_settings(url))
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=BACKENDS)
def fresh_engine(request: pytest.FixtureRequest, sqlite_dir: Path) -> Iterator[Engine]:
    """An engine on an empty, unmigrated database; once per backend."""
    with fresh_engine_for(request.param, sqlite_dir) as engine:
        yield engine


@pytest.fixture
def pg_engine(sqlite_dir: Path) -> Iterator[Engine]:
    """An engine on an empty, unmigrated PostgreSQL database."""
    with fresh_engine_for("postgresql", sqlite_dir) as engine:
        yield engine


# pytest-alembic's fixtures: its runner hands `alembic_engine` to env.py through
# config.attributes["connection"], which env.py accepts (a connection or an engine).
@pytest.fixture(params=BACKENDS)
def alembic_engine(request: pytest.FixtureRequest, sqlite_dir: Path) -> Iterator[Engine]:
    with fresh_engine_for(request.param, sqlite_dir) as engine:
        yield engine


@pytest.fixture
def alembic_config() -> Config:
    """The package's own configuration (script location inside the package, no ini file)."""
    return schema.alembic_config()

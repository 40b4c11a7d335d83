"""The Citus tests: they run in the suite's Citus run (TASKTRACKER_TEST_POSTGRES=citus, a
throwaway coordinator and two workers, tests/connectivity/citus.py) and skip otherwise."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine

from tasktracker.admin import schema
from tasktracker.db.engines import create_engine
from tests import databases
from tests.conftest import require_postgres
from tests.connectivity import citus


def _fresh_citus_database() -> Iterator[str]:
    if not databases.CITUS:
        pytest.skip("Citus tests run with TASKTRACKER_TEST_POSTGRES=citus (docs/citus.md, 'Tests')")
    require_postgres()
    with databases.fresh_postgres_database("tt_citus") as url:
        yield url


@pytest.fixture
def citus_url() -> Iterator[str]:
    """A fresh, empty Citus database (the workers registered, the extension created)."""
    yield from _fresh_citus_database()


@pytest.fixture(scope="module")
def migrated_citus_engine() -> Iterator[Engine]:
    """A Citus database migrated to head, shared by a module's tests."""
    for url in _fresh_citus_database():
        engine = create_engine(databases.test_settings(url))
        try:
            schema.upgrade(engine)
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def citus_engine(citus_url: str) -> Iterator[Engine]:
    engine = create_engine(databases.test_settings(citus_url))
    yield engine
    engine.dispose()


@pytest.fixture
def plain_url() -> Iterator[str]:
    """A database on the coordinator without the extension: plain PostgreSQL, until
    `citus.prepare_database` makes it a Citus database of the cluster."""
    if not databases.CITUS:
        pytest.skip("Citus tests run with TASKTRACKER_TEST_POSTGRES=citus (docs/citus.md, 'Tests')")
    require_postgres()
    name = f"tt_plain_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(databases.ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield databases.postgres_url(name)
    finally:
        with psycopg.connect(databases.ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        citus.drop_database(name, citus.worker_ports_from_environment())

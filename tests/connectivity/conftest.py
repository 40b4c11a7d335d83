"""Session-wide servers for the connectivity tests, each started once and stopped at the end.

- `cluster`: the throwaway PostgreSQL cluster (SCRAM, SSL with a test CA) for destructive tests;
  `running_cluster` makes sure a test that stopped it did not leave it down.
- `bouncer`: PgBouncer in transaction pooling mode in front of the shared server.
- `pg_url`: a migrated database of its own on the shared server.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import databases
from tests.conftest import require_postgres
from tests.connectivity.servers import (
    PG_BIN,
    PGBOUNCER_BIN,
    PgBouncer,
    ThrowawayCluster,
    pgbouncer,
    throwaway_cluster,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "pgbouncer: runs through PgBouncer in transaction pooling mode"
    )


def require_binary(path: str | Path, install_hint: str) -> None:
    """Skip (or fail, where PostgreSQL is required, as in CI) when a server binary is missing."""
    if Path(path).exists() and os.geteuid() == 0:
        return
    problem = f"{path} missing or not root ({install_hint})"
    if databases.REQUIRE_POSTGRES:
        pytest.fail(problem, pytrace=False)
    pytest.skip(problem)


@pytest.fixture(scope="session")
def cluster() -> Iterator[ThrowawayCluster]:
    require_binary(PG_BIN / "initdb", "the PostgreSQL server package")
    with throwaway_cluster() as server:
        yield server


@pytest.fixture
def running_cluster(cluster: ThrowawayCluster) -> ThrowawayCluster:
    if not cluster.is_running():
        cluster.start()
    return cluster


@pytest.fixture(scope="session")
def bouncer() -> Iterator[PgBouncer]:
    require_postgres()
    require_binary(PGBOUNCER_BIN, "bash scripts/install-pgbouncer.sh")
    with pgbouncer(upstream_port=5432, pool_size=4) as server:
        yield server


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    require_postgres()
    with databases.fresh_postgres_database("ttconn") as url:
        databases.migrate_to(url)
        yield url


@pytest.fixture
def db_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="tasktracker.db")
    return caplog

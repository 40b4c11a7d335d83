"""Session-wide servers for the connectivity tests, each started once and stopped at the end.

- `cluster`: the throwaway PostgreSQL cluster (SCRAM, SSL with a test CA) for SSL and
  destructive tests; `running_cluster` makes sure a test that stopped it did not leave it
  down; `cluster_url`, a migrated database of its own on it.
- `bouncer`: PgBouncer in transaction pooling mode in front of the shared server.
- `pg_url`: a migrated database of its own on the shared server.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest

from tests import databases
from tests.conftest import require_postgres
from tests.connectivity.servers import (
    PgBouncer,
    ThrowawayCluster,
    missing_server_component,
    pgbouncer,
    throwaway_cluster,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "pgbouncer: runs through PgBouncer in transaction pooling mode"
    )


def require_private_servers(needs_pgbouncer: bool = False) -> None:
    """Skip (or fail, where PostgreSQL is required, as in CI) when a component is missing."""
    problem = missing_server_component(needs_pgbouncer)
    if problem is None:
        return
    if databases.REQUIRE_POSTGRES:
        pytest.fail(f"{problem} (TASKTRACKER_REQUIRE_POSTGRES is set)", pytrace=False)
    pytest.skip(problem)


@pytest.fixture(scope="session")
def cluster() -> Iterator[ThrowawayCluster]:
    require_private_servers()
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
    require_private_servers(needs_pgbouncer=True)
    with pgbouncer(upstream_port=databases.admin_port(), pool_size=4) as server:
        yield server


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    require_postgres()
    with databases.fresh_postgres_database("ttconn") as url:
        databases.migrate_to(url)
        yield url


@pytest.fixture(scope="session")
def cluster_url(cluster: ThrowawayCluster) -> str:
    """A database of its own on the throwaway cluster, owned by its SCRAM user, migrated."""
    name = f"tt_{uuid.uuid4().hex[:10]}"
    with cluster.admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" OWNER {cluster.user}')
    url = cluster.url(database=name)
    databases.migrate_to(url)
    return url


@pytest.fixture
def db_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="tasktracker.db")
    return caplog

"""Shared fixtures.

Every test that takes `db` (sync) or `adb` (async) runs once per backend — a real SQLite
file and a real PostgreSQL database — on a schema built by the Alembic migrations (not
`create_all`), inside an outer transaction that is rolled back afterwards. Units of work
opened inside the test become savepoints of that transaction.

The PostgreSQL is the server at TEST_POSTGRES_URL or, when none answers (or with
TASKTRACKER_TEST_POSTGRES=cluster), a throwaway cluster started here for the run from server
binaries found on the machine, the `pgserver` wheel's included (tests/databases.py).
PostgreSQL tests skip (with a loud warning) when there is neither, unless
`TASKTRACKER_REQUIRE_POSTGRES=1` (set by `.ci/run`), which turns that into a failure.

With TASKTRACKER_TEST_POSTGRES=citus the PostgreSQL is a throwaway Citus cluster instead
(coordinator and two workers, tests/connectivity/citus.py): the PostgreSQL tests skip, saying
so, where Citus is not installed; where it is, a cluster that does not start is an error.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from tasktracker.accounts.models import User
from tasktracker.accounts.passwords import hash_password
from tasktracker.db.engines import create_async_engine, create_engine
from tasktracker.db.sessions import AsyncDatabase, Database
from tests import databases

BACKENDS = ("sqlite", "postgresql")
_PG_PROBLEM: list[str | None] = []
_SESSION_CLUSTER: list[contextlib.ExitStack] = []
_PG_ORIGIN: list[str] = []
_CITUS_MISSING: list[str] = []


def _start_session_cluster(why: str) -> str | None:
    """Start the run's own PostgreSQL; None, or why it cannot be started here."""
    from tests.connectivity import servers

    problem = servers.missing_server_component(needs_openssl=False)
    if problem is not None:
        return problem
    assert servers.PG_BIN is not None
    stack = contextlib.ExitStack()
    try:
        cluster = stack.enter_context(servers.throwaway_cluster(servers.PG_BIN, stock=True))
    except (OSError, subprocess.SubprocessError, psycopg.Error) as exc:
        stack.close()
        return f"a throwaway cluster from {servers.PG_BIN} did not start: {exc}"
    _SESSION_CLUSTER.append(stack)
    databases.use_admin_url(cluster.admin_url())
    version = servers.server_version(servers.PG_BIN)
    _PG_ORIGIN.append(
        f"throwaway cluster, PostgreSQL {version} from {servers.PG_BIN} ({why}),"
        f" port {cluster.port}"
    )
    return None


def _start_citus_cluster() -> str | None:
    """Start the run's Citus cluster; None, or why Citus is not installed here."""
    from tests.connectivity import citus

    if (problem := citus.citus_problem()) is not None:
        return problem
    stack = contextlib.ExitStack()
    try:
        cluster = stack.enter_context(citus.citus_cluster())
    except (OSError, subprocess.SubprocessError, psycopg.Error) as exc:
        stack.close()
        raise pytest.UsageError(f"TASKTRACKER_TEST_POSTGRES=citus: no cluster: {exc}") from exc
    _SESSION_CLUSTER.append(stack)
    databases.use_admin_url(cluster.coordinator.admin_url())
    os.environ[citus.WORKERS_VARIABLE] = ",".join(map(str, cluster.worker_ports))
    _PG_ORIGIN.append(
        f"throwaway Citus cluster, coordinator port {cluster.coordinator.port},"
        f" workers {', '.join(map(str, cluster.worker_ports))}"
    )
    return None


def pytest_configure(config: pytest.Config) -> None:
    """Choose the run's PostgreSQL once, in the controlling process (not in xdist workers,
    which inherit its URL through TEST_POSTGRES_URL)."""
    if hasattr(config, "workerinput") or databases.MODE == "server":
        return
    if databases.MODE not in databases.MODES:
        raise pytest.UsageError(
            f"TASKTRACKER_TEST_POSTGRES={databases.MODE!r}: one of {', '.join(databases.MODES)}"
        )
    if databases.MODE == "citus":
        if (problem := _start_citus_cluster()) is not None:
            _CITUS_MISSING.append(f"TASKTRACKER_TEST_POSTGRES=citus: {problem}")
            _PG_PROBLEM.append(_CITUS_MISSING[0])
        return
    if databases.MODE == "cluster":
        if (problem := _start_session_cluster("TASKTRACKER_TEST_POSTGRES=cluster")) is not None:
            raise pytest.UsageError(f"TASKTRACKER_TEST_POSTGRES=cluster: {problem}")
        return
    unreachable = databases.postgres_problem()
    if unreachable is None:
        return
    if (problem := _start_session_cluster(unreachable.splitlines()[0])) is not None:
        _PG_PROBLEM.append(f"{unreachable}; and no throwaway cluster instead: {problem}")


def pytest_unconfigure(config: pytest.Config) -> None:
    while _SESSION_CLUSTER:
        _SESSION_CLUSTER.pop().close()


def pytest_report_header(config: pytest.Config) -> list[str]:
    from tests.connectivity import servers

    where = make_url(databases.ADMIN_URL).render_as_string(hide_password=True)
    lines = [f"postgresql: {where}" + (f", {_PG_ORIGIN[0]}" if _PG_ORIGIN else "")]
    if servers.SSL_PG_BIN != servers.PG_BIN:
        lines.append(
            f"postgresql binaries: {servers.PG_BIN} (no SSL); the SSL cluster's:"
            f" {servers.SSL_PG_BIN}"
        )
    return lines


def pg_problem() -> str | None:
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(databases.postgres_problem())
    return _PG_PROBLEM[0]


def require_postgres() -> None:
    """Skip (loudly) or fail, as configured, when PostgreSQL is unreachable."""
    problem = pg_problem()
    if problem is None:
        return
    if databases.REQUIRE_POSTGRES and not _CITUS_MISSING:
        pytest.fail(f"{problem} (TASKTRACKER_REQUIRE_POSTGRES is set)", pytrace=False)
    warnings.warn(f"SKIPPING PostgreSQL tests: {problem}", stacklevel=2)
    pytest.skip(problem)


@pytest.fixture(scope="session")
def sqlite_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sqlite")


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    require_postgres()
    return databases.ADMIN_URL


@pytest.fixture
def fresh_url(request: pytest.FixtureRequest, sqlite_dir: Path) -> Iterator[str]:
    """An empty, unmigrated database of the backend named by `backend` (param)."""
    backend = request.param if hasattr(request, "param") else "sqlite"
    if backend == "postgresql":
        require_postgres()
        with databases.fresh_postgres_database() as url:
            yield url
    else:
        with databases.fresh_sqlite_database(sqlite_dir) as url:
            yield url


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_url(request: pytest.FixtureRequest, sqlite_dir: Path) -> Iterator[str]:
    """A database per backend, migrated to head once per test session."""
    if request.param == "postgresql":
        require_postgres()
    with databases.migrated_database(request.param, sqlite_dir) as url:
        yield url


@pytest.fixture
def backend(migrated_url: str) -> str:
    """Function-scoped on purpose: a session-scoped one would keep the value computed from a
    folder's override of `migrated_url` (PgBouncer's) for the tests that run after it."""
    return "postgresql" if migrated_url.startswith("postgresql") else "sqlite"


@pytest.fixture(scope="session")
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = create_engine(databases.test_settings(migrated_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
async def async_engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(databases.test_settings(migrated_url))
    yield engine
    await engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Database]:
    """A `Database` bound to one connection whose outer transaction is rolled back."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield Database(connection)
        finally:
            if transaction.is_active:
                transaction.rollback()


@pytest.fixture
async def adb(async_engine: AsyncEngine) -> AsyncIterator[AsyncDatabase]:
    async with async_engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield AsyncDatabase(connection)
        finally:
            if transaction.is_active:
                await transaction.rollback()


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One Argon2id hash shared by test users (hashing is deliberately slow)."""
    return hash_password("correct horse battery staple")


@pytest.fixture
def make_user(db: Database, password_hash: str):  # type: ignore[no-untyped-def]
    """Create and commit (into the test transaction) a user; returns its id."""

    def make(name: str | None = None) -> uuid.UUID:
        name = name or f"user_{uuid.uuid4().hex[:8]}"
        with db.session() as session:
            user = User(email=f"{name}@example.com", username=name, password_hash=password_hash)
            session.add(user)
            session.flush()
            return user.id

    return make

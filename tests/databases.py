"""Throwaway databases for tests: uniquely named, migrated to head, dropped afterwards.

Which PostgreSQL server the suite uses (`ADMIN_URL`), by TASKTRACKER_TEST_POSTGRES:

- `auto` (the default): TEST_POSTGRES_URL (127.0.0.1:5432 unless set) if it answers; if it
  does not, a throwaway cluster of the suite's own, started from server binaries found on
  this machine (TASKTRACKER_PG_BIN, Debian's, the PATH, or the `pgserver` wheel's, the
  `[test-pg]` extra); and only when there are none, the PostgreSQL tests skip, saying why.
- `cluster`: always that throwaway cluster (CI's PostgreSQL 16 run:
  TASKTRACKER_PG_BIN=pgserver), never the shared server.
- `server`: TEST_POSTGRES_URL only, as before: no cluster is ever started for the suite.
- `citus`: a throwaway Citus cluster (coordinator and two workers, tests/connectivity/citus.py);
  every database the tests create is a Citus database, so the migrations distribute it.

The cluster is started once per run, by the controlling process (tests/conftest.py,
`pytest_configure`), which exports its URL as TEST_POSTGRES_URL for xdist workers and
subprocesses, and removed at the end.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import psycopg
from sqlalchemy.engine import make_url

from tasktracker.db.engines import create_engine
from tasktracker.db.settings import Settings, load_settings

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("TASKTRACKER_REQUIRE_POSTGRES", "") not in {"", "0", "false"}
MODES = ("auto", "cluster", "server", "citus")
MODE = os.environ.get("TASKTRACKER_TEST_POSTGRES", "auto") or "auto"
CITUS = MODE == "citus"


def use_admin_url(url: str) -> None:
    """Point the suite (and, through the environment, its workers) at another server."""
    global ADMIN_URL  # noqa: PLW0603 - the one switch, made before any test runs
    ADMIN_URL = url
    os.environ["TEST_POSTGRES_URL"] = url


def admin_port() -> int:
    """The port of the suite's PostgreSQL server (5432 unless it runs on a cluster)."""
    return make_url(ADMIN_URL).port or 5432


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
        if CITUS:
            _citus().prepare_database(admin_port(), name, _citus().worker_ports_from_environment())
        yield postgres_url(name)
    finally:
        with psycopg.connect(_libpq(ADMIN_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if CITUS:
            _citus().drop_database(name, _citus().worker_ports_from_environment())


def _citus() -> ModuleType:
    """The Citus helpers, imported only by a Citus run."""
    from tests.connectivity import citus

    return citus


@contextmanager
def fresh_sqlite_database(directory: Path) -> Iterator[str]:
    path = directory / f"tt_{uuid.uuid4().hex[:10]}.db"
    yield f"sqlite:///{path}"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def migrated_database(backend: str, sqlite_dir: Path, prefix: str = "tt") -> Iterator[str]:
    """A new database of `backend` ("postgresql" or "sqlite"), migrated to head; yields its
    URL, removes it afterwards."""
    fresh = fresh_postgres_database(prefix) if backend == "postgresql" else None
    with fresh or fresh_sqlite_database(sqlite_dir) as url:
        migrate_to(url)
        yield url


def migrate_to(url: str, revision: str = "head") -> None:
    from tasktracker.admin import schema

    engine = create_engine(test_settings(url))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema.upgrade(engine, revision)
    finally:
        engine.dispose()

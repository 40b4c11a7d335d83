"""Where the suite gets its PostgreSQL (tests/databases.py, TASKTRACKER_TEST_POSTGRES), seen
from outside: a small part of the suite run in a subprocess with no server at the URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.connectivity.conftest import require_private_servers
from tests.connectivity.servers import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "tests/migrations/test_drift.py"


def run_suite(**env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TASKTRACKER_", "TEST_POSTGRES", "PYTEST_", "COV_"))
    }
    environ["TEST_POSTGRES_URL"] = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    command = [sys.executable, "-m", "pytest", "--no-cov", "-p", "no:randomly"]
    return subprocess.run(
        [*command, "-p", "no:cacheprovider", SAMPLE],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_no_server_at_the_url_the_suite_starts_a_throwaway_cluster() -> None:
    require_private_servers()
    result = run_suite()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "throwaway cluster, PostgreSQL" in result.stdout
    assert "skipped" not in result.stdout, result.stdout


def test_no_server_and_no_binaries_the_postgresql_tests_skip_saying_why() -> None:
    result = run_suite(TASKTRACKER_PG_BIN="/nonexistent")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no throwaway cluster instead" in result.stdout
    assert "pip install -e '.[test-pg]'" in result.stdout
    assert " skipped" in result.stdout


def test_cluster_mode_with_no_binaries_is_an_error_not_a_skip() -> None:
    result = run_suite(TASKTRACKER_TEST_POSTGRES="cluster", TASKTRACKER_PG_BIN="/nonexistent")
    assert result.returncode != 0
    assert "TASKTRACKER_TEST_POSTGRES=cluster" in result.stdout + result.stderr


def test_ssl_support_is_read_from_the_binaries() -> None:
    """The one difference between the two servers CI runs: the build. Debian's links
    OpenSSL; the pgserver wheel's does not, so the SSL cluster never runs from it."""
    from tests.connectivity import servers

    bins = [*servers.system_pg_bins(), servers.pgserver_bin()]
    present = [path for path in bins if path is not None]
    if not present:
        pytest.skip("no PostgreSQL server binaries here")
    for path in present:
        expected = path != servers.pgserver_bin()
        assert servers.built_with_ssl(path) is expected, path
    if servers.SSL_PG_BIN is not None:
        assert servers.built_with_ssl(servers.SSL_PG_BIN)


def test_as_root_without_a_postgres_user_the_cluster_runs_as_nobody() -> None:
    """A fresh machine with only the pgserver wheel: no `postgres` user; as root, initdb and
    the server run as `nobody` (here forced by TASKTRACKER_SERVER_USER)."""
    from tests.connectivity import servers

    if not servers.AS_ROOT or servers.pgserver_bin() is None:
        pytest.skip("as root, with the pgserver wheel ([test-pg]) installed")
    result = run_suite(
        TASKTRACKER_SERVER_USER="nobody",
        TASKTRACKER_TEST_POSTGRES="cluster",
        TASKTRACKER_PG_BIN="pgserver",
        TASKTRACKER_REQUIRE_POSTGRES="1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "throwaway cluster, PostgreSQL 16" in result.stdout

"""Connection retries: exponential backoff with jitter, bounded, logged, and only when waiting
can help (a server that is down or waking up), never for wrong credentials or databases."""

from __future__ import annotations

import time

import pytest

from tasktracker.db.errors import DatabaseUnavailableError
from tests import databases
from tests.connectivity.helpers import DRIVERS, failure_records, retry_records, scalar
from tests.connectivity.servers import DelayedProxy, ThrowawayCluster, free_port

SECRET = "never-Shown-5521"


@pytest.mark.parametrize("driver", DRIVERS)
def test_closed_port_exactly_n_attempts_with_growing_delays(
    db_log: pytest.LogCaptureFixture, driver: str
) -> None:
    port = free_port()
    url = f"postgresql://app:{SECRET}@127.0.0.1:{port}/tasks"
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailableError) as info:
        scalar(
            url,
            driver,
            "SELECT 1",
            database_connect_retries=4,
            database_retry_initial_delay=0.05,
            database_retry_max_delay=1,
        )
    elapsed = time.monotonic() - started
    retries = retry_records(db_log)
    assert [attempt for attempt, _, _ in retries] == [1, 2, 3]  # then the 4th, final one
    assert {of for _, of, _ in retries} == {4}
    delays = [delay for _, _, delay in retries]
    assert delays == sorted(delays)
    assert delays[-1] > delays[0]
    assert 0.05 <= delays[0] <= 0.11  # initial delay plus jitter (up to the initial delay)
    assert elapsed >= sum(delays) * 0.9
    assert elapsed < 3
    message = str(info.value)
    assert f"app:***@127.0.0.1:{port}/tasks" in message
    assert "after 4 attempt(s)" in message
    assert SECRET not in message
    assert SECRET not in db_log.text
    (failure,) = failure_records(db_log)
    assert "after 4 attempt(s)" in failure


@pytest.mark.parametrize("driver", DRIVERS)
def test_server_that_comes_up_during_the_retries_is_connected_to(
    db_log: pytest.LogCaptureFixture, driver: str, postgres_admin_url: str
) -> None:
    with DelayedProxy(upstream_port=databases.admin_port(), delay=1.0) as proxy:
        started = time.monotonic()
        value = scalar(
            f"postgresql://postgres@127.0.0.1:{proxy.port}/postgres",
            driver,
            "SELECT 41 + 1",
            database_connect_retries=10,
            database_retry_initial_delay=0.1,
            database_retry_max_delay=0.5,
        )
        elapsed = time.monotonic() - started
    assert value == 42
    assert proxy.listening_since is not None
    assert retry_records(db_log), "it failed at first and retried"
    assert failure_records(db_log) == []
    assert 1.0 <= elapsed < 4


def _wrong_password(cluster: ThrowawayCluster) -> str:
    return cluster.url(password="wrong-password", sslmode="require")


def _unknown_database(cluster: ThrowawayCluster) -> str:
    return cluster.url(sslmode="require").replace(f"/{cluster.database}?", "/no_such_db?")


def _unknown_role(cluster: ThrowawayCluster) -> str:
    return cluster.url(sslmode="require").replace(f"{cluster.user}:", "no_such_role:")


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize(
    ("make_url", "expected"),
    [
        (_wrong_password, "password authentication failed"),
        (_unknown_database, 'database "no_such_db" does not exist'),
        (_unknown_role, "authentication failed"),
    ],
    ids=["wrong-password", "unknown-database", "unknown-role"],
)
def test_errors_that_cannot_heal_are_not_retried(
    running_cluster: ThrowawayCluster,
    db_log: pytest.LogCaptureFixture,
    driver: str,
    make_url: object,
    expected: str,
) -> None:
    url = make_url(running_cluster)  # type: ignore[operator]
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailableError, match=expected) as info:
        scalar(url, driver, "SELECT 1", database_connect_retries=5, database_retry_initial_delay=5)
    assert time.monotonic() - started < 4  # a retry would have slept at least 5 s
    assert "after 1 attempt(s)" in str(info.value)
    assert retry_records(db_log) == []
    assert running_cluster.password not in db_log.text

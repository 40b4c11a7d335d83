"""Cold start (Neon scales to zero): the server is down when a unit of work begins.

Back within the retry budget, the unit of work completes without the caller seeing an error;
down past the budget, the caller gets `DatabaseUnavailableError` after the expected attempts.
Runs against the throwaway cluster, which these tests stop and start.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from tasktracker.db.errors import DatabaseUnavailableError
from tests.connectivity.helpers import (
    DRIVERS,
    driver_units,
    failure_records,
    later,
    retry_records,
)
from tests.connectivity.servers import ThrowawayCluster

BUDGET = {
    "database_connect_retries": 12,
    "database_retry_initial_delay": 0.1,
    "database_retry_max_delay": 0.5,
}  # about 5 s of waiting in all


@pytest.fixture
def stopped_cluster(running_cluster: ThrowawayCluster) -> Iterator[ThrowawayCluster]:
    running_cluster.stop()
    yield running_cluster
    if not running_cluster.is_running():
        running_cluster.start()


@pytest.mark.parametrize("driver", DRIVERS)
def test_unit_of_work_survives_a_cold_start(
    stopped_cluster: ThrowawayCluster, db_log: pytest.LogCaptureFixture, driver: str
) -> None:
    starter = later(1.0, stopped_cluster.start)
    started = time.monotonic()
    try:
        with driver_units(stopped_cluster.url(sslmode="require"), driver, **BUDGET) as units:
            assert units.unit(lambda session: session.scalar(text("SELECT 1"))) == 1
    finally:
        starter.join(timeout=30)
    assert time.monotonic() - started >= 1.0
    assert retry_records(db_log)
    assert failure_records(db_log) == []


@pytest.mark.parametrize("driver", DRIVERS)
def test_down_past_the_budget_is_unavailable_after_the_expected_attempts(
    stopped_cluster: ThrowawayCluster, db_log: pytest.LogCaptureFixture, driver: str
) -> None:
    with (
        pytest.raises(DatabaseUnavailableError, match=r"after 3 attempt\(s\)"),
        driver_units(stopped_cluster.url(sslmode="require"), driver) as units,
    ):
        units.unit(lambda session: session.execute(text("SELECT 1")))
    assert [attempt for attempt, _, _ in retry_records(db_log)] == [1, 2]
    assert len(failure_records(db_log)) == 1

"""A server that refuses connections for a while, on every driver (psycopg sync, psycopg async,
asyncpg): the same retries, the same bounded total time, the same errors.

Each case is PostgreSQL's own behaviour on the throwaway cluster, not a simulation:
- not accepting connections (57P03, as while it starts up): a standby with hot standby off,
  promoted a second later;
- shutting down (57P03): a smart shutdown waiting for a session held open;
- too many clients (53300): every connection slot taken;
- a fast restart under 20 concurrent workers.
A connection killed mid-unit is in test_pool.py.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tasktracker.db.errors import DatabaseUnavailableError
from tests.connectivity.helpers import (
    DRIVERS,
    driver_units,
    failure_records,
    later,
    retry_reasons,
    retry_records,
)
from tests.connectivity.servers import ThrowawayCluster

BUDGET = {
    "database_connect_retries": 12,
    "database_retry_initial_delay": 0.1,
    "database_retry_max_delay": 0.5,
}  # about 5 s of waiting in all
AWAY = 1.0  # seconds the server refuses connections


def select_one(session: Session) -> object:
    return session.scalar(text("SELECT 1"))


def connect_within_budget(
    url: str, driver: str, heals: threading.Thread, log: pytest.LogCaptureFixture
) -> tuple[float, list[str]]:
    """One unit of work while the server refuses; its duration and the retries' reasons."""
    started = time.monotonic()
    try:
        with driver_units(url, driver, **BUDGET) as units:
            assert units.unit(select_one) == 1
    finally:
        heals.join(timeout=60)
    assert failure_records(log) == []
    return time.monotonic() - started, retry_reasons(log)


@pytest.fixture
def in_recovery(running_cluster: ThrowawayCluster) -> Iterator[ThrowawayCluster]:
    running_cluster.stop()
    running_cluster.start_in_recovery()
    yield running_cluster
    if not running_cluster.is_running():
        running_cluster.start()


@pytest.mark.parametrize("driver", DRIVERS)
def test_not_accepting_connections_is_retried_until_it_does(
    in_recovery: ThrowawayCluster, db_log: pytest.LogCaptureFixture, driver: str
) -> None:
    promoted = later(AWAY, in_recovery.promote)
    url = in_recovery.url(sslmode="require")
    took, reasons = connect_within_budget(url, driver, promoted, db_log)
    assert took >= AWAY
    assert reasons
    assert all("not accepting connections" in reason for reason in reasons)


@pytest.mark.parametrize("driver", DRIVERS)
def test_shutting_down_is_retried_until_the_server_is_back(
    running_cluster: ThrowawayCluster, db_log: pytest.LogCaptureFixture, driver: str
) -> None:
    held = running_cluster.admin()  # a smart shutdown waits for it
    stopping = later(0, lambda: running_cluster.stop("smart"))
    wait_until_refused(running_cluster, "shutting down")

    def end_the_session_then_start() -> None:
        held.close()
        stopping.join(timeout=30)
        running_cluster.start()

    url = running_cluster.url(sslmode="require")
    took, reasons = connect_within_budget(
        url, driver, later(AWAY, end_the_session_then_start), db_log
    )
    assert took >= AWAY
    assert any("shutting down" in reason for reason in reasons)


def wait_until_refused(cluster: ThrowawayCluster, reason: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            psycopg.connect(cluster.url(sslmode="disable"), connect_timeout=2).close()
        except psycopg.OperationalError as exc:
            if reason in str(exc):
                return
        time.sleep(0.02)
    raise AssertionError(f"the cluster never refused with {reason!r}")


TOO_MANY = re.compile("too many clients|connection slots are reserved")
Connections = list[psycopg.Connection[tuple[object, ...]]]


@pytest.fixture
def full_cluster(running_cluster: ThrowawayCluster) -> Iterator[Connections]:
    """Every connection slot of the cluster taken (by its application user); the list of
    connections, to close some or all."""
    taken: Connections = []
    refusal = ""
    try:
        while len(taken) < 200 and not refusal:
            try:
                taken.append(psycopg.connect(running_cluster.url(sslmode="disable")))
            except psycopg.OperationalError as exc:
                refusal = str(exc)
        assert TOO_MANY.search(refusal), refusal
        yield taken
    finally:
        for connection in taken:
            connection.close()


@pytest.mark.parametrize("driver", DRIVERS)
def test_too_many_clients_is_retried_until_a_slot_frees(
    running_cluster: ThrowawayCluster,
    full_cluster: Connections,
    db_log: pytest.LogCaptureFixture,
    driver: str,
) -> None:
    def free_five_slots() -> None:
        for connection in full_cluster[:5]:
            connection.close()

    freed = later(AWAY, free_five_slots)
    url = running_cluster.url(sslmode="require")
    took, reasons = connect_within_budget(url, driver, freed, db_log)
    assert took >= AWAY
    assert reasons
    assert all(TOO_MANY.search(reason) for reason in reasons)


@pytest.mark.parametrize("driver", DRIVERS)
def test_too_many_clients_past_the_budget_fails_after_every_attempt(
    running_cluster: ThrowawayCluster,
    full_cluster: Connections,
    db_log: pytest.LogCaptureFixture,
    driver: str,
) -> None:
    started = time.monotonic()
    with (
        pytest.raises(DatabaseUnavailableError, match=r"after 3 attempt\(s\)") as info,
        driver_units(running_cluster.url(sslmode="require"), driver) as units,
    ):
        units.unit(select_one)
    took = time.monotonic() - started
    assert TOO_MANY.search(str(info.value))
    assert [attempt for attempt, _, _ in retry_records(db_log)] == [1, 2]
    assert 0.1 <= took < 3  # two delays of 0.05-0.2 s, no attempt waits for a timeout
    assert running_cluster.password not in str(info.value)
    assert running_cluster.password not in db_log.text


WORKERS = 20


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_restart_under_load_fails_only_the_units_it_interrupts(
    running_cluster: ThrowawayCluster, driver: str
) -> None:
    """Units that begin while the server restarts wait for it (connect retries); only a
    unit whose connection the restart cut fails, with `DatabaseUnavailableError`."""
    restarted = threading.Event()

    def restart() -> None:
        running_cluster.restart()
        restarted.set()

    with driver_units(
        running_cluster.url(sslmode="require"),
        driver,
        database_pool_size=WORKERS,
        database_max_overflow=0,
        **BUDGET,
    ) as units:
        restart_thread = later(1.0, restart)
        outcomes = units.under_load(
            lambda session: session.execute(text("SELECT pg_sleep(0.01)")),
            workers=WORKERS,
            seconds=4.0,
        )
        restart_thread.join(timeout=60)
    assert restarted.is_set()
    failures = [outcome.error for outcome in outcomes if outcome.error is not None]
    print(f"\n{driver}: {len(outcomes)} units, {len(failures)} failed")  # docs/connectivity.md
    assert len(failures) <= WORKERS  # at most the units in flight when it went down
    for failure in failures:
        assert isinstance(failure, DatabaseUnavailableError), repr(failure)
        assert "connection lost" in str(failure), str(failure)
    assert len(outcomes) - len(failures) > WORKERS * 10  # the others went on, before and after

"""The fair gate in front of the pool: permits go to waiting threads in arrival order."""

from __future__ import annotations

import threading
import time

import pytest

from tasktracker.db.engines import create_engine
from tasktracker.db.errors import PoolTimeoutError
from tasktracker.db.gate import FairGate, gate_for
from tasktracker.db.sessions import Database
from tests import databases


def _wait_until(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.001)


def test_waiting_threads_get_permits_in_arrival_order() -> None:
    gate = FairGate(size=1, overflow=0, timeout=5)
    order: list[int] = []
    queued: list[int] = []
    release_first = threading.Event()

    def first() -> None:
        with gate.permit():
            release_first.wait(5)

    def waiter(n: int) -> None:
        queued.append(n)
        with gate.permit():
            order.append(n)

    holder = threading.Thread(target=first)
    holder.start()
    _wait_until(lambda: gate._free == 0)
    waiters = []
    for n in range(5):
        thread = threading.Thread(target=waiter, args=(n,))
        thread.start()
        waiters.append(thread)
        _wait_until(lambda n=n: len(gate._waiting) == n + 1)  # queued before the next starts
    release_first.set()
    for thread in [holder, *waiters]:
        thread.join(5)
    assert order == [0, 1, 2, 3, 4]
    assert gate._free == 1


def test_a_thread_that_gives_a_permit_back_cannot_take_it_again_before_a_waiter() -> None:
    """The starvation this gate exists for: without it the returning thread, still
    running, takes the connection straight back."""
    gate = FairGate(size=1, overflow=0, timeout=5)
    events: list[str] = []
    got_it = threading.Event()

    def waiter() -> None:
        with gate.permit():
            events.append("waiter")
            got_it.set()

    with gate.permit():
        thread = threading.Thread(target=waiter)
        thread.start()
        _wait_until(lambda: len(gate._waiting) == 1)
    # Given back above; asking again at once must queue behind the waiter.
    with gate.permit():
        events.append("returner")
    thread.join(5)
    assert events == ["waiter", "returner"]


def test_a_wait_past_the_timeout_is_a_pool_timeout_and_loses_no_permit() -> None:
    gate = FairGate(size=1, overflow=1, timeout=0.2)
    with gate.permit(), gate.permit():
        started = time.monotonic()
        with pytest.raises(PoolTimeoutError, match="size 1 overflow 1"), gate.permit():
            pass
        assert 0.15 <= time.monotonic() - started < 2
        assert len(gate._waiting) == 0
    assert gate._free == 2
    with gate.permit(), gate.permit():
        pass


def test_everything_on_one_pool_shares_one_gate(migrated_url: str, backend: str) -> None:
    """Two `Database`s (or a reader engine) on one engine must not hold twice the permits."""
    engine = create_engine(databases.test_settings(migrated_url))
    try:
        gate = gate_for(engine)
        assert gate is not None
        assert gate.writers_only == (backend == "sqlite")  # SQLite: one write permit
        assert gate_for(engine.execution_options(isolation_level="AUTOCOMMIT")) is gate
        assert Database(engine)._gate is Database(engine)._gate is gate
        assert gate_for(create_engine(databases.test_settings(migrated_url))) is not gate
    finally:
        engine.dispose()

"""N workers sharing a pool: throughput, latency percentiles, errors, hangs.

Every worker repeats one operation until the round's time is up (or it has done
`max_ops`); latencies include waiting for a pooled connection, as a caller would see
them. A round that does not finish within its time plus a grace period is reported as
hung (threads cannot be killed, but every loop is bounded, so they end eventually).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class Round:
    ops: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    hung: bool = False

    def add(self, other: Round) -> None:
        self.ops += other.ops
        self.seconds += other.seconds
        self.latencies.extend(other.latencies)
        self.errors.update(other.errors)
        self.hung = self.hung or other.hung

    @property
    def throughput(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0


def run_threads(
    op: Callable[[int, int], object],
    workers: int,
    seconds: float,
    *,
    max_ops: int = 100_000,
    grace: float = 30.0,
) -> Round:
    """`workers` threads each calling `op(worker, i)` for up to `seconds`."""
    result = Round()
    lock = threading.Lock()
    start = threading.Barrier(workers + 1)
    clock = time.perf_counter
    deadline = [0.0]

    def work(worker: int) -> None:
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        start.wait()
        for i in range(max_ops):
            t0 = clock()
            if t0 >= deadline[0]:
                break
            try:
                op(worker, i)
            except Exception as exc:
                errors[type(exc).__name__] += 1
            latencies.append(clock() - t0)
        with lock:
            result.latencies.extend(latencies)
            result.errors.update(errors)

    threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(workers)]
    for thread in threads:
        thread.start()
    began = clock()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join(timeout=max(0.0, began + seconds + grace - clock()))
    result.hung = any(thread.is_alive() for thread in threads)
    result.seconds = clock() - began
    result.ops = len(result.latencies)
    return result


async def run_tasks(
    op: Callable[[int, int], Awaitable[object]],
    workers: int,
    seconds: float,
    *,
    max_ops: int = 100_000,
    grace: float = 30.0,
) -> Round:
    """`workers` asyncio tasks each awaiting `op(worker, i)` for up to `seconds`."""
    result = Round()
    clock = time.perf_counter
    began = clock()
    deadline = began + seconds

    async def work(worker: int) -> None:
        for i in range(max_ops):
            t0 = clock()
            if t0 >= deadline:
                break
            try:
                await op(worker, i)
            except Exception as exc:
                result.errors[type(exc).__name__] += 1
            result.latencies.append(clock() - t0)

    tasks = [asyncio.create_task(work(w)) for w in range(workers)]
    _done, pending = await asyncio.wait(tasks, timeout=seconds + grace)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    result.hung = bool(pending)
    result.seconds = clock() - began
    result.ops = len(result.latencies)
    return result

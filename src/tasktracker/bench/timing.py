"""Interleaved timing: the contenders (the raw driver, the project's paths, the peers) take
turns, call by call, after a warm-up.

Each round gives every side the same parameters; the order rotates (A B C, B C A, C A B …)
so each side runs first equally often and none always finds caches another just warmed
(with two sides: A B, B A, A B …). Every loop is bounded in count and in time. The garbage
collector stays on (it is part of what a caller pays) but is run before each operation so
one operation's garbage is not collected during the next.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Stats:
    """Latencies of one side, in seconds."""

    n: int
    median: float
    p95: float
    p99: float
    mean: float
    minimum: float
    maximum: float

    @classmethod
    def timed(cls, call: Callable[[int], object], rounds: int) -> Stats:
        """The latencies of `rounds` calls one after another, each given its round number."""
        samples = []
        for i in range(rounds):
            began = time.perf_counter()
            call(i)
            samples.append(time.perf_counter() - began)
        return cls.of(samples)

    @classmethod
    def of(cls, samples: list[float]) -> Stats:
        if not samples:
            return cls(0, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan)
        ordered = sorted(samples)
        return cls(
            n=len(ordered),
            median=statistics.median(ordered),
            p95=quantile(ordered, 0.95),
            p99=quantile(ordered, 0.99),
            mean=statistics.fmean(ordered),
            minimum=ordered[0],
            maximum=ordered[-1],
        )

    def as_dict(self, scale: float = 1000.0) -> dict[str, float | int]:
        """Milliseconds by default."""
        return {
            "n": self.n,
            "median": _round(self.median * scale),
            "p95": _round(self.p95 * scale),
            "p99": _round(self.p99 * scale),
            "mean": _round(self.mean * scale),
            "min": _round(self.minimum * scale),
            "max": _round(self.maximum * scale),
        }


def _round(value: float) -> float:
    return value if math.isnan(value) else round(value, 4)


def quantile(ordered: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted samples."""
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Budget:
    """How long one operation is timed: warm-up rounds, then up to `rounds` or `seconds`."""

    warmup: int = 30
    rounds: int = 1_000
    seconds: float = 8.0


@dataclass
class Samples:
    """Wall-clock latencies of each side, and the CPU time this process spent on each call
    (what the client side costs, whatever the server and the other processes do)."""

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]
    seconds: float = 0.0


def interleaved(
    sides: Mapping[str, Callable[[Any], object]],
    params: Callable[[int], Any],
    budget: Budget,
    *,
    after: Callable[[], None] | None = None,
) -> Samples:
    """Time `side(params(i))` for every side, in turns, for i = 0, 1, ….

    `params(i)` must give equal parameters for equal `i` (it is called once per side, so
    it can hand out fresh copies); it and `after` (cleanup after each call) run outside
    the timed region.
    """
    names = list(sides)
    clock = time.perf_counter
    for i in range(budget.warmup):
        for name in names:
            sides[name](params(i))
            _then(after)
    gc.collect()
    cpu = time.process_time
    result = Samples({name: [] for name in names}, {name: [] for name in names})
    started = clock()
    deadline = started + budget.seconds
    for i in range(budget.rounds):
        for name in _turn(names, i):
            fn, p = sides[name], params(i)
            c0 = cpu()
            t0 = clock()
            fn(p)
            result.wall[name].append(clock() - t0)
            result.cpu[name].append(cpu() - c0)
            _then(after)
        if clock() >= deadline:
            break
    result.seconds = clock() - started
    return result


async def interleaved_async(
    sides: Mapping[str, Callable[[Any], Awaitable[object]]],
    params: Callable[[int], Any],
    budget: Budget,
) -> Samples:
    """`interleaved` for coroutine functions, awaited one at a time in the running loop:
    a side's latency is from the call to the end of its await."""
    names = list(sides)
    clock = time.perf_counter
    for i in range(budget.warmup):
        for name in names:
            await sides[name](params(i))
    gc.collect()
    cpu = time.process_time
    result = Samples({name: [] for name in names}, {name: [] for name in names})
    started = clock()
    deadline = started + budget.seconds
    for i in range(budget.rounds):
        for name in _turn(names, i):
            fn, p = sides[name], params(i)
            c0 = cpu()
            t0 = clock()
            await fn(p)
            result.wall[name].append(clock() - t0)
            result.cpu[name].append(cpu() - c0)
        if clock() >= deadline:
            break
    result.seconds = clock() - started
    return result


def _turn(names: list[str], i: int) -> list[str]:
    """Round `i`'s order: A B C, then B C A, then C A B, ..."""
    turn = i % len(names)
    return names[turn:] + names[:turn]


def _then(after: Callable[[], None] | None) -> None:
    if after is not None:
        after()

"""What each operation may cost, per project path: the targets of issues 24 and 17.

A latency target is the most a path's median may be, as a multiple of the raw driver's in
the same run; a throughput target (bulk load, pooled workers) the least. They are
published beside every ratio, so a run says itself which ones it meets.
"""

from __future__ import annotations

from collections.abc import Mapping

from tasktracker.bench.results import FAST, LABELS, ORM

Bounds = Mapping[str, float]
"""Path name -> bound; a path with no bound has no target."""

_READ = {FAST: 1.3, ORM: 2.0}
_POSTGRESQL: dict[str, Bounds] = {
    "page": _READ,  # every `page_<sort>`
    "get_task": _READ,
    "keyset_page": _READ,
    "latest_messages": _READ,
    "counts_by_status": {FAST: 1.3, ORM: 1.5},
    "specification": {FAST: 1.3, ORM: 3.0},
    "insert_task": {FAST: 1.2, ORM: 1.6},  # against raw in a transaction
    "bulk_load": {FAST: 0.9},  # against COPY
    "pooled_page": {FAST: 0.8, ORM: 0.4},  # threads or tasks within the pool
    # issue 17: an async unit's single operation, against the raw driver's async connection
    "async_get_task": {FAST: 1.5, ORM: 2.0},
    "async_page": {FAST: 1.5, ORM: 2.0},
    "async_latest_messages": {FAST: 1.5, ORM: 2.0},
    "async_insert_task": {FAST: 1.5, ORM: 1.6},
}
POOLED_P99 = 2.0
"""Beyond the pool (100 asyncio tasks over 20 connections): the most a path's p99 latency
may be, as a multiple of the raw pool's p99 (issue 17)."""
_SQLITE: dict[str, Bounds] = {
    "page": {FAST: 1.5, ORM: 2.5},
    "get_task": {FAST: 2.0, ORM: 3.0},
}


def bounds(key: str, *, postgres: bool) -> Bounds:
    """The bounds of operation `key` on this backend (none: no target)."""
    table = _POSTGRESQL if postgres else _SQLITE
    return table.get("page" if key.startswith("page_") else key, {})


def describe(bounds: Bounds, *, floor: bool = False) -> str | None:
    """As the tables print it: `fast path <= 1.3x, ORM path <= 2.0x`."""
    sign = ">=" if floor else "<="
    parts = [f"{LABELS[name]} {sign} {bound}x" for name, bound in bounds.items()]
    return ", ".join(parts) or None


def met(bounds: Bounds, ratios: Mapping[str, float], *, floor: bool = False) -> dict[str, bool]:
    """For each bounded path that ran, whether its ratio meets its bound."""
    return {
        name: ratios[name] >= bound if floor else ratios[name] <= bound
        for name, bound in bounds.items()
        if name in ratios
    }
